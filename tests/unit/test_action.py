"""The composite GitHub Action (action.yml) and the project's workflow.

GitHub is not reachable here, so each step's script runs in bash as the runner would run it
(`bash -eo pipefail`), with the inputs substituted, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as
files, and `omc-dev` / `python` from this checkout. actionlint checks the workflows, the action's
inputs and outputs as a workflow uses them, and the actions it pins.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.cli import REPO_ROOT
from tests.fixtures.git import GitRepo, git, make_repo
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.verify import (
    REAL_CLIENT,
    REAL_COMPONENT,
    SPEC,
    STUB_COMPONENT,
    verify_env,
)

EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def action() -> dict[str, Any]:
    doc = yaml.safe_load((REPO_ROOT / "action.yml").read_text())
    assert isinstance(doc, dict)
    return doc


def step(step_id_or_name: str) -> dict[str, Any]:
    (found,) = [
        s for s in action()["runs"]["steps"] if step_id_or_name in (s.get("id"), s.get("name"))
    ]
    return dict(found)


@pytest.fixture
def runner_env(tmp_path: Path) -> dict[str, str]:
    """What the runner provides: `omc-dev` and `python` of this checkout (as the install step's
    virtualenv would), RUNNER_TEMP, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in (("omc-dev", "-m devtools"), ("python", "")):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" {target} "$@"\n')
        shim.chmod(0o755)
    env = verify_env()
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["RUNNER_TEMP"] = str(tmp_path / "runner-temp")
    (tmp_path / "runner-temp").mkdir()
    env["GITHUB_OUTPUT"] = str(tmp_path / "output")
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary.md")
    for var in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "NO_COLOR"):
        env.pop(var, None)
    return env


class Steps:
    """Runs the action's bash steps in order, feeding each step's outputs to the next."""

    def __init__(self, env: dict[str, str], cwd: Path, **given: str) -> None:
        self.env, self.cwd = env, cwd
        defaults = {k: str(v.get("default", "")) for k, v in action()["inputs"].items()}
        unknown = set(given) - set(defaults)
        assert not unknown, f"not inputs of the action: {unknown}"
        self.inputs = {**defaults, **given}
        self.outputs: dict[str, dict[str, str]] = {}

    def resolve(self, value: str) -> str:
        def one(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("inputs."):
                return self.inputs[expr.removeprefix("inputs.")]
            if expr == "github.action_path":
                return str(REPO_ROOT)
            if expr.startswith("steps."):
                step_id, _, name = expr.removeprefix("steps.").partition(".outputs.")
                return self.outputs.get(step_id, {}).get(name, "")
            raise AssertionError(f"expression the harness does not know: {expr}")

        return EXPRESSION.sub(one, value)

    def run(self, name: str) -> subprocess.CompletedProcess[str]:
        definition = step(name)
        assert definition["shell"] == "bash"
        out_file = Path(self.env["GITHUB_OUTPUT"])
        out_file.write_text("")
        env = {**self.env, **{k: self.resolve(str(v)) for k, v in definition["env"].items()}}
        cwd = self.cwd / self.resolve(definition.get("working-directory", "."))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", definition["run"]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        outputs = dict(
            line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line
        )
        self.outputs[definition.get("id", name)] = outputs
        return proc

    def check(self) -> subprocess.CompletedProcess[str]:
        """Read inputs, then run the command (the install step needs the index: not run here)."""
        read = self.run("inputs")
        assert read.returncode == 0, read.stdout + read.stderr
        return self.run("run")


# ---- inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("true", "true"),
        ("True", "true"),
        ("YES", "true"),
        ("on", "true"),
        ("1", "true"),
        ("false", "false"),
        ("False", "false"),
        ("no", "false"),
        ("OFF", "false"),
        ("0", "false"),
    ],
)
def test_boolean_inputs_accept_what_github_users_write(
    given: str, expected: str, runner_env: dict[str, str], tmp_path: Path
) -> None:
    steps = Steps(runner_env, tmp_path, fetch=given, cache=given)
    proc = steps.run("inputs")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert steps.outputs["inputs"]["fetch"] == expected
    assert steps.outputs["inputs"]["cache"] == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"fetch": "maybe"}, "input fetch: 'maybe' is not a boolean"),
        ({"command": "up"}, "input command: 'up' is not one of verify, migrations lint, doctor"),
        ({"format": "xml"}, "input format: 'xml' is not one of"),
        ({"fork-pull-requests": "always"}, "input fork-pull-requests: 'always'"),
    ],
)
def test_bad_inputs_fail_with_one_error_annotation(
    given: dict[str, str], message: str, runner_env: dict[str, str], tmp_path: Path
) -> None:
    proc = Steps(runner_env, tmp_path, **given).run("inputs")
    assert proc.returncode == 2
    assert proc.stdout.startswith("::error title=omc-dev::") and message in proc.stdout


