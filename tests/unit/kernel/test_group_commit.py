"""Group commit: callers share a run, and nobody hears back before the run that holds its item."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from kernel.group_commit import GroupCommit


def test_a_lone_caller_is_a_batch_of_one() -> None:
    runs: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        runs.append(list(items))
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(run)
    assert [group.submit(i) for i in range(3)] == [0, 10, 20]
    assert runs == [[0], [1], [2]]


def test_waiting_callers_share_the_next_run_and_hear_back_only_after_it() -> None:
    first_running, release = threading.Event(), threading.Event()
    finished: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        if items == [0]:
            first_running.set()
            assert release.wait(10)
        finished.append(list(items))
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(run, max_batch=3)
    heard: dict[int, tuple[int, int]] = {}  # item -> (result, runs finished when it returned)

    def caller(i: int) -> None:
        heard[i] = (group.submit(i), len(finished))

    leader = threading.Thread(target=caller, args=(0,))
    leader.start()
    assert first_running.wait(10)
    others = [threading.Thread(target=caller, args=(i,)) for i in range(1, 6)]
    for t in others:
        t.start()
    while len(group._waiting) < 5:  # all five queued behind the running batch
        time.sleep(0.001)
    release.set()
    for t in [leader, *others]:
        t.join(10)
    assert finished[0] == [0]
    assert sorted(i for batch in finished[1:] for i in batch) == [1, 2, 3, 4, 5]
    assert len(finished) == 3  # two runs of at most three, not five runs of one
    for i, (result, runs_done) in heard.items():
        assert result == i * 10
        holding = next(n for n, batch in enumerate(finished) if i in batch)
        assert runs_done > holding  # its run had returned before it heard back


def test_a_failed_run_fails_every_caller_in_it_and_the_next_run_still_works() -> None:
    gate, release = threading.Event(), threading.Event()

    def run(items: Sequence[str]) -> list[str]:
        if items == ["hold"]:
            gate.set()
            assert release.wait(10)
        if "boom" in items:
            raise RuntimeError("disk full")
        return [s.upper() for s in items]

    group: GroupCommit[str, str] = GroupCommit(run)
    results: dict[str, object] = {}

    def caller(item: str) -> None:
        try:
            results[item] = group.submit(item)
        except RuntimeError as exc:
            results[item] = exc

    holder = threading.Thread(target=caller, args=("hold",))
    holder.start()
    assert gate.wait(10)
    queued = [threading.Thread(target=caller, args=(s,)) for s in ("a", "boom")]
    for t in queued:
        t.start()
    while len(group._waiting) < 2:
        time.sleep(0.001)
    release.set()
    for t in [holder, *queued]:
        t.join(10)
    assert results["hold"] == "HOLD"
    assert isinstance(results["a"], RuntimeError) and isinstance(results["boom"], RuntimeError)
    assert group.submit("b") == "B"
    with pytest.raises(RuntimeError, match="disk full"):
        group.submit("boom")
