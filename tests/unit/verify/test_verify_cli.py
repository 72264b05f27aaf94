"""`omc-dev verify` end to end: real clones, a real bare origin, the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from tests.fixtures.cli import omc
from tests.fixtures.git import GitRepo, clone
from tests.fixtures.verify import (
    REAL_CLIENT,
    REAL_COMPONENT,
    SPEC,
    STUB_COMPONENT,
    checks,
    generated_client,
    is_shallow,
    run_verify,
    verify_env,
    verify_json,
)
from tests.fixtures.webhook import Reply, WebhookServer


@pytest.fixture
def project(git_repo: GitRepo) -> GitRepo:
    """main carries the deliverables spec; the work happens on `feature`."""
    git_repo.commit({"pyproject.toml": SPEC}, "add the deliverables spec")
    git_repo.push()
    git_repo.branch("feature")
    return git_repo


def real_feature(repo: GitRepo) -> str:
    sha = repo.commit(
        {"web/src/pages/Orders.tsx": REAL_COMPONENT, "web/src/api/client.ts": REAL_CLIENT},
        "orders page",
    )
    repo.git("push", "--quiet", "--set-upstream", "origin", "feature")
    return sha


def test_generated_client_and_stub_component_fail_with_stub_and_generated_only(
    project: GitRepo,
) -> None:
    project.commit(
        {
            "web/src/api/schema.ts": generated_client(3000),
            "web/src/pages/Orders.tsx": STUB_COMPONENT,
        },
        "orders page done",
    )
    project.git("push", "--quiet", "--set-upstream", "origin", "feature")

    code, doc = verify_json(project.path)

    assert code == 1
    assert doc["ok"] is False
    assert (doc["remote"], doc["branch"]) == ("origin", "feature")
    assert checks(doc) == {"stub", "generated-only"}
    stubs = [f for f in doc["findings"] if f["id"] == "stub"]
    assert {f["path"] for f in stubs} == {"web/src/pages/Orders.tsx"}
    assert any("coming soon" in f["message"] for f in stubs)
    assert any("TODO" in f["message"] for f in stubs)
    (only,) = [f for f in doc["findings"] if f["id"] == "generated-only"]
    assert "9 hand-written lines" in only["message"]
    assert "3,000 generated" in only["message"]
    generated = doc["diffstat"]["generated"]
    assert generated["insertions"] == 3000
    assert generated["files"] == [
        {
            "path": "web/src/api/schema.ts",
            "insertions": 3000,
            "deletions": 0,
            "reason": "openapi-typescript header",
        }
    ]
    assert doc["diffstat"]["handwritten"]["insertions"] == 9
    common = {"schema_version", "command", "ok", "summary", "findings"}
    assert set(doc) == common | {"remote", "branch", "diffstat"}
    for finding in doc["findings"]:
        assert {"id", "severity", "path", "message"} <= set(finding)


def test_real_feature_passes(project: GitRepo) -> None:
    real_feature(project)
    code, doc = verify_json(project.path)
    assert code == 0, doc["findings"]
    assert doc == {**doc, "ok": True, "findings": []}
    assert doc["diffstat"]["handwritten"]["insertions"] == len(
        (REAL_COMPONENT + REAL_CLIENT).splitlines()
    )
    text = run_verify(project.path)
    assert text.returncode == 0
    assert "origin/feature" in text.stdout and "hand-written" in text.stdout


def test_unpushed_commits_fail(project: GitRepo) -> None:
    real_feature(project)
    sha = project.commit({"web/src/pages/Extra.tsx": REAL_COMPONENT}, "not pushed yet")

    code, doc = verify_json(project.path)

    assert code == 1
    (finding,) = doc["findings"]
    assert finding["id"] == "unpushed-commits"
    assert sha[:10] in finding["message"] and "not pushed yet" in finding["message"]
    assert finding["fix"] == "git push origin feature"


def test_unpushed_is_confirmed_with_the_server_not_the_cache(project: GitRepo) -> None:
    real_feature(project)
    project.commit({"web/src/pages/Extra.tsx": REAL_COMPONENT}, "looks pushed")
    # Make the remote-tracking ref lie: it claims the new commit is on origin/feature.
    project.git("update-ref", "refs/remotes/origin/feature", "HEAD")

    code, doc = verify_json(project.path, "--no-fetch")

    assert code == 1
    assert checks(doc) == {"unpushed-commits"}


def test_commit_pushed_to_main_instead_of_the_track_branch_is_branch_drift(
    project: GitRepo,
) -> None:
    real_feature(project)
    sha = project.commit({"web/src/pages/Extra.tsx": REAL_COMPONENT}, "meant for feature")
    project.git("push", "--quiet", "origin", "HEAD:main")  # the mistake

    code, doc = verify_json(project.path)

    assert code == 1
    (drift,) = doc["findings"]
    assert drift["id"] == "branch-drift"
    assert "origin/main" in drift["message"]
    assert sha[:10] in drift["message"] and "meant for feature" in drift["message"]


def test_deliverable_found_on_another_branch_is_branch_drift(project: GitRepo) -> None:
    project.push("feature")  # the track branch exists, still empty
    project.git("checkout", "--quiet", "main")
    sha = project.commit(
        {"web/src/pages/Orders.tsx": REAL_COMPONENT, "web/src/api/client.ts": REAL_CLIENT},
        "orders page (on the wrong branch)",
    )
    project.push()

    code, doc = verify_json(project.path, "--branch", "feature")

    assert code == 1
    drifts = [f for f in doc["findings"] if f["id"] == "branch-drift"]
    assert {f["path"] for f in drifts} == {"web/src/api", "web/src/pages/Orders.tsx"}
    for drift in drifts:
        assert "origin/main" in drift["message"] and sha[:10] in drift["message"]
    assert "missing-path" not in checks(doc)


def test_branch_never_pushed_is_branch_missing(project: GitRepo) -> None:
    project.commit({"web/src/pages/Orders.tsx": REAL_COMPONENT}, "local only")
    code, doc = verify_json(project.path)
    assert code == 1
    assert checks(doc) == {"branch-missing"}
    assert doc["findings"][0]["fix"] == "git push --set-upstream origin feature"


def test_missing_path_and_symbol(project: GitRepo) -> None:
    project.commit({"web/src/api/client.ts": REAL_CLIENT + "\n" * 0}, "client only")
    project.git("push", "--quiet", "--set-upstream", "origin", "feature")
    code, doc = verify_json(project.path)
    assert code == 1
    missing = {f["id"]: f for f in doc["findings"]}
    assert set(missing) == {"missing-path", "missing-symbol", "generated-only"}
    assert missing["missing-path"]["path"] == "web/src/pages/Orders.tsx"
    assert "OrdersPage" in missing["missing-symbol"]["message"]


def test_detached_head_in_ci_uses_the_ci_branch_variable(project: GitRepo, tmp_path: Path) -> None:
    real_feature(project)
    ci = clone(project.origin, tmp_path / "ci")
    ci.git("checkout", "--quiet", "--detach", "origin/feature")

    for variable in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"):
        code, doc = verify_json(ci.path, env={variable: "feature"})
        assert code == 0, (variable, doc["findings"])
        assert doc["branch"] == "feature"

    # GITHUB_HEAD_REF (pull requests) wins over GITHUB_REF_NAME ("12/merge" there)
    code, doc = verify_json(
        ci.path, env={"GITHUB_HEAD_REF": "feature", "GITHUB_REF_NAME": "12/merge"}
    )
    assert doc["branch"] == "feature"

    # a commit made on the detached HEAD is on no branch of the server
    sha = ci.commit({"web/src/pages/Late.tsx": REAL_COMPONENT}, "made in CI")
    code, doc = verify_json(ci.path, env={"CI_COMMIT_REF_NAME": "feature"})
    assert code == 1
    (finding,) = doc["findings"]
    assert finding["id"] == "unpushed-commits" and sha[:10] in finding["message"]


def test_detached_head_without_a_branch_is_unusable_input(project: GitRepo) -> None:
    real_feature(project)
    project.git("checkout", "--quiet", "--detach")
    proc = run_verify(project.path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "detached" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_shallow_clone_is_deepened(project: GitRepo, tmp_path: Path) -> None:
    real_feature(project)
    full = verify_json(project.path)[1]["diffstat"]
    ci = clone(project.origin, tmp_path / "ci", "--depth=1", "--branch=feature")
    assert is_shallow(ci.path)

    code, doc = verify_json(ci.path)

    assert code == 0, doc["findings"]
    assert not is_shallow(ci.path)
    assert doc["diffstat"] == full


def test_shallow_clone_without_fetch_says_why_it_cannot_answer(
    project: GitRepo, tmp_path: Path
) -> None:
    real_feature(project)
    ci = clone(project.origin, tmp_path / "ci", "--depth=1", "--no-single-branch")

    proc = run_verify(ci.path, "--no-fetch", "--branch", "feature")

    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "shallow" in proc.stderr and "merge base" in proc.stderr
    assert is_shallow(ci.path)  # --no-fetch means hands off


def test_deep_enough_shallow_clone_without_fetch_warns(project: GitRepo, tmp_path: Path) -> None:
    project.git("checkout", "--quiet", "main")
    for n in range(3):
        project.commit({f"notes/{n}.md": f"note {n}\n"}, f"main moves on {n}")
    project.push()
    project.git("checkout", "--quiet", "-B", "feature")
    real_feature(project)
    ci = clone(project.origin, tmp_path / "ci", "--depth=2", "--no-single-branch")
    assert is_shallow(ci.path)
    code, doc = verify_json(ci.path, "--no-fetch", "--branch", "feature")
    assert code == 0
    assert [(f["id"], f["severity"]) for f in doc["findings"]] == [("shallow-clone", "warning")]


def test_stale_remote_tracking_refs_are_fetched(project: GitRepo, tmp_path: Path) -> None:
    real_feature(project)
    other = clone(project.origin, tmp_path / "other", "--branch=feature")
    newer = other.commit({"web/src/pages/More.tsx": REAL_COMPONENT}, "pushed elsewhere")
    other.push("feature")

    code, doc = verify_json(project.path, "--no-fetch")
    assert code == 0
    assert [f["id"] for f in doc["findings"]] == ["stale-remote-ref"]
    assert "More.tsx" not in json.dumps(doc["diffstat"])

    code, doc = verify_json(project.path)
    assert code == 0 and doc["findings"] == []
    assert project.git("rev-parse", "origin/feature") == newer
    assert "web/src/pages/More.tsx" in json.dumps(doc["diffstat"])


def test_github_annotations(project: GitRepo) -> None:
    project.commit({"web/src/pages/Orders.tsx": STUB_COMPONENT}, "stub")
    project.git("push", "--quiet", "--set-upstream", "origin", "feature")
    proc = run_verify(project.path, "--format", "github")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert any(
        line.startswith("::error file=web/src/pages/Orders.tsx,line=") and "title=stub" in line
        for line in lines
    )
    assert any("title=generated-only" in line for line in lines)
    assert lines[-1].startswith("::notice title=verify origin/feature::hand-written +9")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("[tool.omc-dev.verify]\nbase = 3\n", "'base' must be a non-empty string"),
        (
            "[[tool.omc-dev.verify.deliverables]]\nname = 'x'\npathz = ['a']\n",
            "unknown key 'pathz'",
        ),
        ("[tool.omc-dev.verify\n", "invalid TOML"),
    ],
)
def test_bad_spec_is_one_line_exit_2(project: GitRepo, spec: str, message: str) -> None:
    (project.path / "pyproject.toml").write_text(spec)
    proc = run_verify(project.path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_spec_file_option(project: GitRepo, tmp_path: Path) -> None:
    real_feature(project)
    spec = tmp_path / "deliverables.toml"
    spec.write_text('[[deliverables]]\nname = "settings"\npaths = ["web/src/pages/Settings.tsx"]\n')
    code, doc = verify_json(project.path, "--spec", str(spec))
    assert code == 1
    assert [f["id"] for f in doc["findings"]] == ["missing-path"]
    proc = run_verify(project.path, "--spec", str(tmp_path / "nope.toml"))
    assert proc.returncode == 2 and "no such spec file" in proc.stderr


def test_not_a_repository_and_unknown_remote_are_exit_2(project: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    proc = run_verify(outside)
    assert proc.returncode == 2 and "not inside a git repository" in proc.stderr
    assert proc.stderr.count("\n") == 1
    proc = run_verify(project.path, "--remote", "upstream")
    assert proc.returncode == 2 and "no remote named 'upstream'" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_a_remote_that_is_not_there_names_the_cause(project: GitRepo, tmp_path: Path) -> None:
    gone = tmp_path / "gone.git"
    project.git("remote", "set-url", "origin", str(gone))
    proc = run_verify(project.path)
    assert proc.returncode == 125
    assert proc.stderr.count("\n") == 1, proc.stderr
    # the cause, not git's closing advice ("... and the repository exists.")
    assert f"'{gone}' does not appear to be a git repository" in proc.stderr


def test_unreachable_remote_never_prompts(project: GitRepo, tmp_path: Path) -> None:
    """A server that asks for credentials: git must fail at once, not wait for a person."""
    server = WebhookServer().start()
    try:
        server.default = Reply(401, {"WWW-Authenticate": 'Basic realm="git"'}, b"")
        asked = tmp_path / "askpass-was-called"
        askpass = tmp_path / "askpass.sh"
        askpass.write_text(f"#!/bin/sh\ntouch {asked}\nsleep 60\necho secret\n")
        askpass.chmod(askpass.stat().st_mode | stat.S_IEXEC)
        project.git("remote", "set-url", "origin", server.url("/repo.git"))
        project.git("config", "core.askPass", str(askpass))

        started = time.monotonic()
        proc = run_verify(
            project.path,
            "--no-fetch",
            env={"GIT_ASKPASS": str(askpass), "SSH_ASKPASS": str(askpass)},
        )
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert proc.returncode == 125, proc.stderr
    assert proc.stderr.count("\n") == 1 and "cannot list the branches" in proc.stderr
    assert not asked.exists()
    assert elapsed < 30
    assert any(r.method == "GET" and "/repo.git/info/refs" in r.path for r in server.requests)


def test_merged_branch_still_passes(project: GitRepo) -> None:
    real_feature(project)
    project.git("checkout", "--quiet", "main")
    project.git("merge", "--quiet", "--ff-only", "feature")
    project.push()
    project.git("checkout", "--quiet", "feature")
    code, doc = verify_json(project.path)
    assert code == 0, doc["findings"]
    assert doc["diffstat"]["handwritten"]["files"] == []
    assert "is merged into main" in run_verify(project.path).stdout


def test_tag_builds_do_not_name_a_branch(project: GitRepo) -> None:
    real_feature(project)
    env = {"GITHUB_REF_NAME": "v1.0", "GITHUB_REF_TYPE": "tag"}
    code, doc = verify_json(project.path, env=env)
    assert code == 0
    assert doc["branch"] == "feature"  # the tag name was not taken for a branch


def test_unrelated_histories_are_unusable_input(project: GitRepo) -> None:
    project.git("checkout", "--quiet", "--orphan", "island")
    project.commit({"x.txt": "x\n"}, "unrelated")
    project.push("island")
    proc = run_verify(project.path, "--branch", "island")
    assert proc.returncode == 2
    assert "share no history" in proc.stderr and proc.stderr.count("\n") == 1


def test_the_early_diff_of_a_stale_tracking_ref_is_not_the_answer(
    project: GitRepo, tmp_path: Path
) -> None:
    real_feature(project)
    old = project.git("rev-parse", "HEAD")
    project.commit({"web/src/pages/More.tsx": REAL_COMPONENT}, "pushed, then forgotten")
    project.push("feature")
    # The server's commit is here, but the tracking ref says otherwise: verify starts its diff
    # on the tracking ref, and must drop it once the server names another commit.
    project.git("update-ref", "refs/remotes/origin/feature", old)

    code, doc = verify_json(project.path, "--no-fetch")

    assert code == 0 and doc["findings"] == []
    assert "web/src/pages/More.tsx" in json.dumps(doc["diffstat"])


def test_every_git_process_is_non_interactive_and_few(project: GitRepo, tmp_path: Path) -> None:
    """Counted by a `git` first on PATH, GitPython's own calls included."""
    real_feature(project)
    shim, log = tmp_path / "shim", tmp_path / "calls.log"
    shim.mkdir()
    real_git = shutil.which("git")
    (shim / "git").write_text(
        f'#!/bin/sh\necho "${{GIT_TERMINAL_PROMPT-unset}}|$*" >> "{log}"\nexec "{real_git}" "$@"\n'
    )
    (shim / "git").chmod(0o755)
    env = {**verify_env(), "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"}
    env["GIT_TERMINAL_PROMPT"] = "1"  # what verify must override

    proc = omc("verify", "--no-fetch", cwd=project.path, env=env, timeout=120)

    assert proc.returncode == 0, proc.stderr
    calls = [line.split("|", 1) for line in log.read_text().splitlines()]
    commands = sorted(args.split()[0] for _, args in calls if args != "version")
    assert commands == ["cat-file", "diff", "for-each-ref", "ls-remote", "ls-tree"]
    # GitPython asks `git version` when it is imported (3.1: twice); nothing else of its own
    assert 1 <= len(calls) - len(commands) <= 2
    assert all(prompt == "0" for prompt, args in calls if args != "version")


def test_shallow_clone_of_every_branch_is_deepened_before_the_diff_counts(
    project: GitRepo, tmp_path: Path
) -> None:
    # Both tracking refs exist, so the diff starts early, on history the fetch then deepens.
    project.git("checkout", "--quiet", "main")
    project.commit({"notes/a.md": "a\n"}, "main moves on")
    project.push()
    project.git("checkout", "--quiet", "feature")
    real_feature(project)
    ci = clone(project.origin, tmp_path / "ci", "--depth=1", "--no-single-branch")

    code, doc = verify_json(ci.path, "--branch", "feature")

    assert code == 0, doc["findings"]
    assert not is_shallow(ci.path)
    assert "web/src/pages/Orders.tsx" in json.dumps(doc["diffstat"])
