"""verify on a stack shaped like the FastAPI full-stack template: no false alarm on honest work,
no silent pass on phantom work. Real clones, a real bare origin, the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.git import GitRepo, clone, make_repo
from tests.fixtures.verify import (
    CLIENT_OPTIONS,
    CLIENT_REQUEST,
    CRUD_WITH_STUB,
    ITEM_STATUS,
    ITEM_STATUS_STUB,
    MODELS_WITH_STATUS,
    STATUS_REVISION,
    checks,
    fastapi_stack,
    hey_api_types,
    run_verify,
    verify_json,
)

REVISION_PATH = "backend/app/alembic/versions/8d4b2a6c0e19_add_status.py"
CONFIG = "frontend/openapi-ts.config.ts"


@pytest.fixture
def stack(tmp_path: Path) -> GitRepo:
    """main holds the stack (no deliverables spec); each test works on its own branch."""
    repo = make_repo(tmp_path, fastapi_stack())
    repo.branch("feature/item-status")
    return repo


def push(repo: GitRepo) -> None:
    repo.git("push", "--quiet", "--set-upstream", "origin", "HEAD")


def honest_work(repo: GitRepo) -> None:
    """A column with its migration (whose downgrade is Alembic's `pass`), the regenerated
    client (core/ files without a header marker), and a complete six-line component."""
    repo.commit(
        {
            REVISION_PATH: STATUS_REVISION,
            "backend/app/models.py": MODELS_WITH_STATUS,
            "frontend/src/client/types.gen.ts": hey_api_types(21),
            "frontend/src/client/core/request.ts": CLIENT_REQUEST.replace(
                "400", "400: 'x',\n\t\t401"
            ),
            "frontend/src/client/core/ApiRequestOptions.ts": CLIENT_OPTIONS.replace(
                "readonly url", "readonly status?: string;\n\treadonly url"
            ),
            "frontend/src/components/Items/ItemStatus.tsx": ITEM_STATUS,
        },
        "items get a status",
    )
    push(repo)


# A spec whose deliverables name the generated client folder, the migrations and the component.
SPEC = """\
[[deliverables]]
name = "item status"
paths = [
  "frontend/src/client",
  "frontend/src/components/Items/ItemStatus.tsx",
  "backend/app/alembic/versions",
]
symbols = ["ItemStatus"]
"""


def test_honest_branch_verifies_clean_with_and_without_a_spec(
    stack: GitRepo, tmp_path: Path
) -> None:
    honest_work(stack)
    spec = tmp_path / "deliverables.toml"
    spec.write_text(SPEC)

    for args in ((), ("--spec", str(spec))):
        code, doc = verify_json(stack.path, *args)
        assert (code, doc["findings"]) == (0, []), args

    generated = {f["path"]: f["reason"] for f in doc["diffstat"]["generated"]["files"]}
    named = f"named by {CONFIG} output"
    assert generated == {
        "frontend/src/client/types.gen.ts": named,
        "frontend/src/client/core/request.ts": named,  # no header marker: the config says so
        "frontend/src/client/core/ApiRequestOptions.ts": named,
    }
    hand = {f["path"] for f in doc["diffstat"]["handwritten"]["files"]}
    assert hand == {
        REVISION_PATH,
        "backend/app/models.py",
        "frontend/src/components/Items/ItemStatus.tsx",
    }
    text = run_verify(stack.path, env={"COLUMNS": "200"}).stdout
    assert f"generated: {named}" in text


def test_empty_branch_is_an_error_without_a_spec(stack: GitRepo) -> None:
    push(stack)  # the branch exists on origin, with no commit of its own

    code, doc = verify_json(stack.path)

    assert code == 1
    (finding,) = doc["findings"]
    assert finding["id"] == "empty-branch" and finding["severity"] == "error"
    assert "no commits beyond origin/main" in finding["message"]
    assert finding["fix"].startswith("commit the work on feature/item-status")


def test_commits_that_cancel_out_are_an_empty_branch(stack: GitRepo) -> None:
    stack.commit({"backend/app/crud.py": CRUD_WITH_STUB}, "close items")
    stack.git("revert", "--no-edit", "HEAD")
    push(stack)

    code, doc = verify_json(stack.path)

    assert code == 1
    (finding,) = doc["findings"]
    assert finding["id"] == "empty-branch"
    assert "changes nothing relative to origin/main" in finding["message"]


def test_a_branch_merged_with_a_merge_commit_is_not_empty_but_an_unused_one_is(
    stack: GitRepo, tmp_path: Path
) -> None:
    honest_work(stack)
    stack.git("checkout", "--quiet", "main")
    stack.git("merge", "--quiet", "--no-ff", "-m", "merge item status", "feature/item-status")
    stack.push()
    stack.branch("feature/unused")
    push(stack)
    # a fresh clone has no reflog of anyone's commits: the merge commit is the evidence
    ci = clone(stack.origin, tmp_path / "ci").path

    code, doc = verify_json(ci, "--branch", "feature/item-status")
    assert (code, doc["findings"]) == (0, [])
    assert "is merged into main" in run_verify(ci, "--branch", "feature/item-status").stdout

    code, doc = verify_json(ci, "--branch", "feature/unused")
    assert code == 1
    assert checks(doc) == {"empty-branch"}


def test_null_component_padded_with_thousands_of_generated_lines_fails(stack: GitRepo) -> None:
    stack.commit(
        {
            "frontend/src/client/types.gen.ts": hey_api_types(500),  # ~3,500 lines, marked
            "frontend/src/client/core/schemas.ts": hey_api_types(100, marker=False),
            "frontend/src/components/Items/ItemStatus.tsx": ITEM_STATUS_STUB,
        },
        "item status done",
    )
    push(stack)

    code, doc = verify_json(stack.path)

    assert code == 1
    assert checks(doc) == {"stub", "generated-only"}
    (stub,) = [f for f in doc["findings"] if f["id"] == "stub"]
    assert stub["path"] == "frontend/src/components/Items/ItemStatus.tsx" and stub["line"] == 6
    assert "ItemStatus() returns null" in stub["message"]
    (padding,) = [f for f in doc["findings"] if f["id"] == "generated-only"]
    assert "9 of the 9 hand-written lines are in files with stubs" in padding["message"]
    reasons = {f["path"]: f["reason"] for f in doc["diffstat"]["generated"]["files"]}
    assert reasons["frontend/src/client/core/schemas.ts"] == f"named by {CONFIG} output"
    assert doc["diffstat"]["handwritten"]["insertions"] == 9


def test_stub_added_to_a_changed_file_is_an_error_and_untouched_code_is_not_judged(
    stack: GitRepo,
) -> None:
    stack.commit({"backend/app/crud.py": CRUD_WITH_STUB}, "close items")
    push(stack)

    code, doc = verify_json(stack.path)

    assert code == 1
    (stub,) = doc["findings"]
    assert stub["id"] == "stub" and stub["severity"] == "error"
    assert (stub["path"], stub["line"]) == ("backend/app/crud.py", 12)
    assert stub["message"] == "close_item() is only `pass`"


def test_configured_globs_mark_a_client_without_markers_or_config(stack: GitRepo) -> None:
    stack.git("rm", "--quiet", CONFIG)
    stack.commit(
        {
            "pyproject.toml": '[tool.omc-dev.verify]\ngenerated = ["frontend/src/client/**"]\n',
            "frontend/src/client/core/schemas.ts": hey_api_types(200, marker=False),
            "frontend/src/components/Items/ItemStatus.tsx": ITEM_STATUS,
        },
        "status badge and its client",
    )
    push(stack)

    code, doc = verify_json(stack.path)

    assert (code, doc["findings"]) == (0, [])
    (row,) = doc["diffstat"]["generated"]["files"]
    assert row["path"] == "frontend/src/client/core/schemas.ts"
    assert row["reason"] == "matches frontend/src/client/** ([tool.omc-dev.verify] generated)"


def test_never_pushed_branch_says_it_is_not_on_the_remote(stack: GitRepo) -> None:
    stack.commit({"frontend/src/components/Items/ItemStatus.tsx": ITEM_STATUS}, "local only")

    proc = run_verify(stack.path)

    assert proc.returncode == 1
    assert "up to date" not in proc.stdout
    assert "origin/feature/item-status  (current branch, not on origin" in proc.stdout
    assert "branch-missing" in proc.stdout
