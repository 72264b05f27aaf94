"""`omc-dev clean`: which parts were asked for, and the ordered plan that does them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.git.layout import find as git_layout
from devtools.ownership import git
from devtools.ownership.artifacts import globs, plan_artifacts
from devtools.ownership.container import helper_image
from devtools.ownership.developer import Developer
from devtools.ownership.plan import Plan, Step
from devtools.ownership.stack import plan_stack
from devtools.ownership.worktree import plan_worktree
from devtools.tracks.identity import Track, project_name


@dataclass(frozen=True)
class Selection:
    containers: bool
    volumes: bool
    artifacts: bool
    worktree: bool

    @classmethod
    def from_flags(
        cls, *, containers: bool, volumes: bool, artifacts: bool, worktree: bool
    ) -> Selection:
        """No flag: containers and artifacts. --volumes and --worktree stop the stack first
        (a worktree's containers bind-mount it); --worktree makes artifacts moot."""
        if not (containers or volumes or artifacts or worktree):
            containers = artifacts = True
        return cls(
            containers=containers or volumes or worktree,
            volumes=volumes,
            artifacts=artifacts and not worktree,
            worktree=worktree,
        )


def build_plan(
    config: ProjectConfig, root: Path, track: Track, developer: Developer, selection: Selection
) -> Plan:
    """Read-only: everything the plan will touch is named before anything is touched."""
    image = helper_image(config)
    plan = Plan(f"worktree {root} (track {track.name}, project {project_name(config, track)})")
    # Refusals first (main worktree, uncommitted work): before asking the engine anything.
    worktree_steps = _worktree_steps(config, root, developer, image) if selection.worktree else []
    if selection.containers:
        steps, notes = plan_stack(config, track, volumes=selection.volumes)
        plan.steps += steps
        plan.notes += notes
    if selection.artifacts:
        layout = git_layout(root)
        tracked = git.tracked(root) if layout is not None else git.Tracked([])
        step, notes = plan_artifacts(config, root, developer, tracked, image)
        plan.add(step)
        plan.notes += notes
    plan.steps += worktree_steps
    return plan


def _worktree_steps(
    config: ProjectConfig, root: Path, developer: Developer, image: str
) -> list[Step]:
    layout = git_layout(root)
    if layout is None:
        raise UnusableInput(f"{root} is not a git worktree: --worktree needs one")
    return plan_worktree(layout, root, developer, globs(config), image)
