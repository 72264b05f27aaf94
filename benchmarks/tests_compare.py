"""`omc-dev tests compare` on 20,000 tests, in process.

Subject: read a JUnit XML result and the committed baseline file, compare per test id, build the
findings and print them (concise, to memory): what `compare` does after its imports. Anchor,
measured interleaved: the standard library alone on the same two files (ElementTree builds the
XML's tree, the baseline is split into lines), independent of omc-dev's code, so the ratio
compares versions of omc-dev. Prints each phase, medians, the ratio, and the absolute time
against the issue's target (<= 200 ms).

Measured on a loaded 2-core machine (eight sessions; old and new interleaved in one window): at
598cba4 the subject was 2.81x the anchor (988 ms) and the default RESULT (the latest run, stored
as JSON) 1.39x (535 ms); after, 0.99x (434 ms) and 0.65x (286 ms). On the same machine unloaded
(after CI): 1.00x (103 ms) and 0.67x (69.5 ms), within the 200 ms target.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from devtools.report.render import render
from devtools.report.report import Report
from devtools.testruns.baseline import read_outcomes, save_baseline
from devtools.testruns.compare import compare, findings
from devtools.testruns.junit import read_junit
from devtools.testruns.model import ResultSet, TestOutcome
from devtools.testruns.store import load_result, save_result

TARGET_MS = 200.0


def junit(tests: list[TestOutcome]) -> str:
    child = {"passed": "", "failed": '<failure message="assert 0">trace</failure>'}
    cases = []
    for t in tests:
        module, _, name = t.id.partition("::")
        cls = module.removesuffix(".py").replace("/", ".")
        cases.append(
            f'<testcase classname="{cls}" name="{name}" file="{module}" line="1" time="0.01">'
            f"{child[t.outcome]}</testcase>"
        )
    body = "\n".join(cases)
    return (
        f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{body}</testsuite></testsuites>'
    )


def _medians(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median milliseconds of each function, measured interleaved after one warm-up call."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tests", type=int, default=20_000)
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="omc-bench-tests-"))
    try:
        before = [
            TestOutcome(f"tests/test_m{i // 50}.py::test_case[{i}-x y]", "passed")
            for i in range(args.tests)
        ]
        # 1% regress, 1% are renamed: a realistic day's change.
        after = [
            TestOutcome(
                t.id + ("_renamed" if i % 100 == 1 else ""),
                "failed" if i % 100 == 0 else "passed",
            )
            for i, t in enumerate(before)
        ]
        baseline_path, xml_path = base / "tests-baseline.txt", base / "result.xml"
        save_baseline(baseline_path, ResultSet(before))
        xml_path.write_text(junit(after))

        store = base / "store"
        save_result(store, "latest-run", read_junit(xml_path))

        def subject() -> None:
            result = compare(read_outcomes(baseline_path), read_junit(xml_path))
            found = findings(result, max_failed=None, max_errors=None)
            render(Report("tests compare", found), "concise", io.StringIO())

        def stored() -> None:
            """`omc-dev tests compare` with no RESULT: the latest `tests run`, stored as JSON."""
            result = compare(read_outcomes(baseline_path), load_result(store, None))
            found = findings(result, max_failed=None, max_errors=None)
            render(Report("tests compare", found), "concise", io.StringIO())

        def anchor() -> None:
            baseline_path.read_text(encoding="utf-8").split("\n")
            ET.fromstring(xml_path.read_bytes())

        baseline = read_outcomes(baseline_path)
        result = read_junit(xml_path)
        comparison = compare(baseline, result)
        found = findings(comparison, max_failed=None, max_errors=None)
        phases: dict[str, Callable[[], object]] = {
            "read the baseline": lambda: read_outcomes(baseline_path),
            "read the result (JUnit XML)": lambda: read_junit(xml_path),
            "read the result (stored, the default)": lambda: load_result(store, None),
            "diff": lambda: compare(baseline, result),
            "findings and render": lambda: render(
                Report("tests compare", findings(comparison, max_failed=None, max_errors=None)),
                "concise",
                io.StringIO(),
            ),
        }
        medians = _medians(
            {"subject": subject, "stored": stored, "anchor": anchor, **phases}, args.runs
        )
        anchor_ms = medians["anchor"]
        for name in phases:
            ms = medians[name]
            print(f"  {name}: {ms:.1f} ms ({ms / anchor_ms:.2f}x the anchor)")
        print(f"  ({len(found)} findings)")
        subject_ms, stored_ms = medians["subject"], medians["stored"]
        print(
            f"compare {args.tests} tests, stored result (the default): {stored_ms:.1f} ms; "
            f"ratio {stored_ms / anchor_ms:.2f}"
        )
        print(f"compare {args.tests} tests: {subject_ms:.1f} ms (median of {args.runs})")
        print(
            f"anchor (stdlib parse of both files): {anchor_ms:.1f} ms; ratio {subject_ms / anchor_ms:.2f}"
        )
        verdict = "within" if subject_ms <= TARGET_MS else "OVER"
        print(f"target <= {TARGET_MS:.0f} ms: {verdict}")
        return 0 if subject_ms <= TARGET_MS else 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
