"""`omc-dev tests run|baseline|compare|polluter`: parse the flags, call the library, print."""

from __future__ import annotations

import click

from devtools.options import format_option

TRACK_HELP = "Track whose stack to use (default: OMC_TRACK, else the branch)."
SERVICE_HELP = "Service to run pytest in (default: service in [tool.omc-dev.tests], else run's)."


@click.group()
def tests() -> None:
    """Test results per test: run, keep a baseline that ratchets, find polluting tests.

    \b
    Exit codes: `run` returns pytest's own; `compare` 1 when a test got worse (or a gate is
    exceeded); `polluter` 1 when the test's outcome depends on order; 2 unusable input (a
    corrupt or hand-edited baseline, truncated JUnit XML); 125 environment missing (pytest not
    installed, service not running); 130 interrupted (nothing is recorded).
    """


@tests.command(context_settings={"allow_interspersed_args": False})
@click.option("-s", "--service", metavar="SERVICE", help=SERVICE_HELP)
@click.option("--track", metavar="NAME", help=TRACK_HELP)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- PYTEST ARGS]")
def run(service: str | None, track: str | None, pytest_args: tuple[str, ...]) -> int:
    """Run pytest where the tests run and record every test's outcome.

    In the service's container (as `omc-dev run` does), or here when already inside one. The
    result is stored under .omc/tests/ by commit, track and arguments; the exit code is pytest's.
    """
    from devtools.testruns.actions import run_tests

    return run_tests(service, track, list(pytest_args))


@tests.group()
def baseline() -> None:
    """The committed baseline file: save it from a run, show its counts."""


@baseline.command("save")
@click.option(
    "--from",
    "source",
    metavar="RESULT",
    help="A stored result, result file or JUnit XML (default: the latest `tests run`).",
)
@click.option("--file", "path", metavar="FILE", help="Baseline file (default: from config).")
def baseline_save(source: str | None, path: str | None) -> int:
    """Write the baseline: one sorted `outcome<TAB>test id` line per test, to commit."""
    from devtools.testruns.actions import save

    return save(source, path)


@baseline.command("show")
@click.option("--file", "path", metavar="FILE", help="Baseline file (default: from config).")
def baseline_show(path: str | None) -> int:
    """Print the baseline's counts."""
    from devtools.testruns.actions import show

    return show(path)


@tests.command()
@click.argument("result", required=False)
@click.option(
    "--baseline",
    "baseline_spec",
    metavar="FILE|REF",
    help="Baseline file, or a git ref to read the configured baseline file at.",
)
@click.option("--max-failed", type=click.IntRange(min=0), help="Gate: at most N failed tests.")
@click.option("--max-errors", type=click.IntRange(min=0), help="Gate: at most N errors.")
@format_option("text", "concise", "json", "github")
def compare(
    result: str | None,
    baseline_spec: str | None,
    max_failed: int | None,
    max_errors: int | None,
    fmt: str,
) -> int:
    """What got worse and better against the baseline, per test id.

    RESULT: a stored result, result file or JUnit XML (default: the latest `tests run`).
    Exit 1 when any test got worse (a new failure or error, a pass now skipped, a removed test).
    With --max-failed/--max-errors, regressions are warnings and only the gates fail. A summary
    goes to $GITHUB_STEP_SUMMARY when it is set. concise: one line per test that got worse, the
    counts before and after on stderr.
    """
    from devtools.testruns.actions import compare_results

    return compare_results(result, baseline_spec, max_failed, max_errors, fmt)


@tests.command(context_settings={"allow_interspersed_args": False})
@click.option("-s", "--service", metavar="SERVICE", help=SERVICE_HELP)
@click.option("--track", metavar="NAME", help=TRACK_HELP)
@click.option(
    "--from",
    "source",
    metavar="RESULT",
    help="Take the order from this result (or `latest`) instead of running the suite first.",
)
@click.option(
    "--random-order",
    type=click.IntRange(min=1),
    metavar="N",
    help="Instead: run the suite in N seeded orders and name tests whose outcome depends on it.",
)
@click.option("--seed", type=int, help="First seed for --random-order (default: random).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[TEST_ID] [-- PYTEST ARGS]")
def polluter(  # noqa: PLR0917 (click passes options as arguments)
    service: str | None,
    track: str | None,
    source: str | None,
    random_order: int | None,
    seed: int | None,
    args: tuple[str, ...],
) -> int:
    """Find the earlier test that makes TEST_ID fail (or that it needs to pass).

    \b
    Runs the suite once (PYTEST ARGS select it) to learn the order, then TEST_ID alone, then
    halves the tests before it: at most ceil(log2(n)) + 2 pytest runs after the first.
    Each run is `pytest -p no:randomly -p no:cacheprovider <tests...> TEST_ID` in the service's
    container. Prints the pair and the command that reproduces it; exit 1 when the outcome
    depends on order, 0 when it does not.
    """
    from devtools.testruns.actions import hunt

    return hunt(service, track, source, random_order, seed, list(args))