def test_each_command_installs_only_its_extra(runner_env: dict[str, str], tmp_path: Path) -> None:
    extras = {}
    for command in ("verify", "migrations lint", "doctor", "  migrations   lint "):
        steps = Steps(runner_env, tmp_path, command=command)
        assert steps.run("inputs").returncode == 0
        extras[command] = steps.outputs["inputs"]["extra"]
        assert steps.outputs["inputs"]["command"] in {"verify", "migrations lint", "doctor"}
    assert extras == {
        "verify": "[verify]",
        "migrations lint": "",
        "doctor": "[stack]",
        "  migrations   lint ": "",
    }
    install = step("Install omc-dev")
    assert '"$OMC_ACTION_PATH$OMC_EXTRA"' in install["run"]


# ---- migrations lint: outputs, annotations, summary, working-directory ---------------------


@pytest.fixture
def monorepo(tmp_path: Path) -> GitRepo:
    """A repository whose backend/ is an omc-dev project holding Alembic migrations (two heads)."""
    (tmp_path / "mono").mkdir()
    return make_repo(
        tmp_path / "mono",
        {
            "backend/pyproject.toml": '[tool.omc-dev]\nproject = "shop"\n',
            "backend/alembic.ini": "[alembic]\nscript_location = %(here)s/app/alembic\n",
            "backend/app/alembic/versions/a1.py": rf("a1", None),
            "backend/app/alembic/versions/b2.py": rf("b2", "a1"),
            "backend/app/alembic/versions/c3.py": rf("c3", "a1"),
        },
    )


