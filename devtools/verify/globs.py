"""Path patterns with git's rules: `*` and `?` stay within a folder, `**` crosses folders.

Used for `.gitattributes` patterns (relative to the attributes file) and for the globs in a
deliverables spec (relative to the repository root).
"""

from __future__ import annotations

import re

_MAGIC = re.compile(r"[*?\[]")


def is_glob(pattern: str) -> bool:
    return bool(_MAGIC.search(pattern))


def _translate_segment(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(text):
            i += 1
            out.append(re.escape(text[i]))
        elif char == "[":
            end = text.find("]", i + 2 if text[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = text[i + 1 : end]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def translate(pattern: str) -> str:
    """A regex (for `fullmatch`) equivalent to a slash-separated glob anchored at its base."""
    parts = pattern.split("/")
    out: list[str] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            if last:
                out.append(".*")  # "dir/**": everything inside
            else:
                out.append("(?:[^/]+/)*")  # "**/" and "/**/": zero or more folders
            continue
        # "**" inside a segment is an ordinary "*" (git's rule)
        out.append(_translate_segment(re.sub(r"\*{2,}", "*", part)))
        if not last:
            out.append("/")
    return "".join(out)


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A root-anchored glob (`src/**/*.py`) as a compiled regex for `fullmatch`."""
    return re.compile(translate(pattern.strip("/")))
