"""Group commit: concurrent callers share one transaction and one durable commit.

A durable commit waits for the disk (an fsync on SQLite with synchronous=FULL); paying it once per
order caps a desk at the disk's commit rate. Here each caller hands its item in and blocks. One
caller at a time leads: it takes the items waiting at that moment (arrival order, at most
`max_batch`), runs them in one transaction through `run`, and returns once that transaction has
committed. Only then does any caller in the batch get its result.

The contract: no result is handed back before the commit containing its item has returned, so
every acknowledged result is durable. If the transaction fails, none of its items was committed
and every caller in it gets the error. A lone caller is a batch of one: nothing waits for company.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set whenever error is None


class GroupCommit(Generic[T, R]):
    """`submit(item)` returns `run(batch)`'s result for `item`, once `run` has returned."""

    def __init__(self, run: Callable[[Sequence[T]], Sequence[R]], max_batch: int = 256) -> None:
        self._run = run
        self._max_batch = max_batch
        self._changed = threading.Condition()
        self._waiting: deque[_Slot[T, R]] = deque()
        self._leading = False

    def submit(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._changed:
            self._waiting.append(slot)
            while self._leading and not slot.done:
                self._changed.wait()
            if slot.done:
                return slot.outcome()
            self._leading = True
        try:
            batch: list[_Slot[T, R]] = []
            while slot not in batch:  # a long queue may take more than one batch to reach ours
                with self._changed:
                    count = min(self._max_batch, len(self._waiting))
                    batch = [self._waiting.popleft() for _ in range(count)]
                self._commit(batch)
        finally:
            with self._changed:
                self._leading = False
                self._changed.notify_all()
        return slot.outcome()

    def _commit(self, batch: list[_Slot[T, R]]) -> None:
        error: BaseException | None = None
        results: Sequence[R] = ()
        try:
            results = self._run([s.item for s in batch])
        except BaseException as exc:  # every caller in the batch learns it was not committed
            error = exc
        with self._changed:
            for i, s in enumerate(batch):
                if error is None:
                    s.result = results[i]
                s.error = error
                s.done = True
            self._changed.notify_all()
