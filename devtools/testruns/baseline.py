"""The committed baseline: one `outcome<TAB>test id` line per test, sorted, with a counts header.

Sorted by id so a PR diff shows exactly the tests that changed. Test ids may hold anything pytest
allows (`::`, `[`, spaces, non-ASCII); a backslash, tab, newline or carriage return is written as
`\\\\`, `\\t`, `\\n`, `\\r` so each test stays on one line. The header's counts are checked on
reading: a hand edit that changes a line but not the counts is caught, not trusted.
"""

from __future__ import annotations

import re
from operator import itemgetter
from pathlib import Path
from typing import NoReturn

from devtools.atomic import write_atomic
from devtools.errors import UnusableInput
from devtools.testruns.model import OUTCOMES, RANK, ResultSet, count_outcomes

MAGIC = "# omc-dev tests baseline v1"
_COUNTS = re.compile(r"^# counts: (.*)$")
_LINE = re.compile(rf"^({'|'.join(OUTCOMES)})\t(.+)$", re.MULTILINE)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_ESCAPED = re.compile(r"\\(.?)", re.DOTALL)


def escape_id(test_id: str) -> str:
    return test_id.translate(_ESCAPES)


def _unescape_one(match: re.Match[str]) -> str:
    char = match.group(1)
    if char not in _UNESCAPES:
        raise ValueError(f"unknown escape \\{char}")
    return _UNESCAPES[char]


def unescape_id(text: str) -> str:
    if "\\" not in text:
        return text  # the common case: nothing to undo
    return _ESCAPED.sub(_unescape_one, text)


def format_baseline(results: ResultSet) -> str:
    """The file's text: header, counts, then one line per test sorted by id."""
    by_id = results.by_id()
    counts = count_outcomes(t.outcome for t in by_id.values())
    lines = [
        MAGIC,
        "# Written by `omc-dev tests baseline save`; compare with `omc-dev tests compare`.",
        "# counts: " + " ".join(f"{o}={counts[o]}" for o in OUTCOMES),
    ]
    for test_id in sorted(by_id):
        lines.append(f"{by_id[test_id].outcome}\t{escape_id(test_id)}")
    return "\n".join(lines) + "\n"


def save_baseline(path: Path, results: ResultSet) -> None:
    write_atomic(path, format_baseline(results))


def parse_baseline(text: str, source: str) -> ResultSet:
    """The baseline in `text`; UnusableInput naming the first bad line otherwise."""
    tests = parse_outcomes(text, source)
    ids = list(tests)
    return ResultSet.from_columns(
        ids, list(tests.values()), [0.0] * len(ids), {}, {"source": source}
    )


def parse_outcomes(text: str, source: str) -> dict[str, str]:
    """Test id -> outcome from the baseline in `text` (what compare needs, no object per test);
    UnusableInput naming the first bad line otherwise."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    head = text.split("\n", 16)  # the header: a few lines; the body stays one string
    if head[0] != MAGIC:
        raise UnusableInput(
            f"{source}: not an omc-dev tests baseline (the first line must be {MAGIC!r}): "
            "write it with `omc-dev tests baseline save`"
        )
    declared: dict[str, int] | None = None
    header = 1
    while header < len(head) - 1 and head[header].startswith("#"):
        match = _COUNTS.match(head[header])
        if match:
            declared = _parse_counts(match.group(1), source, header + 1)
        header += 1
    body = head[header] if header == len(head) - 1 else "\n".join(head[header:])
    body = body.strip("\n")
    if "\n\n" in body or "\n#" in body or body.startswith("#"):
        # A blank line or a comment added by hand among the tests: skipped.
        body = "\n".join(ln for ln in body.split("\n") if ln and not ln.startswith("#"))
    # One regular expression over all the lines (C speed, no Python step per test): a line it
    # does not take, or an id twice, sends the slow walk to name the first bad line.
    rows = _LINE.findall(body)
    tests = dict(zip(map(itemgetter(1), rows), map(itemgetter(0), rows), strict=True))
    if len(rows) != (body.count("\n") + 1 if body else 0) or len(tests) != len(rows):
        _raise_first_bad(text.split("\n"), header, source)
    if "\\" in text:
        try:
            unescaped = {unescape_id(k): v for k, v in tests.items()}
        except ValueError:
            _raise_first_bad(text.split("\n"), header, source)
        if len(unescaped) != len(tests):
            _raise_first_bad(text.split("\n"), header, source)
        tests = unescaped
    if declared is None:
        raise UnusableInput(f"{source}: the '# counts:' header line is missing")
    actual = count_outcomes(tests.values())
    if actual != declared:
        diff = ", ".join(
            f"{o} {declared[o]} vs {actual[o]}" for o in OUTCOMES if declared[o] != actual[o]
        )
        raise UnusableInput(
            f"{source}: the counts header disagrees with the lines ({diff}): "
            "the file was edited by hand; write it again with `omc-dev tests baseline save`"
        )
    return tests


def _raise_first_bad(lines: list[str], header: int, source: str) -> NoReturn:
    """The slow walk, only once something is wrong: name the first bad line and why."""
    seen: set[str] = set()
    for number, line in enumerate(lines[header:], header + 1):
        if not line or line.startswith("#"):
            continue
        outcome, tab, escaped = line.partition("\t")
        if not tab or outcome not in RANK or not escaped:
            raise UnusableInput(
                f"{source}:{number}: expected 'OUTCOME<TAB>TEST ID' with OUTCOME one of "
                f"{', '.join(OUTCOMES)}: the file was edited by hand or corrupted; "
                "write it again with `omc-dev tests baseline save`"
            )
        try:
            test_id = unescape_id(escaped)
        except ValueError as exc:
            raise UnusableInput(f"{source}:{number}: {exc} in the test id") from None
        if test_id in seen:
            raise UnusableInput(f"{source}:{number}: test {escaped} is listed twice")
        seen.add(test_id)
    raise UnusableInput(f"{source}: corrupt baseline")  # not reached: the fast checks agree


def _parse_counts(text: str, source: str, number: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in text.split():
        key, _, value = item.partition("=")
        if key not in RANK or not value.isdigit():
            raise UnusableInput(f"{source}:{number}: bad counts header item {item!r}")
        counts[key] = int(value)
    return {o: counts.get(o, 0) for o in OUTCOMES}


def read_baseline(path: Path) -> ResultSet:
    return parse_baseline(_read(path), str(path))


def read_outcomes(path: Path) -> dict[str, str]:
    """Test id -> outcome from the baseline file at `path` (see parse_outcomes)."""
    return parse_outcomes(_read(path), str(path))


def _read(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UnusableInput(
            f"{path}: no baseline yet: write one with `omc-dev tests baseline save`"
        ) from None
    except UnicodeDecodeError:
        raise UnusableInput(f"{path}: the baseline is not UTF-8 text") from None
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None
    return text
