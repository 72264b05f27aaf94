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

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from itertools import compress
from operator import add, itemgetter
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
    fast = _scan(data)
    if fast is not None:
        return fast
    return parse_tree(data, source)


def parse_tree(data: bytes, source: str = "JUnit XML") -> ResultSet:
    """The outcomes read through ElementTree: any JUnit XML shape (and the reference the fast
    scan is tested against)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise UnusableInput(
            f"{source}: truncated or corrupt JUnit XML ({exc}): "
            "pytest crashed or was killed while writing it; run the tests again"
        ) from None
    if root.tag not in ("testsuites", "testsuite"):
        raise UnusableInput(f"{source}: not JUnit XML (the root element is <{root.tag}>)")
    prefixes: dict[tuple[str, str | None], str] = {}  # a module's tests share one classname
    return _collect(_outcome(case, prefixes) for case in root.iter("testcase"))


def _collect(tests: Iterable[TestOutcome]) -> ResultSet:
    """The tests in run order; a test recorded twice (a failure, then a teardown error) once,
    with its worse outcome."""
    order: list[str] = []
    found: dict[str, TestOutcome] = {}
    for test in tests:
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


# The fast path: pytest writes one flat, regular shape (no CDATA, no DTD, attributes in double
# quotes), which string splitting reads several times faster than building the element tree; a
# document of any other shape, or one the scan cannot account for, goes to ElementTree.
_CHILD = re.compile(r"<(failure|error|skipped)\b([^>]*?)(/?)>", re.DOTALL)
_ENDS = ("</testsuites>", "</testsuite>")
_NAME = re.compile(r"\s+[\w:.-]+=")


def _scan(data: bytes) -> ResultSet | None:
    """The outcomes, read by the regular shape pytest writes; None: use the XML parser."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # A truncated file has lost its end; the parser then says so in its own words.
    if not text[-256:].rstrip().endswith(_ENDS) or "<!" in text:  # "<!": CDATA, DTD, comment
        return None
    try:
        chunks = text.split("<testcase ")
        if len(chunks) - 1 == text.count("<testcase"):
            fast = _columns(text, chunks)
            if fast is not None:
                return fast
        return _collect(_scanned(text.split("<testcase")[1:]))
    except _Irregular:
        return None


# pytest's own attribute order: classname, name, then file and line (xunit1), then time. The
# last group says how the element goes on: closed (`/>`), closed at once, or with children.
_PYTEST_CASE = re.compile(
    r'<testcase classname="([^"]*)" name="([^"]*)"(?: file="([^"]*)" line="[^"]*")?'
    r' time="([^"]*)"(/>|></testcase>|>)'
)


def _columns(text: str, chunks: list[str]) -> ResultSet | None:
    """Cases in pytest's own attribute order read into columns, with one regular expression and
    no Python step per test (map, zip and compress run in C); None when a case has another shape
    or an id repeats. `chunks`: the text split at each `<testcase `."""
    rows = _PYTEST_CASE.findall(text)
    if len(rows) != len(chunks) - 1:
        return None
    classnames = list(map(itemgetter(0), rows))
    names = list(map(itemgetter(1), rows))
    files = set(zip(classnames, map(itemgetter(2), rows), strict=True))
    if len(files) != len(set(classnames)):
        return None  # one classname in two files: not pytest's shape
    prefixes = {c: node_id(_plain(c), "", _plain(f) or None) for c, f in files}
    joined = "\0".join(names)
    if "&" in joined or "<" in joined or "\n" in joined or "\t" in joined or "\r" in joined:
        names = [_plain(name) for name in names]
    ids = list(map(add, map(prefixes.__getitem__, classnames), names))
    try:
        durations = list(map(float, map(itemgetter(3), rows)))
    except ValueError:
        return None
    outcomes = ["passed"] * len(rows)
    messages: dict[str, str] = {}
    with_children = compress(range(len(rows)), map(">".__eq__, map(itemgetter(4), rows)))
    for index in with_children:
        # Children: an outcome, or only properties and captured output (still a pass).
        body, ended, _ = chunks[index + 1].partition("</testcase>")
        if not ended:
            return None
        body = body.partition(">")[2]
        if "<" in body:
            outcomes[index], message = _scanned_outcome(body)
            if message:
                messages[ids[index]] = _first_line(message)
    by_id = dict(zip(ids, outcomes, strict=True))
    if len(by_id) != len(ids):
        return None  # a test recorded twice (failed, then errored in teardown): the slow path
    return ResultSet.from_columns(ids, outcomes, durations, messages, by_id=by_id)


