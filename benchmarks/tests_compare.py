"""`omc-dev tests compare` on 20,000 tests, in process.

Subject: read a JUnit XML result and the committed baseline file, compare per test id, build the
findings (what `compare` does before printing). Anchor, measured interleaved: parsing the same
two files alone, the floor under any comparison. Prints medians, the ratio, and the absolute
time against the issue's target (<= 200 ms).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from devtools.testruns.baseline import read_baseline, save_baseline
from devtools.testruns.compare import compare, findings
from devtools.testruns.junit import read_junit
from devtools.testruns.model import ResultSet, TestOutcome

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

        def subject() -> None:
            result = compare(read_baseline(baseline_path), read_junit(xml_path))
            findings(result, max_failed=None, max_errors=None)

        def anchor() -> None:
            read_baseline(baseline_path)
            read_junit(xml_path)

        times: dict[str, list[float]] = {"subject": [], "anchor": []}
        subject()
        anchor()
        for _ in range(args.runs):
            for name, fn in (("subject", subject), ("anchor", anchor)):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        subject_ms = statistics.median(times["subject"]) * 1000
        anchor_ms = statistics.median(times["anchor"]) * 1000
        print(f"compare {args.tests} tests: {subject_ms:.1f} ms (median of {args.runs})")
        print(f"anchor (parse both files): {anchor_ms:.1f} ms; ratio {subject_ms / anchor_ms:.2f}")
        verdict = "within" if subject_ms <= TARGET_MS else "OVER"
        print(f"target <= {TARGET_MS:.0f} ms: {verdict}")
        return 0 if subject_ms <= TARGET_MS else 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
