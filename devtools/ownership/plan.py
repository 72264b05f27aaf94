"""The clean plan: ordered steps, each saying what it will touch before anything is touched.

Planning only reads (engine, git, the file tree). Each step carries the action that carries it
out and returns what it did, line by line, so every action is reported. Execution stops at the
first step that fails: removing a worktree after its ownership fix failed is exactly the
half-way failure this exists to prevent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from devtools.errors import UserError


@dataclass(frozen=True)
class Outcome:
    done: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class Step:
    id: str  # containers | stale-containers | artifacts | ownership | worktree
    title: str
    items: tuple[str, ...]  # what it will touch, one per line
    apply: Callable[[], Outcome] = field(compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "items": list(self.items)}


@dataclass
class Plan:
    scope: str  # "worktree /x (track t, project p)"
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what is left alone, and why

    def add(self, step: Step | None) -> None:
        if step is not None:
            self.steps.append(step)

    @property
    def empty(self) -> bool:
        return not self.steps


@dataclass(frozen=True)
class StepResult:
    step: Step
    outcome: Outcome | None  # None: not run, because an earlier step failed

    def to_dict(self) -> dict[str, Any]:
        if self.outcome is None:
            return {"id": self.step.id, "status": "not-run", "done": [], "failed": []}
        return {
            "id": self.step.id,
            "status": "ok" if self.outcome.ok else "failed",
            "done": list(self.outcome.done),
            "failed": list(self.outcome.failed),
        }


def execute(plan: Plan) -> Iterator[StepResult]:
    """Run the steps in order, yielding each result as it comes; stop after a failed step."""
    failed = False
    for step in plan.steps:
        if failed:
            yield StepResult(step, None)
            continue
        try:
            outcome = step.apply()
        except UserError as exc:  # the engine or git gave up mid-step: report it as the step's
            outcome = Outcome(failed=(str(exc),))
        failed = not outcome.ok
        yield StepResult(step, outcome)