def test_migrations_lint_in_a_working_directory_sets_outputs_and_summary(
    monorepo: GitRepo, runner_env: dict[str, str]
) -> None:
    steps = Steps(
        runner_env, monorepo.path, command="migrations lint", **{"working-directory": "backend"}
    )
    proc = steps.check()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # Annotations name files from the repository root, whatever the working directory.
    assert "::error file=backend/app/alembic/versions/" in proc.stdout
    assert "title=multiple-heads" in proc.stdout
    outputs = steps.outputs["run"]
    assert outputs["ok"] == "false" and outputs["exit-code"] == "1"
    assert outputs["skipped"] == "false"
    assert int(outputs["errors"]) >= 1 and int(outputs["findings"]) >= int(outputs["errors"])
    summary = Path(runner_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("### omc-dev migrations lint: failed")
    assert "| severity | id | where | message |" in summary
    assert "| error | `multiple-heads` |" in summary

    monorepo.git("rm", "--quiet", "backend/app/alembic/versions/c3.py")
    passed = steps.check()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert steps.outputs["run"]["ok"] == "true" and steps.outputs["run"]["errors"] == "0"
    assert (
        "### omc-dev migrations lint: passed" in Path(runner_env["GITHUB_STEP_SUMMARY"]).read_text()
    )


def test_a_command_that_cannot_run_says_why_in_log_outputs_and_summary(
    tmp_path: Path, runner_env: dict[str, str]
) -> None:
    (tmp_path / "r").mkdir()
    repo = make_repo(tmp_path / "r", {"alembic.ini": "[alembic]\n"})
    steps = Steps(runner_env, repo.path, command="migrations lint")
    proc = steps.check()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "::error title=omc-dev migrations lint::omc-dev:" in proc.stdout
    assert steps.outputs["run"]["ok"] == "false" and steps.outputs["run"]["exit-code"] == "2"
    assert "could not run (exit 2)" in Path(runner_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_text_and_json_formats(monorepo: GitRepo, runner_env: dict[str, str]) -> None:
    given = {"command": "migrations lint", "working-directory": "backend"}
    as_json = Steps(runner_env, monorepo.path, format="json", **given).check()
    assert json.loads(as_json.stdout)["findings"]
    as_text = Steps(runner_env, monorepo.path, format="text", **given).check()
    assert "multiple-heads" in as_text.stdout and "::error" not in as_text.stdout


# ---- verify: same repository, and pull requests from forks ----------------------------------


def feature_with(repo: GitRepo, component: str) -> None:
    repo.commit({"pyproject.toml": SPEC}, "spec")
    repo.push()
    repo.branch("feature")
    repo.commit({"web/src/pages/Orders.tsx": component, "web/src/api/client.ts": REAL_CLIENT})
    repo.push("feature")
    # actions/checkout leaves a detached HEAD for pull requests
    repo.git("checkout", "--quiet", "--detach")


def test_verify_annotates_a_stub_and_passes_real_work(
    git_repo: GitRepo, runner_env: dict[str, str]
) -> None:
    feature_with(git_repo, STUB_COMPONENT)
    env = {**runner_env, "GITHUB_HEAD_REF": "feature", "GITHUB_REF_NAME": "7/merge"}
    steps = Steps(env, git_repo.path)
    failed = steps.check()
    assert failed.returncode == 1, failed.stderr
    assert (
        "::error file=web/src/pages/Orders.tsx" in failed.stdout and "title=stub" in failed.stdout
    )
    assert steps.outputs["run"]["ok"] == "false"

    git_repo.git("checkout", "--quiet", "feature")
    git_repo.commit({"web/src/pages/Orders.tsx": REAL_COMPONENT}, "real")
    git_repo.push("feature")
    git_repo.git("checkout", "--quiet", "--detach")
    steps = Steps(env, git_repo.path, fetch="No", base="main")
    passed = steps.check()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert steps.outputs["run"] == {
        "ok": "true",
        "exit-code": "0",
        "skipped": "false",
        "findings": "0",
        "errors": "0",
        "warnings": "0",
    }


def pull_request_event(tmp_path: Path, fork_url: str) -> dict[str, str]:
    event = {
        "pull_request": {
            "head": {
                "ref": "feature",
                "repo": {"full_name": "someone/shop", "clone_url": fork_url},
            },
            "base": {"ref": "main", "repo": {"full_name": "team/shop", "clone_url": "unused"}},
        }
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_HEAD_REF": "feature",
        "GITHUB_REF_NAME": "7/merge",
    }


@pytest.fixture
def fork_pull_request(git_repo: GitRepo, tmp_path: Path) -> tuple[GitRepo, Path]:
    """A pull request from a fork: `feature` with real work is on the fork, not on origin."""
    fork = tmp_path / "fork.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(git_repo.origin), str(fork))
    git_repo.commit({"pyproject.toml": SPEC}, "spec")
    git_repo.push()
    git(git_repo.path, "push", "--quiet", str(fork), "HEAD:refs/heads/main")
    git_repo.branch("feature")
    git_repo.commit(
        {"web/src/pages/Orders.tsx": REAL_COMPONENT, "web/src/api/client.ts": REAL_CLIENT}, "real"
    )
    git(git_repo.path, "push", "--quiet", str(fork), "HEAD:refs/heads/feature")
    git_repo.git("checkout", "--quiet", "--detach")
    return git_repo, fork


def test_fork_pull_request_is_skipped_with_the_reason(
    fork_pull_request: tuple[GitRepo, Path], runner_env: dict[str, str], tmp_path: Path
) -> None:
    repo, fork = fork_pull_request
    env = {**runner_env, **pull_request_event(tmp_path, str(fork))}
    steps = Steps(env, repo.path)
    proc = steps.check()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(
        "::notice title=omc-dev verify skipped::pull request from the fork someone/shop"
    )
    assert steps.outputs["run"]["skipped"] == "true" and steps.outputs["run"]["ok"] == "true"
    assert "### omc-dev verify: skipped" in Path(runner_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_fork_pull_request_verified_on_the_fork(
    fork_pull_request: tuple[GitRepo, Path], runner_env: dict[str, str], tmp_path: Path
) -> None:
    repo, fork = fork_pull_request
    env = {**runner_env, **pull_request_event(tmp_path, str(fork))}
    # Without the fork, the branch is missing on origin: the failure the fork handling avoids.
    same_repo = {**env, "GITHUB_EVENT_NAME": "push"}
    missing = Steps(same_repo, repo.path, base="main").check()
    assert missing.returncode == 1 and "branch-missing" in missing.stdout, missing.stdout

    steps = Steps(env, repo.path, base="main", **{"fork-pull-requests": "verify"})
    proc = steps.check()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert steps.outputs["run"]["ok"] == "true" and steps.outputs["run"]["skipped"] == "false"
    assert repo.git("remote", "get-url", "omc-fork") == str(fork)


# ---- the workflow, and actionlint ---------------------------------------------------------


def test_workflow_uses_the_action_for_verify_and_migrations() -> None:
    workflow = yaml.safe_load((REPO_ROOT / ".github/workflows/verify.yml").read_text())
    # PyYAML reads the bare key `on` as True (YAML 1.1); GitHub reads it as "on".
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"push", "pull_request"}
    (job,) = workflow["jobs"].values()
    assert "if" not in job  # forks reach the action, which skips them with the reason
    ours = [s for s in job["steps"] if s.get("uses") == "./"]
    assert {s.get("with", {}).get("command", "verify") for s in ours} == {
        "verify",
        "migrations lint",
    }
    for s in ours:
        assert set(s.get("with", {})) <= set(action()["inputs"])
    assert workflow["permissions"] == {"contents": "read"}


def test_every_action_used_is_pinned_to_a_release_tag() -> None:
    uses = [s["uses"] for s in action()["runs"]["steps"] if "uses" in s]
    workflow = yaml.safe_load((REPO_ROOT / ".github/workflows/verify.yml").read_text())
    uses += [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    for ref in uses:
        if ref == "./":
            continue
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+", ref), ref


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which(
        "actionlint"
    )
    if found is None:
        pytest.skip("actionlint not installed (pip install -e '.[dev]' brings it)")
    return found


def lint(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-no-color", "-oneline", "-shellcheck=", "-pyflakes="],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_actionlint_passes_on_the_workflows() -> None:
    proc = lint(REPO_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_passes_on_the_action_as_a_workflow_uses_it(tmp_path: Path) -> None:
    """A scratch project holding action.yml and a workflow that sets every input, reads every
    output, and runs the actions the composite pins (actionlint reads action metadata only
    through a workflow that uses it)."""
    actionlint()
    doc = action()
    (tmp_path / ".github/workflows").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "action.yml", tmp_path / "action.yml")
    git(tmp_path, "init", "--quiet")
    pinned = [
        {"uses": s["uses"], "with": {k: "x" for k in s.get("with", {})}}
        for s in doc["runs"]["steps"]
        if "uses" in s
    ]
    reads = " ".join("${{ steps.omc.outputs." + name + " }}" for name in doc["outputs"])
    ours: dict[str, Any] = {"id": "omc", "uses": "./", "with": dict.fromkeys(doc["inputs"], "x")}
    workflow: dict[str, Any] = {
        "name": "uses the action",
        "on": {"push": {}},
        "permissions": {"contents": "read"},
        "jobs": {
            "check": {
                "runs-on": "ubuntu-latest",
                "steps": [
                    {"uses": "actions/checkout@v5.0.0"},
                    *pinned,
                    ours,
                    {"run": f'echo "{reads}"'},
                ],
            }
        },
    }
    (tmp_path / ".github/workflows/uses.yml").write_text(yaml.safe_dump(workflow, sort_keys=False))
    proc = lint(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # The check can fail: an input the action does not declare is caught.
    ours["with"]["no-such-input"] = "x"
    (tmp_path / ".github/workflows/uses.yml").write_text(yaml.safe_dump(workflow, sort_keys=False))
    bad = lint(tmp_path)
    assert bad.returncode == 1 and 'input "no-such-input" is not defined' in bad.stdout


def test_every_step_script_is_valid_bash() -> None:
    for definition in action()["runs"]["steps"]:
        if "run" in definition:
            syntax = subprocess.run(
                ["bash", "-n", "-c", definition["run"]], capture_output=True, check=False
            )
            assert syntax.returncode == 0, (definition["name"], syntax.stderr)
