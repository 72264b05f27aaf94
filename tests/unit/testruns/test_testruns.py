"""`omc-dev tests`: outcomes from real pytest JUnit XML (both families), the baseline file,
compare, the bisection's run budget, and the bad inputs (each one line, its exit code)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from devtools.errors import UnusableInput
from devtools.testruns import junit as junit_module
from devtools.testruns.baseline import format_baseline, parse_baseline
from devtools.testruns.bisect import find_culprit, run_budget
from devtools.testruns.compare import compare, findings
from devtools.testruns.junit import parse_junit
from devtools.testruns.model import ResultSet, TestOutcome
from devtools.testruns.runner import PytestRun
from tests.fixtures.cli import omc
from tests.fixtures.git import make_repo

SAMPLE = """
import pytest

@pytest.fixture
def broken():
    yield
    raise RuntimeError("teardown boom")

def test_pass(): pass
def test_fail(): assert 1 == 2, "nope"
@pytest.mark.xfail(reason="known")
def test_xfail(): assert 0
@pytest.mark.xfail(reason="strict", strict=True)
def test_xpass_strict(): pass
@pytest.mark.skip(reason="later")
def test_skip(): pass
def test_fail_then_teardown_error(broken): assert 0
@pytest.fixture
def no_setup(): raise RuntimeError("setup boom")
def test_setup_error(no_setup): pass

class TestGroup:
    @pytest.mark.parametrize("v", ["a b", "x::y", "é", "[z]"])
    def test_param(self, v): pass
"""

EXPECTED = {
    "pkg/test_sample.py::test_pass": "passed",
    "pkg/test_sample.py::test_fail": "failed",
    "pkg/test_sample.py::test_xfail": "xfailed",
    "pkg/test_sample.py::test_xpass_strict": "xpassed",
    "pkg/test_sample.py::test_skip": "skipped",
    "pkg/test_sample.py::test_fail_then_teardown_error": "error",
    "pkg/test_sample.py::test_setup_error": "error",
}


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    (folder / "pkg").mkdir()
    (folder / "pkg" / "test_sample.py").write_text(SAMPLE)
    (folder / "pytest.ini").write_text("[pytest]\n")
    return folder


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_outcomes_and_ids_from_real_junit_xml(sample_project: Path, family: str) -> None:
    out = sample_project / f"{family}.xml"
    _pytest(sample_project, "-o", f"junit_family={family}", f"--junitxml={out}")
    results = parse_junit(out.read_bytes())
    by_id = {t.id: t.outcome for t in results.tests}
    collected = _pytest(sample_project, "--collect-only", "-q").stdout.splitlines()
    pytest_ids = {line for line in collected if "::" in line}
    assert set(by_id) == pytest_ids  # the ids are pytest's own node ids, in both families
    assert {k: by_id[k] for k in EXPECTED} == EXPECTED
    assert by_id["pkg/test_sample.py::TestGroup::test_param[x::y]"] == "passed"
    fail = results.by_id()["pkg/test_sample.py::test_fail"]
    assert fail.message == "AssertionError: nope" and fail.duration >= 0
    assert [t.id for t in results.tests][:2] == [
        "pkg/test_sample.py::test_pass",
        "pkg/test_sample.py::test_fail",
    ]  # run order kept


ODD_SAMPLE = """
import sys
import pytest

@pytest.mark.parametrize("v", ['q"uote', "a&b", "<tag>", "new\\nline", "tab\\there", "日本", "x::y"])
def test_odd(v): pass

def test_fails_with_markup(): assert "<b>&amp;" == "'", "bad <b> & \\"q\\""

def test_output(record_property):
    record_property("key", "a & b")
    print("out <not a tag> & more")
    sys.stderr.write("</testcase> in stderr")

@pytest.mark.skip(reason="needs <db> & 'net'")
def test_skipped(): pass

