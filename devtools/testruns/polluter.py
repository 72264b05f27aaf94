"""`omc-dev tests polluter` and `--random-order`: real pytest runs, each from a fresh start.

Every run passes `-p no:randomly -p no:cacheprovider`, `-p no:xdist` (or `-n 0` where the
project's addopts ask xdist for workers) and the node ids in the order wanted, so pytest runs
exactly that order in one process (pytest keeps the order of the ids it is given) and no run
leaves a cache that changes the next one.
"""

from __future__ import annotations

import contextlib
import os
import random
import shlex
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from devtools.errors import UnusableInput
from devtools.report.verbosity import progress
from devtools.testruns.bisect import find_culprit, run_budget
from devtools.testruns.model import BAD, ResultSet
from devtools.testruns.output import echo
from devtools.testruns.runner import ISOLATED, ContainerRunner, Interrupted, Runner

QUIET = ("-q",)


@contextlib.contextmanager
def output_to_stderr() -> Iterator[None]:
    """pytest's own output goes to stderr while we hunt: stdout carries only the answer."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def ordered_run(runner: Runner, ids: Sequence[str]) -> ResultSet:
    with output_to_stderr():
        run = runner.pytest_in_order([*ISOLATED, *QUIET, *ids])
    if run.interrupted():
        raise Interrupted("interrupted: no result")
    return run.results(runner.where)


@dataclass
class PolluterReport:
    target: str
    mode: str  # "polluter", "needs", "none"
    culprit: str | None = None
    runs: int = 0
    budget: int = 0
    in_suite: str = ""
    alone: str = ""
    command: list[str] = field(default_factory=list)


def find_polluter(runner: Runner, order: ResultSet, target: str) -> PolluterReport:
    ids = [t.id for t in order.tests]
    if target not in ids:
        raise UnusableInput(
            f"{target}: not among the {len(ids)} tests of the run; use the id pytest prints "
            "(path::name[params]) and run from the folder pytest runs in"
        )
    in_suite = order.by_id()[target].outcome
    candidates = ids[: ids.index(target)]
    report = PolluterReport(target, "none", in_suite=in_suite, budget=run_budget(len(candidates)))

    def outcome_after(subset: list[str]) -> str:
        report.runs += 1
        found = ordered_run(runner, [*subset, target]).by_id().get(target)
        if found is None:
            raise UnusableInput(f"{target}: pytest did not run it when named alone: check the id")
        return found.outcome

    report.alone = outcome_after([])
    if (in_suite in BAD) == (report.alone in BAD) or not candidates:
        return report
    report.mode = "polluter" if in_suite in BAD else "needs"
    wanted_bad = report.mode == "polluter"
    culprit = find_culprit(candidates, lambda s: (outcome_after(s) in BAD) == wanted_bad)
    report.culprit = culprit.test
    if culprit.test:
        report.command = [*runner.command, *runner.serial, *ISOLATED, culprit.test, target]
    return report


def print_polluter(report: PolluterReport, runner: Runner, service: str | None) -> int:
    if report.mode == "none":
        echo(
            f"{report.target}: {report.alone} alone and {report.in_suite} after the tests before "
            f"it: not order-dependent in this order ({report.runs} run(s))"
        )
        return 0
    if report.culprit is None:
        effect = "fails after them" if report.mode == "polluter" else "passes only after them"
        echo(
            f"{report.target} {effect} ({report.in_suite} in the suite, {report.alone} alone), "
            f"but no single earlier test explains it: it takes two or more together "
            f"({report.runs} runs)"
        )
        return 1
    if report.mode == "polluter":
        echo(f"polluter: {report.culprit}")
        echo(f"  makes {report.target} {report.in_suite} (it is {report.alone} alone)")
    else:
        echo(f"needed: {report.culprit}")
        echo(f"  {report.target} is {report.alone} alone and {report.in_suite} after it")
    prefix: list[str] = []
    if isinstance(runner, ContainerRunner):  # the command as the user types it on the host
        prefix = ["omc-dev", "run", *(["-s", service] if service else []), "--"]
    echo(f"reproduce: {shlex.join([*prefix, *report.command])}")
    echo(f"{report.runs} pytest runs after learning the order (at most {report.budget})")
    return 1


def random_orders(
    runner: Runner, base: ResultSet, count: int, seed: int
) -> tuple[dict[str, list[str]], list[int]]:
    """Outcomes per test across the base run and `count` shuffled orders; only tests whose
    failing-or-not changes with the order."""
    ids = [t.id for t in base.tests]
    seen: dict[str, list[str]] = {t.id: [t.outcome] for t in base.tests}
    seeds = [seed + i for i in range(count)]
    for current in seeds:
        order = list(ids)
        random.Random(current).shuffle(order)
        progress(f"omc-dev: order {current} (seed), {len(order)} tests")
        outcomes = ordered_run(runner, order).by_id()
        for test_id in ids:
            found = outcomes.get(test_id)
            seen[test_id].append(found.outcome if found else "not run")
    dependent = {
        test_id: outs for test_id, outs in seen.items() if len({o in BAD for o in outs}) > 1
    }
    return dependent, seeds
