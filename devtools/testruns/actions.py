"""What each `omc-dev tests` subcommand does, between click and the library modules."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from devtools import config as config_mod
from devtools.errors import UnusableInput, UserError
from devtools.report import verbosity
from devtools.report.verbosity import progress
from devtools.testruns.baseline import parse_baseline, read_baseline, save_baseline
from devtools.testruns.model import ResultSet, counts_line
from devtools.testruns.output import echo
from devtools.testruns.settings import TestSettings, load_settings
from devtools.testruns.store import load_result, result_key, save_result

if TYPE_CHECKING:  # the runner (subprocess, tarfile) loads only for commands that run pytest
    from devtools.testruns.runner import Runner


def _settings() -> TestSettings:
    return load_settings(config_mod.load())


def _commit(root: Path) -> tuple[str, bool]:
    from devtools.git.runner import git

    try:
        commit = git(root, "rev-parse", "--verify", "-q", "HEAD").decode().strip()
        dirty = bool(git(root, "status", "--porcelain", "--untracked-files=no").strip())
    except UserError:
        return "no-commit", False
    return commit, dirty


def _runner(settings: TestSettings, service: str | None, track: str | None) -> Runner:
    from devtools.testruns.runner import make_runner

    return make_runner(settings.command, service or settings.service, track)


def run_tests(service: str | None, track: str | None, args: list[str]) -> int:
    from devtools.testruns.runner import Interrupted
    from devtools.tracks.identity import resolve_track

    settings = _settings()
    track_name = resolve_track(config_mod.load(), track).name
    runner = _runner(settings, service, track)
    started = time.time()
    run = runner.pytest(args)
    if run.interrupted():
        raise Interrupted("interrupted: this run was not recorded")
    if run.junit is None:  # a usage error (4) or an internal error (3): pytest said why
        echo(f"omc-dev: pytest exited {run.code} without results: nothing recorded", err=True)
        return run.code
    results = run.results(runner.where)  # a truncated file stops here: nothing written
    _write_user_junitxml(args, run.junit)
    commit, dirty = _commit(settings.root)
    results.meta = {
        "commit": commit,
        "dirty": dirty,
        "track": track_name,
        "args": args,
        "where": runner.where,
        "exit_code": run.code,
        "started": round(started, 3),
        "seconds": round(time.time() - started, 3),
    }
    key = result_key(commit, track_name, args)
    save_result(settings.store_dir, key, results)
    progress(f"omc-dev: {counts_line(results.counts())}; recorded as {key}")
    return run.code


def _write_user_junitxml(args: list[str], data: bytes) -> None:
    """The user's own --junitxml=PATH: pytest wrote ours (one file per run), so theirs gets the
    same XML, at PATH as seen from here (where pytest would have written it had it run here)."""
    from devtools.atomic import write_atomic
    from devtools.testruns.runner import user_junitxml

    wanted = user_junitxml(args)
    if not wanted:
        return
    path = Path(wanted).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # as pytest does
        write_atomic(path, data)
    except OSError as exc:
        raise UserError(f"--junitxml {wanted}: cannot write: {exc.strerror}", exit_code=1) from None
    progress(f"omc-dev: wrote pytest's JUnit XML to {wanted}")


def _baseline_path(settings: TestSettings, path: str | None) -> Path:
    return Path(path) if path else settings.baseline


def save(source: str | None, path: str | None) -> int:
    settings = _settings()
    results = load_result(settings.store_dir, source)
    if not results.tests:
        raise UnusableInput("the result has no tests: nothing to save as a baseline")
    target = _baseline_path(settings, path)
    save_baseline(target, results)
    echo(f"wrote {target}: {counts_line(results.counts())}")
    return 0


def show(path: str | None) -> int:
    settings = _settings()
    target = _baseline_path(settings, path)
    baseline = read_baseline(target)
    echo(f"{target}: {counts_line(baseline.counts())}")
    return 0


def _load_baseline(settings: TestSettings, spec: str | None) -> tuple[ResultSet, str]:
    if spec is None:
        return read_baseline(settings.baseline), str(settings.baseline)
    if Path(spec).is_file():
        return read_baseline(Path(spec)), spec
    from devtools.git.errors import GitFailed
    from devtools.git.runner import git

    try:
        rel = settings.baseline.relative_to(settings.root).as_posix()
    except ValueError:
        raise UnusableInput(
            f"--baseline {spec}: the baseline file is outside the project"
        ) from None
    try:
        git(settings.root, "rev-parse", "--verify", "-q", f"{spec}^{{commit}}")
    except GitFailed:
        raise UnusableInput(f"--baseline {spec}: neither a file nor a git ref") from None
    try:
        data = git(settings.root, "show", f"{spec}:./{rel}")
    except GitFailed:
        raise UnusableInput(f"--baseline {spec}: {rel} does not exist at {spec}") from None
    source = f"{spec}:{rel}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnusableInput(f"{source}: the baseline is not UTF-8 text") from None
    return parse_baseline(text, source), source


def compare_results(
    result: str | None,
    baseline_spec: str | None,
    max_failed: int | None,
    max_errors: int | None,
    fmt: str,
) -> int:
    from devtools.render import render_findings
    from devtools.testruns.compare import compare, findings, markdown_summary, summary_text

    settings = _settings()
    base, source = _load_baseline(settings, baseline_spec)
    current = load_result(settings.store_dir, result)
    comparison = compare(base, current)
    found = findings(comparison, max_failed=max_failed, max_errors=max_errors)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        try:
            with Path(summary_file).open("a", encoding="utf-8") as fh:
                fh.write(markdown_summary(comparison, found, source))
        except OSError as exc:
            echo(f"omc-dev: cannot append to GITHUB_STEP_SUMMARY: {exc.strerror}", err=True)
    extra = {
        "baseline": source,
        "before": comparison.before,
        "after": comparison.after,
        "worse": [c.to_dict() for c in comparison.worse],
        "better": [c.to_dict() for c in comparison.better],
    }
    if fmt == "text" and not verbosity.quiet():
        for line in summary_text(comparison, every=verbosity.verbose()):
            echo(line)
    elif fmt == "concise":
        for line in summary_text(comparison, every=verbosity.verbose())[:3]:
            progress(f"omc-dev: {line}")  # stdout: only the lines of tests that got worse
    code = render_findings(
        found,
        fmt,
        title="tests against the baseline",
        extra=extra,
        clean_message="nothing got worse",
    )
    if fmt == "text" and comparison.better and not code and not verbosity.quiet():
        echo("better results: save them with `omc-dev tests baseline save`")
    return code


def hunt(  # noqa: PLR0917 (the command's options, one to one)
    service: str | None,
    track: str | None,
    source: str | None,
    random_order: int | None,
    seed: int | None,
    args: list[str],
) -> int:
    from devtools.testruns.polluter import (
        find_polluter,
        output_to_stderr,
        print_polluter,
        random_orders,
    )
    from devtools.testruns.runner import ISOLATED, Interrupted

    settings = _settings()
    if random_order is None:
        if not args or args[0].startswith("-"):
            raise UnusableInput("polluter: name the TEST_ID, or pass --random-order N")
        target, pytest_args = args[0], args[1:]
    else:
        target, pytest_args = None, args
    runner = _runner(settings, service, track)
    if source is not None:
        order = load_result(settings.store_dir, source)
    else:
        progress("omc-dev: running the suite once to learn its order")
        with output_to_stderr():
            first = runner.pytest_in_order([*ISOLATED, "-q", *pytest_args])
        if first.interrupted():
            raise Interrupted("interrupted")
        order = first.results(runner.where)
    if target is None:
        assert random_order is not None
        start = seed if seed is not None else int.from_bytes(os.urandom(2), "big")
        dependent, seeds = random_orders(runner, order, random_order, start)
        if not dependent:
            echo(f"no test changed outcome across {len(seeds)} orders (seeds {seeds[0]}..)")
            return 0
        echo(
            f"{len(dependent)} test(s) depend on the order (runs: suite order, then seeds {seeds}):"
        )
        for test_id, outcomes in sorted(dependent.items()):
            echo(f"  {test_id}: {' '.join(outcomes)}")
        echo("find the cause of each with `omc-dev tests polluter TEST_ID`")
        return 1
    report = find_polluter(runner, order, target)
    name = getattr(runner, "service", None)
    sys.stdout.flush()
    return print_polluter(report, runner, name)