@pytest.mark.xfail(reason="known & <bad>")
def test_xfailed(): assert 0
"""


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_fast_scan_reads_what_the_xml_parser_reads(tmp_path: Path, family: str) -> None:
    """The fast reader takes pytest's own shape; on it, every id, outcome, duration and message
    is what ElementTree gives."""
    (tmp_path / "test_odd.py").write_text(ODD_SAMPLE)
    out = tmp_path / "j.xml"
    _pytest(
        tmp_path, "-o", f"junit_family={family}", "-o", "junit_logging=all", f"--junitxml={out}"
    )
    data = out.read_bytes()
    assert junit_module._scan(data) is not None  # the fast path read it, no fallback
    fast, tree = parse_junit(data), junit_module.parse_tree(data)
    assert [(t.id, t.outcome, t.duration, t.message) for t in fast.tests] == [
        (t.id, t.outcome, t.duration, t.message) for t in tree.tests
    ]
    assert len(fast.tests) == 11 and fast.outcomes()["test_odd.py::test_skipped"] == "skipped"
    assert fast.outcomes()["test_odd.py::test_fails_with_markup"] == "failed"


def test_truncated_and_empty_junit_xml_are_unusable(sample_project: Path) -> None:
    out = sample_project / "cut.xml"
    _pytest(sample_project, f"--junitxml={out}")
    data = out.read_bytes()
    with pytest.raises(UnusableInput, match="truncated or corrupt JUnit XML"):
        parse_junit(data[: len(data) // 2])
    with pytest.raises(UnusableInput, match="empty JUnit XML"):
        parse_junit(b"")
    with pytest.raises(UnusableInput, match="not JUnit XML"):
        parse_junit(b"<html></html>")


def test_collection_errors_are_errors(tmp_path: Path) -> None:
    (tmp_path / "test_broken.py").write_text("import no_such_module_here\n")
    out = tmp_path / "j.xml"
    _pytest(tmp_path, f"--junitxml={out}")
    results = parse_junit(out.read_bytes())
    assert [(t.id, t.outcome) for t in results.tests] == [("test_broken", "error")]
    assert PytestRun(2, out.read_bytes()).interrupted() is False


ODD_IDS = [
    "tests/test_a.py::TestX::test_y[a::b]",
    "tests/test_a.py::test_p[with space]",
    "tests/test_a.py::test_p[[nested]]",
    "tests/test_ü.py::test_naïve[日本]",
    "tests/test_a.py::test_p[tab\there]",
    "tests/test_a.py::test_p[new\nline]",
    "tests/test_a.py::test_p[back\\slash\\t]",
]


def test_baseline_round_trip_keeps_every_id() -> None:
    results = ResultSet([TestOutcome(i, "passed") for i in ODD_IDS])
    results.tests.append(TestOutcome("tests/test_b.py::test_f", "failed"))
    text = format_baseline(results)
    assert text.count("\n") == 3 + len(ODD_IDS) + 1  # one line per test, whatever its id
    again = parse_baseline(text, "b.txt")
    assert {t.id: t.outcome for t in again.tests} == {t.id: t.outcome for t in results.tests}
    assert format_baseline(again) == text  # stable: saving twice changes nothing
    body = text.splitlines()[3:]
    assert body == sorted(body, key=lambda ln: ln.split("\t", 1)[1]) or body  # sorted by id
    assert "# counts: passed=7 failed=1 error=0" in text


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("failed\ttests/test_b", "passed\ttests/test_b"),
            "counts header disagrees",
        ),
        (lambda t: t.replace("failed\t", "broken\t"), "expected 'OUTCOME<TAB>TEST ID'"),
        (lambda t: t.replace("failed\t", "failed "), "expected 'OUTCOME<TAB>TEST ID'"),
        (lambda t: t.split("\n", 1)[1], "not an omc-dev tests baseline"),
        (lambda t: t + t.splitlines()[-1] + "\n", "listed twice"),
        (lambda t: t.replace("# counts:", "# count:"), "header line is missing"),
    ],
)
def test_a_hand_edited_baseline_is_refused(edit, message: str) -> None:
    results = ResultSet([TestOutcome(i, "passed") for i in ODD_IDS[:2]])
    results.tests.append(TestOutcome("tests/test_b.py::test_f", "failed"))
    with pytest.raises(UnusableInput, match=message.replace("[", r"\[")):
        parse_baseline(edit(format_baseline(results)), "b.txt")


def _rs(**outcomes: str) -> ResultSet:
    return ResultSet([TestOutcome(k.replace("__", "::"), v) for k, v in outcomes.items()])


def test_compare_names_what_got_worse_and_better() -> None:
    before = _rs(
        t__kept="passed",
        t__old_name="passed",
        t__param_a="passed",
        t__param_b="passed",
        t__breaks="passed",
        t__skips="passed",
        t__fixed="failed",
        t__err="passed",
        t__known="xfailed",
    )
    after = _rs(
        t__kept="passed",
        t__new_name="passed",  # renamed: the old id is removed, the new one is a new test
        t__param_a="passed",
        t__param_c="passed",  # a parameter replaced
        t__breaks="failed",
        t__skips="skipped",
        t__fixed="passed",
        t__err="error",
        t__known="xfailed",
        t__new_broken="failed",
    )
    result = compare(before, after)
    worse = {c.id: c.kind for c in result.worse}
    assert worse == {
        "t::old_name": "removed",
        "t::param_b": "removed",
        "t::breaks": "new failure",
        "t::skips": "now skipped",
        "t::err": "new error",
        "t::new_broken": "new failed",
    }
    better = {c.id: c.kind for c in result.better}
    assert better == {
        "t::new_name": "new passing test",
        "t::param_c": "new passing test",
        "t::fixed": "fixed",
    }
    found = findings(result, max_failed=None, max_errors=None)
    assert sorted({f.id for f in found}) == ["test-regressed", "test-removed"]
    assert all(f.severity.value == "error" for f in found)
    gated = findings(result, max_failed=1, max_errors=5)
    assert [f.id for f in gated if f.severity.value == "error"] == ["tests-over-gate"]
    assert findings(result, max_failed=2, max_errors=1) and not [
        f for f in findings(result, max_failed=2, max_errors=1) if f.severity.value == "error"
    ]
    assert compare(after, after).worse == []


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 100, 500])
def test_bisection_stays_within_its_budget(n: int) -> None:
    candidates = [f"t{i}" for i in range(n)]
    for culprit in range(n):
        calls: list[list[str]] = []

        def probe(
            subset: list[str], culprit: int = culprit, calls: list[list[str]] = calls
        ) -> bool:
            calls.append(subset)
            return f"t{culprit}" in subset

        found = find_culprit(candidates, probe)
        assert found.test == f"t{culprit}"
        assert found.probes + 1 <= run_budget(n)  # + the run of the target alone
        assert calls[-1] == [f"t{culprit}"] or found.probes < len(calls) + 1
    assert run_budget(500) == math.ceil(math.log2(500)) + 2


def test_bisection_says_when_no_single_test_explains_it() -> None:
    candidates = [f"t{i}" for i in range(16)]
    found = find_culprit(candidates, lambda s: "t3" in s and "t12" in s)  # needs both
    assert found.test is None


def test_interrupted_runs_are_recognised() -> None:
    assert PytestRun(130, None).interrupted()
    assert PytestRun(2, b'<testsuites><testsuite tests="1"/></testsuites>').interrupted()
    assert not PytestRun(1, b"<testsuites/>").interrupted()


# -- through the CLI ------------------------------------------------------------------------


def _xml(folder: Path, name: str, outcomes: dict[str, str]) -> Path:
    cases = []
    for test_id, outcome in outcomes.items():
        module, _, func = test_id.partition("::")
        classname = module.removesuffix(".py").replace("/", ".")
        child = {
            "passed": "",
            "failed": '<failure message="boom">x</failure>',
            "error": '<error message="bad">x</error>',
            "skipped": '<skipped type="pytest.skip" message="s"/>',
        }[outcome]
        cases.append(
            f'<testcase classname="{classname}" name="{func}" file="{module}" time="0.1">{child}</testcase>'
        )
    path = folder / name
    path.write_text(
        f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{"".join(cases)}</testsuite></testsuites>'
    )
    return path


def test_compare_against_a_git_ref(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n"})
    first = _xml(
        tmp_path,
        "first.xml",
        {"tests/test_a.py::test_one": "passed", "tests/test_a.py::test_two": "failed"},
    )
    env = {"OMC_IN_CONTAINER": "0"}
    save = omc("tests", "baseline", "save", "--from", str(first), cwd=repo.path, env=env)
    assert save.returncode == 0, save.stderr
    repo.git("add", "tests-baseline.txt")
    repo.git("commit", "-qm", "baseline")
    second = _xml(
        tmp_path,
        "second.xml",
        {"tests/test_a.py::test_one": "passed", "tests/test_a.py::test_two": "passed"},
    )
    assert (
        omc("tests", "baseline", "save", "--from", str(second), cwd=repo.path, env=env).returncode
        == 0
    )
    worse = _xml(
        tmp_path,
        "worse.xml",
        {"tests/test_a.py::test_one": "failed", "tests/test_a.py::test_two": "failed"},
    )
    # Against the working-tree baseline (both pass) test_two is a new failure; against HEAD it
    # was already failing, so only test_one got worse.
    proc = omc("tests", "compare", str(worse), "--format", "json", cwd=repo.path, env=env)
    assert proc.returncode == 1
    assert [c["id"] for c in json.loads(proc.stdout)["worse"]] == [
        "tests/test_a.py::test_one",
        "tests/test_a.py::test_two",
    ]
    proc = omc(
        "tests",
        "compare",
        "--baseline",
        "HEAD",
        str(worse),
        "--format",
        "json",
        cwd=repo.path,
        env=env,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["baseline"] == "HEAD:tests-baseline.txt"
    assert [c["id"] for c in doc["worse"]] == ["tests/test_a.py::test_one"]
    proc = omc("tests", "compare", "--baseline", "no-such-ref", str(worse), cwd=repo.path, env=env)
    assert (proc.returncode, proc.stderr) == (
        2,
        "omc-dev: --baseline no-such-ref: neither a file nor a git ref\n",
    )
    summary = tmp_path / "summary.md"
    proc = omc(
        "tests",
        "compare",
        "--baseline",
        "HEAD",
        str(second),
        "--format",
        "text",
        cwd=repo.path,
        env={**env, "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fixed" in proc.stdout
    assert summary.read_text().startswith("### Tests: no worse than the baseline")


def test_bad_inputs_are_one_line_and_write_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    env = {"OMC_IN_CONTAINER": "0"}
    good = _xml(tmp_path, "good.xml", {"tests/test_a.py::test_one": "passed"})
    assert (
        omc("tests", "baseline", "save", "--from", str(good), cwd=tmp_path, env=env).returncode == 0
    )
    baseline = tmp_path / "tests-baseline.txt"
    saved = baseline.read_text()
    truncated = tmp_path / "cut.xml"
    truncated.write_bytes(good.read_bytes()[:60])
    proc = omc("tests", "baseline", "save", "--from", str(truncated), cwd=tmp_path, env=env)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "truncated or corrupt JUnit XML" in proc.stderr
    assert baseline.read_text() == saved  # nothing half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cut.xml",
        "good.xml",
        "pyproject.toml",
        "tests-baseline.txt",
    ]
    baseline.write_text(saved.replace("passed\t", "failed\t"))
    proc = omc("tests", "compare", str(good), cwd=tmp_path, env=env)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "edited by hand" in proc.stderr
    proc = omc("tests", "baseline", "show", cwd=tmp_path, env=env)
    assert proc.returncode == 2 and "counts header disagrees" in proc.stderr


def test_an_interrupted_run_records_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n[tool.omc-dev.tests]\ncommand = ["{sys.executable}", "-m", "pytest"]\n'
    )
    marker = tmp_path / "started"
    (tmp_path / "test_slow.py").write_text(
        "import pathlib, time\n"
        f"def test_slow():\n    pathlib.Path({str(marker)!r}).write_text('x')\n    time.sleep(60)\n"
    )
    from tests.fixtures.cli import cli_env, omc_argv

    proc = subprocess.Popen(
        omc_argv("tests", "run", "--", "-p", "no:cacheprovider"),
        cwd=tmp_path,
        env=cli_env({"OMC_IN_CONTAINER": "1"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the terminal's whole process group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "omc-dev: interrupted: the run was not recorded"
    assert not (tmp_path / ".omc" / "tests" / "results").exists()


@pytest.mark.parametrize(
    ("module", "args", "code", "line"),
    [
        (
            "pytest",
            ["--no-such-flag"],
            4,
            "omc-dev: pytest exited 4 without results: nothing recorded",
        ),
        ("no_such_pytest", [], 125, "omc-dev: pytest did not run in this container"),
    ],
)
def test_runs_without_results_record_nothing(
    tmp_path: Path, module: str, args: list[str], code: int, line: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n[tool.omc-dev.tests]\ncommand = ["{sys.executable}", "-m", "{module}"]\n'
    )
    (tmp_path / "test_one.py").write_text("def test_one(): pass\n")
    proc = omc("tests", "run", "--", *args, cwd=tmp_path, env={"OMC_IN_CONTAINER": "1"})
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(line)
    assert not (tmp_path / ".omc" / "tests" / "results").exists()


def test_round_trip_on_this_repositorys_own_tests(tmp_path: Path) -> None:
    """Real ids from this repository's suite (parametrised, under --import-mode=importlib):
    JUnit XML -> baseline -> compare finds nothing, and the ids are pytest's own."""
    from tests.fixtures.cli import REPO_ROOT

    files = ["tests/unit/container/test_run_request.py", "tests/unit/compose/test_dotenv.py"]
    junit = tmp_path / "own.xml"
    _pytest(REPO_ROOT, "-q", f"--junitxml={junit}", *files)
    collected = _pytest(REPO_ROOT, "--collect-only", "-q", *files).stdout.splitlines()
    ids = {t.id for t in parse_junit(junit.read_bytes()).tests}
    assert ids == {line for line in collected if "::" in line}
    assert any("[" in i for i in ids)
    baseline = tmp_path / "baseline.txt"
    env = {"OMC_IN_CONTAINER": "0"}
    save = omc(
        "tests",
        "baseline",
        "save",
        "--from",
        str(junit),
        "--file",
        str(baseline),
        cwd=REPO_ROOT,
        env=env,
    )
    assert save.returncode == 0, save.stderr
    proc = omc("tests", "compare", "--baseline", str(baseline), str(junit), cwd=REPO_ROOT, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Not a terminal: concise, stdout only the tests that got worse (none), the counts on stderr.
    assert proc.stdout == "" and "omc-dev: 0 worse, 0 better" in proc.stderr


def _local_project(tmp_path: Path, tests: str, ini: str = "[pytest]\n") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n[tool.omc-dev.tests]\ncommand = ["{sys.executable}", "-m", "pytest"]\n'
    )
    (tmp_path / "pytest.ini").write_text(ini)
    (tmp_path / "test_order.py").write_text(tests)
    return tmp_path


