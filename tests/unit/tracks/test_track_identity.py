from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import config
from devtools.tracks.identity import project_name, repo_name, resolve_track, sanitize
from tests.fixtures.git import GitRepo, clone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("feature/Login-Form", "feature-login-form"), ("--x__", "x"), ("a b.c", "a-b-c"), ("ÄÖ", "")],
)
def test_sanitize(raw: str, expected: str) -> None:
    assert sanitize(raw) == expected


def test_branch_worktree_and_env_precedence(
    git_repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMC_TRACK", raising=False)
    main_cfg = config.load(git_repo.path)
    assert resolve_track(main_cfg).name == "main"

    linked = tmp_path / "wt-login"
    git_repo.git("worktree", "add", "--quiet", "-b", "feature/login", str(linked))
    wt_cfg = config.load(linked)
    track = resolve_track(wt_cfg)
    assert (track.name, track.source) == ("feature-login", "branch")
    # All worktrees of one repo share its name; project names add a hash of checkout and track.
    assert repo_name(wt_cfg) == repo_name(main_cfg) == "work"
    assert re.fullmatch(r"work-feature-login-[0-9a-f]{8}", project_name(wt_cfg, track))

    git_repo.git("-C", str(linked), "checkout", "--quiet", "--detach")
    assert resolve_track(wt_cfg).source == "worktree"
    assert resolve_track(wt_cfg).name == "wt-login"

    monkeypatch.setenv("OMC_TRACK", "Agent 7")
    assert resolve_track(wt_cfg).name == "agent-7"
    assert resolve_track(wt_cfg, explicit="cli").source == "--track"


def test_configured_project_name_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.omc-dev]\nproject = "Shop"\n')
    cfg = config.load(tmp_path)
    assert project_name(cfg, resolve_track(cfg, "t1")).startswith("shop-t1-")


def test_two_clones_on_one_branch_get_distinct_stable_names(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    other = clone(git_repo.origin, tmp_path / "elsewhere" / "work")
    first, second = config.load(git_repo.path), config.load(other.path)
    names = {project_name(c, resolve_track(c)) for c in (first, second)}
    assert len(names) == 2
    assert all(n.startswith("work-main-") for n in names)
    # Stable: the same checkout and track give the same name in another process.
    code = (
        "from devtools import config; from devtools.tracks.identity import *;"
        f"c = config.load(__import__('pathlib').Path({str(other.path)!r}));"
        "print(project_name(c, resolve_track(c)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == project_name(second, resolve_track(second))


def test_tracks_that_normalise_alike_do_not_collide(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.omc-dev]\nproject = "shop"\n')
    cfg = config.load(tmp_path)
    upper, lower = resolve_track(cfg, "Feature/Orders.X"), resolve_track(cfg, "feature-orders-x")
    assert upper.name == lower.name == "feature-orders-x"
    assert project_name(cfg, upper) != project_name(cfg, lower)
    assert sanitize(project_name(cfg, upper)) == project_name(cfg, upper)
