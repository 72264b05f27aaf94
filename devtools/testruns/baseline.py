"""The committed baseline: one `outcome<TAB>test id` line per test, sorted, with a counts header.

Sorted by id so a PR diff shows exactly the tests that changed. Test ids may hold anything pytest
allows (`::`, `[`, spaces, non-ASCII); a backslash, tab, newline or carriage return is written as
`\\\\`, `\\t`, `\\n`, `\\r` so each test stays on one line. The header's counts are checked on
reading: a hand edit that changes a line but not the counts is caught, not trusted.
"""

from __future__ import annotations

import re
from pathlib import Path

from devtools.atomic import write_atomic
from devtools.errors import UnusableInput
from devtools.testruns.model import OUTCOMES, RANK, ResultSet, TestOutcome, count_outcomes

MAGIC = "# omc-dev tests baseline v1"
_COUNTS = re.compile(r"^# counts: (.*)$")
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
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r") != MAGIC:
        raise UnusableInput(
            f"{source}: not an omc-dev tests baseline (the first line must be {MAGIC!r}): "
            "write it with `omc-dev tests baseline save`"
        )
    declared: dict[str, int] | None = None
    tests: dict[str, TestOutcome] = {}
    for number, raw in enumerate(lines[1:], 2):
        line = raw.rstrip("\r")
        if not line:
            continue
        if line.startswith("#"):
            match = _COUNTS.match(line)
            if match:
                declared = _parse_counts(match.group(1), source, number)
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
        if test_id in tests:
            raise UnusableInput(f"{source}:{number}: test {escaped} is listed twice")
        tests[test_id] = TestOutcome(test_id, outcome)
    if declared is None:
        raise UnusableInput(f"{source}: the '# counts:' header line is missing")
    actual = count_outcomes(t.outcome for t in tests.values())
    if actual != declared:
        diff = ", ".join(
            f"{o} {declared[o]} vs {actual[o]}" for o in OUTCOMES if declared[o] != actual[o]
        )
        raise UnusableInput(
            f"{source}: the counts header disagrees with the lines ({diff}): "
            "the file was edited by hand; write it again with `omc-dev tests baseline save`"
        )
    return ResultSet(list(tests.values()), {"source": source})


def _parse_counts(text: str, source: str, number: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in text.split():
        key, _, value = item.partition("=")
        if key not in RANK or not value.isdigit():
            raise UnusableInput(f"{source}:{number}: bad counts header item {item!r}")
        counts[key] = int(value)
    return {o: counts.get(o, 0) for o in OUTCOMES}


def read_baseline(path: Path) -> ResultSet:
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
    return parse_baseline(text, str(path))