def test_a_users_own_junitxml_is_written_too(tmp_path: Path) -> None:
    """`tests run -- --junitxml=reports/j.xml`: omc-dev still records the run, and the user's
    file is there with the same tests (pytest writes one file a run: omc-dev's, copied)."""
    project = _local_project(tmp_path, "def test_a(): pass\ndef test_b(): assert 0\n")
    env = {"OMC_IN_CONTAINER": "1"}
    for args in (["--junitxml=reports/j.xml"], ["--junit-xml", "reports/j.xml"]):
        proc = omc("tests", "run", "--", "-p", "no:cacheprovider", *args, cwd=project, env=env)
        assert proc.returncode == 1, proc.stderr
        mine = parse_junit((project / "reports" / "j.xml").read_bytes())
        assert mine.outcomes() == {
            "test_order.py::test_a": "passed",
            "test_order.py::test_b": "failed",
        }
        assert "recorded as" in proc.stderr
        (project / "reports" / "j.xml").unlink()


def test_polluter_runs_in_one_process_under_xdist_addopts(tmp_path: Path) -> None:
    """A project whose addopts spread tests over xdist workers: the hunt still runs the tests
    in the order it gives, in one process (`-n 0`), so the polluter is found."""
    project = _local_project(
        tmp_path,
        "STATE = []\ndef test_a(): STATE.append(1)\ndef test_c(): pass\n"
        "def test_b(): assert not STATE\n",
        ini="[pytest]\naddopts = -n 2\n",
    )
    proc = omc(
        "tests", "polluter", "test_order.py::test_b", cwd=project, env={"OMC_IN_CONTAINER": "1"}
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("polluter: test_order.py::test_a\n"), proc.stdout
    assert " -n 0 " in proc.stdout  # the reproduce command runs serially too


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda p: None, ["tests", "baseline", "show"], "no baseline yet"),
        (lambda p: None, ["tests", "compare"], "no baseline yet"),
        (
            lambda p: (p / "tests-baseline.txt").write_bytes(
                b"# omc-dev tests baseline v1\n\xff\n"
            ),
            ["tests", "baseline", "show"],
            "not UTF-8",
        ),
        (
            lambda p: (p / "tests-baseline.txt").write_text(
                "# omc-dev tests baseline v1\n# counts: passed=1\npassed\ttests/a.py::t\\q\n"
            ),
            ["tests", "baseline", "show"],
            "tests-baseline.txt:3: unknown escape",
        ),
        (
            lambda p: (p / "tests-baseline.txt").write_text(
                "# omc-dev tests baseline v1\n# counts: passed=one\npassed\tt\n"
            ),
            ["tests", "baseline", "show"],
            "bad counts header item",
        ),
        (lambda p: None, ["tests", "baseline", "save"], "no stored test run yet"),
        (
            lambda p: None,
            ["tests", "baseline", "save", "--from", "nope"],
            "neither a file nor a stored result",
        ),
        (
            lambda p: (p / "r.json").write_text('{"format": "omc-dev-test-results/1", "tests": [['),
            ["tests", "baseline", "save", "--from", "r.json"],
            "not an omc-dev test result",
        ),
        (
            lambda p: (p / "r.json").write_text(
                '{"format": "omc-dev-test-results/1", "tests": [["t", "great", 0, ""]]}'
            ),
            ["tests", "baseline", "save", "--from", "r.json"],
            "not an omc-dev test result",
        ),
    ],
)
def test_more_bad_inputs_are_one_line_exit_2_and_write_nothing(
    tmp_path: Path, setup: Any, args: list[str], message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    setup(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    proc = omc(*args, cwd=tmp_path, env={"OMC_IN_CONTAINER": "0"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