def _plain(value: str) -> str:
    if "<" in value:
        raise _Irregular
    if "&" in value or "\n" in value or "\t" in value or "\r" in value:
        return _attribute_value(value)
    return value


class _Irregular(Exception):
    """The scan met something it does not read exactly as an XML parser would."""


def _scanned(chunks: list[str]) -> Iterator[TestOutcome]:
    """Each chunk: what follows one `<testcase`, up to the next."""
    prefixes: dict[tuple[str, str | None], str] = {}
    for chunk in chunks:
        raw, closed, rest = chunk.partition(">")
        if not closed or not raw[:1].isspace():
            raise _Irregular  # `<testcases`, or a tag the split cut
        if raw.endswith("/"):
            raw, body = raw[:-1], ""
        else:
            body, ended, _ = rest.partition("</testcase>")
            if not ended:
                raise _Irregular
        attr = _attributes(raw)
        key = (attr.get("classname", ""), attr.get("file"))
        prefix = prefixes.get(key)
        if prefix is None:
            prefix = prefixes[key] = node_id(key[0], "", key[1])
        try:
            duration = float(attr.get("time") or 0)
        except ValueError:
            duration = 0.0
        test_id = prefix + attr.get("name", "")
        if "<" not in body:
            yield TestOutcome(test_id, "passed", duration)
            continue
        outcome, message = _scanned_outcome(body)
        yield TestOutcome(test_id, outcome, duration, _first_line(message) if message else "")


def _attributes(raw: str) -> dict[str, str]:
    """`name="value"` pairs; values hold no `"` (XML escapes it), so a split finds them."""
    parts = raw.split('"')
    names, values = parts[0::2], parts[1::2]
    if names[-1].strip():
        raise _Irregular  # an odd number of quotes (a single-quoted value fails the name test)
    if not all(map(_NAME.fullmatch, names[:-1])) or "<" in raw:
        raise _Irregular
    keys = [name.strip()[:-1] for name in names[:-1]]
    if any(special in raw for special in "&\t\n\r"):
        values = [_attribute_value(value) for value in values]
    return dict(zip(keys, values, strict=True))


def _scanned_outcome(body: str) -> tuple[str, str]:
    child = _CHILD.search(body)
    if child is None:
        return "passed", ""  # properties, system-out, system-err: no outcome of their own
    tag, raw, empty = child.groups()
    child_attr = _attributes(raw)
    text = child_attr.get("message") or ""
    if not text and not empty:
        inner, ended, _ = body[child.end() :].partition(f"</{tag}>")
        if not ended:
            raise _Irregular
        text = _text(inner)
    if tag == "error":
        return "error", text
    if tag == "failure":
        return ("xpassed" if text.startswith(XPASS_STRICT) else "failed"), text
    if child_attr.get("type") == "pytest.xfail":
        return "xfailed", text
    return ("xpassed" if text.startswith(XPASS_OLD) else "skipped"), text


def _attribute_value(value: str) -> str:
    # As an XML parser does: literal whitespace becomes a space, then references are expanded.
    value = value.replace("\r\n", " ").translate(_WHITESPACE)
    return _text(value)


_WHITESPACE = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def _text(value: str) -> str:
    value = value.replace("\r\n", "\n")
    if "&" not in value:
        return value
    if "<" in value:
        raise _Irregular  # markup inside the text: let the parser read it
    return html.unescape(value)
