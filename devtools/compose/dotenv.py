"""`.env` and `env_file` files as Compose reads them, with the line each variable starts on.

The syntax follows compose-go's dotenv: `KEY=VALUE`, `KEY: VALUE`, an optional `export `,
`#` comments (inline after unquoted values when preceded by a space), single quotes literal,
double quotes with backslash escapes, both able to span lines, and a bare `KEY` (taken from the
environment). Anything else is an error naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from devtools.errors import UnusableInput

_KEY = re.compile(r"[A-Za-z0-9_.\-\[\]]+")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | None  # None: a bare `KEY`, taken from the environment
    path: Path
    line: int
    quoted: bool = False


class DotenvError(UnusableInput):
    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


def _split_key(body: str, path: Path, line: int) -> tuple[str, str | None]:
    match = re.match(r"\s*([^=:]*?)\s*[=:]", body)
    if match is None:
        key = body.strip()
        if not _KEY.fullmatch(key):
            raise DotenvError(path, line, f"{key!r} is not KEY=VALUE")
        return key, None
    key = match.group(1)
    if not key:
        raise DotenvError(path, line, "no variable name before '='")
    if any(c.isspace() for c in key):
        raise DotenvError(path, line, f"variable name {key!r} contains a space")
    if not _KEY.fullmatch(key):
        raise DotenvError(path, line, f"variable name {key!r} has characters Compose rejects")
    return key, body[match.end() :]


def parse_text(text: str, path: Path) -> list[EnvVar]:
    found: list[EnvVar] = []
    # A UTF-8 byte order mark (editors on Windows write one) is not part of the first name:
    # Compose skips it too.
    lines = text.removeprefix("\ufeff").splitlines()
    index = 0
    while index < len(lines):
        number, raw = index + 1, lines[index]
        index += 1
        body = raw.strip()
        if not body or body.startswith("#"):
            continue
        if body.startswith("export ") or body.startswith("export\t"):
            body = body[len("export") :].lstrip()
        key, rest = _split_key(body, path, number)
        if rest is None:
            found.append(EnvVar(key, None, path, number))
            continue
        rest = rest.lstrip()
        if rest[:1] in ("'", '"'):
            quote = rest[0]
            chunk, consumed = rest[1:], 0
            # A quoted value may run over several lines, up to its closing quote.
            while _closing(chunk, quote) < 0:
                if index + consumed >= len(lines):
                    raise DotenvError(path, number, f"unterminated quoted value {rest[:20]!r}")
                chunk += "\n" + lines[index + consumed]
                consumed += 1
            index += consumed
            end = _closing(chunk, quote)
            trailing = chunk[end + 1 :].strip()
            if trailing and not trailing.startswith("#"):
                raise DotenvError(path, number, f"unexpected text after the quoted value of {key}")
            value = chunk[:end] if quote == "'" else _unescape(chunk[:end])
            found.append(EnvVar(key, value, path, number, quoted=True))
            continue
        comment = re.search(r"\s#", rest)
        value = (rest[: comment.start()] if comment else rest).strip()
        found.append(EnvVar(key, value, path, number))
    return found


def _closing(chunk: str, quote: str) -> int:
    escaped = False
    for i, char in enumerate(chunk):
        if escaped:
            escaped = False
        elif char == "\\" and quote == '"':
            escaped = True
        elif char == quote:
            return i
    return -1


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), value)


def parse_file(path: Path) -> list[EnvVar]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise DotenvError(path, line, "not UTF-8 text") from None
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None
    return parse_text(text, path)
