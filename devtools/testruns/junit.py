"""Each test's outcome from pytest's own JUnit XML (xunit1 or xunit2): no plugin in the image.

How pytest writes outcomes (checked against pytest 7 and 8):
- passed: a bare <testcase>; a non-strict XPASS looks exactly the same (pytest records nothing
  more), so it counts as passed;
- failed: <failure>; a strict XPASS is a <failure> whose message starts "[XPASS(strict)]": xpassed;
- error: <error> (setup or teardown; collection errors have an empty classname);
- skipped: <skipped type="pytest.skip">; xfailed: <skipped type="pytest.xfail">; older pytests
  wrote an XPASS as <skipped message="xfail-marked test passes unexpectedly">: xpassed.
A test that fails and then errors in teardown appears twice: the worse outcome is kept.

Ids: pytest writes classname "tests.unit.test_x.TestC" and name "test_p[a::b]"; the node id is
rebuilt as "tests/unit/test_x.py::TestC::test_p[a::b]". Where the module ends is known from xunit1's
`file` attribute (omc-dev asks for xunit1); for xunit2 a dotted part starting with "Test" begins
the classes (pytest's default `python_classes`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from devtools.errors import UnusableInput
from devtools.testruns.model import ResultSet, TestOutcome

XPASS_STRICT = "[XPASS(strict)]"
XPASS_OLD = "xfail-marked test passes unexpectedly"
# Which of two records for one id wins: the worse one.
_SEVERITY = {"error": 5, "failed": 4, "xpassed": 3, "passed": 2, "xfailed": 1, "skipped": 0}


def read_junit(path: Path) -> ResultSet:
    """The outcomes in `path`; UnusableInput (exit 2) for a missing, truncated or foreign file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnusableInput(f"{path}: no such JUnit XML file") from None
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None
    return parse_junit(data, str(path))


def parse_junit(data: bytes, source: str = "JUnit XML") -> ResultSet:
    if not data.strip():
        raise UnusableInput(
            f"{source}: empty JUnit XML (pytest crashed or was killed before writing it)"
        )
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise UnusableInput(
            f"{source}: truncated or corrupt JUnit XML ({exc}): "
            "pytest crashed or was killed while writing it; run the tests again"
        ) from None
    if root.tag not in ("testsuites", "testsuite"):
        raise UnusableInput(f"{source}: not JUnit XML (the root element is <{root.tag}>)")
    order: list[str] = []
    found: dict[str, TestOutcome] = {}
    prefixes: dict[tuple[str, str | None], str] = {}  # a module's tests share one classname
    for case in root.iter("testcase"):
        test = _outcome(case, prefixes)
        previous = found.get(test.id)
        if previous is None:
            order.append(test.id)
            found[test.id] = test
        else:
            worse = test if _SEVERITY[test.outcome] > _SEVERITY[previous.outcome] else previous
            found[test.id] = TestOutcome(
                test.id, worse.outcome, previous.duration + test.duration, worse.message
            )
    return ResultSet([found[i] for i in order])


def _outcome(case: ET.Element, prefixes: dict[tuple[str, str | None], str]) -> TestOutcome:
    key = (case.get("classname", ""), case.get("file"))
    prefix = prefixes.get(key)
    if prefix is None:
        prefix = prefixes[key] = node_id(key[0], "", key[1])
    test_id = prefix + case.get("name", "")
    try:
        duration = float(case.get("time") or 0)
    except ValueError:
        duration = 0.0
    outcome, message = "passed", ""
    for child in case:
        text = child.get("message") or (child.text or "")
        if child.tag == "error":
            outcome, message = "error", text
            break
        if child.tag == "failure":
            outcome = "xpassed" if text.startswith(XPASS_STRICT) else "failed"
            message = text
            break
        if child.tag == "skipped":
            if child.get("type") == "pytest.xfail":
                outcome = "xfailed"
            elif text.startswith(XPASS_OLD):
                outcome = "xpassed"
            else:
                outcome = "skipped"
            message = text
            break
    return TestOutcome(test_id, outcome, duration, _first_line(message) if message else "")


def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line[:300]


def node_id(classname: str, name: str, file: str | None = None) -> str:
    """pytest's node id from JUnit's classname and name (the reverse of pytest's mangling)."""
    if not classname:
        return name  # a collection error: name is the module's path, as pytest reported it
    parts = classname.split(".")
    module_parts = _module_length(parts, file)
    module = "/".join(parts[:module_parts]) + ".py"  # pytest dropped the suffix
    return "::".join([module, *parts[module_parts:], name])


def _module_length(parts: list[str], file: str | None) -> int:
    """How many leading dotted parts of a classname are the module's path."""
    if file and file.endswith(".py"):
        module = file[:-3].replace("\\", "/").split("/")
        if parts[: len(module)] == module:
            return len(module)
    for index, part in enumerate(parts[1:], 1):
        if part.startswith("Test"):
            return index
    return len(parts)
