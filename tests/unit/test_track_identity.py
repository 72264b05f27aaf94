from __future__ import annotations

from pathlib import Path

import pytest

from devtools import config
from devtools.tracks.identity import project_name, repo_name, resolve_track, sanitize
from tests.fixtures.git import GitRepo


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
    # All worktrees of one repo share its name, so project names differ only by track.
    assert repo_name(wt_cfg) == repo_name(main_cfg) == "work"
    assert project_name(wt_cfg, track) == "work-feature-login"

    git_repo.git("-C", str(linked), "checkout", "--quiet", "--detach")
    assert resolve_track(wt_cfg).source == "worktree"
    assert resolve_track(wt_cfg).name == "wt-login"

    monkeypatch.setenv("OMC_TRACK", "Agent 7")
    assert resolve_track(wt_cfg).name == "agent-7"
    assert resolve_track(wt_cfg, explicit="cli").source == "--track"


def test_configured_project_name_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.omc-dev]\nproject = "Shop"\n')
    cfg = config.load(tmp_path)
    assert project_name(cfg, resolve_track(cfg, "t1")) == "shop-t1"
