from __future__ import annotations

import io
import json

from devtools.findings import Finding, Severity, exit_code_for
from devtools.report.render import github_annotation, render
from devtools.report.report import SCHEMA_VERSION, Report

ERR = Finding(
    "multiple-heads",
    Severity.ERROR,
    "two heads: a, b",
    path="versions/a.py",
    line=3,
    fix="alembic merge heads",
)
WARN = Finding("missing-mount", Severity.WARNING, "scripts/ is not mounted [tool.omc-dev]")


def test_exit_code_follows_error_severity() -> None:
    assert exit_code_for([]) == 0
    assert exit_code_for([WARN]) == 0
    assert exit_code_for([WARN, ERR]) == 1


def test_json_shape_has_one_id_key_and_the_commands_data() -> None:
    out = io.StringIO()
    code = render(Report("migrations lint", [ERR], data={"heads": ["a", "b"]}), "json", out)
    doc = json.loads(out.getvalue())
    assert code == 1
    assert doc["schema_version"] == SCHEMA_VERSION and doc["command"] == "migrations lint"
    assert doc["ok"] is False and doc["summary"] == {"errors": 1, "warnings": 0, "infos": 0}
    assert doc["heads"] == ["a", "b"]
    assert doc["findings"] == [
        {
            "id": "multiple-heads",
            "severity": "error",
            "path": "versions/a.py",
            "line": 3,
            "message": "two heads: a, b",
            "fix": "alembic merge heads",
        }
    ]


def test_github_annotation_escapes_data_and_properties() -> None:
    f = Finding("x", Severity.ERROR, "50% done\nnext line", path="a,b:c.py", line=7)
    assert (
        github_annotation(f) == "::error file=a%2Cb%3Ac.py,line=7,title=x::50%25 done%0Anext line"
    )
    assert github_annotation(WARN).startswith("::warning title=missing-mount::")
    assert github_annotation(Finding("i", Severity.INFO, "m")).startswith("::notice ")


def test_text_output_shows_user_text_verbatim() -> None:
    out = io.StringIO()
    render(Report("doctor", [WARN, ERR]), "text", out)
    text = out.getvalue()
    assert "[tool.omc-dev]" in text  # not swallowed as rich markup
    assert "1 error(s), 1 warning(s)" in text


def test_text_output_when_clean() -> None:
    out = io.StringIO()
    assert render(Report("x", [], title="lint"), "text", out) == 0
    assert "lint: no problems found" in out.getvalue()


def test_concise_is_one_line_per_finding_without_a_table_or_counts() -> None:
    out = io.StringIO()
    folded = Finding("stub", Severity.WARNING, "a stub:\n  pass", path="app/x.py")
    assert render(Report("verify", [ERR, WARN, folded]), "concise", out) == 1
    assert out.getvalue().splitlines() == [
        "versions/a.py:3: multiple-heads two heads: a, b",
        "missing-mount scripts/ is not mounted [tool.omc-dev]",
        "app/x.py: stub a stub: pass",
    ]


def test_concise_prints_nothing_when_clean() -> None:
    out = io.StringIO()
    assert render(Report("verify", [WARN]), "concise", out) == 0
    assert render(Report("verify", []), "concise", out) == 0
    assert out.getvalue().count("\n") == 1


def test_verify_summary_notice_is_escaped_like_every_annotation() -> None:
    from devtools.git.history import FileChange
    from devtools.verify.generated import HANDWRITTEN
    from devtools.verify.model import DiffEntry
    from devtools.verify.model import Report as VerifyReport
    from devtools.verify.report import render as render_verify

    change = FileChange("a.py", "A", insertions=1200, deletions=0, binary=False)
    report = VerifyReport("origin", "fix,ui", diff=[DiffEntry(change, HANDWRITTEN)])
    out = io.StringIO()
    assert render_verify(report, "github", stream=out) == 0
    assert out.getvalue() == (
        "::notice title=verify origin/fix%2Cui::hand-written +1,200 -0 in 1 file; "
        "generated +0 -0 in 0 files\n"
    )
