"""Shapes seen in public projects' Alembic histories: no noise, no wrong advice.

Each fixture is written here after a pattern met in real histories (ordered indexes written as
`sa.text("col DESC")`, string predicates, a root with `down_revision = ""`, tables or views the
migrations create in SQL, DML built at run time), never copied from them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from alembic.script.revision import CycleDetected

from devtools.findings import Finding, Severity
from devtools.migrations.graph.read import load_history
from devtools.migrations.graph.rules import graph_findings
from devtools.migrations.lint import LintSettings, lint, select_rules
from devtools.migrations.location import ScriptLocation
from tests.fixtures.migrations import alembic_heads, write_versions
from tests.fixtures.migrations import revision_file as rf

RUNS = """\
    op.create_table(
        "flow_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("end_time", sa.DateTime(timezone=True)),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("kind", sa.String(20)),
    )
"""


@pytest.fixture(autouse=True)
def no_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMC_NO_CACHE", "1")


def body(text: str) -> str:
    return textwrap.indent(textwrap.dedent(text), "    ")


def findings(tmp_path: Path, files: dict[str, str], rules: str = "index") -> list[Finding]:
    folder = write_versions(tmp_path / "m", files)
    settings = LintSettings(rules=select_rules([rules]))
    return lint(ScriptLocation((folder / "versions",)), settings, cwd=tmp_path).findings


def index_findings(tmp_path: Path, upgrade: str) -> list[tuple[str, str]]:
    return [(f.id, f.message) for f in findings(tmp_path, {"a1.py": rf("a1", upgrade=upgrade)})]


# --- index elements and predicates as real histories write them ---------------------------------


@pytest.mark.parametrize(
    "element",
    [
        'sa.text("end_time DESC")',
        'sa.text("end_time ASC")',
        "sa.text('\"end_time\" DESC NULLS LAST')",
        'sa.text("name NULLS FIRST")',
        "sa.text('name COLLATE \"C\" DESC')",
        'sa.text("name text_pattern_ops")',
        'sa.text("lower(name) DESC")',
        'sa.literal_column("end_time DESC")',
    ],
)
def test_ordered_and_collated_index_elements_are_read(tmp_path: Path, element: str) -> None:
    upgrade = RUNS + body(f'op.create_index("ix", "flow_run", ["id", {element}])')
    assert index_findings(tmp_path, upgrade) == []


def test_an_ordered_element_that_is_not_an_index_element_is_still_caught(tmp_path: Path) -> None:
    upgrade = RUNS + body('op.create_index("ix", "flow_run", [sa.text("end_time::date DESC")])')
    rules = {rule for rule, _ in index_findings(tmp_path, upgrade)}
    assert rules == {"invalid-index-expression", "non-immutable-index"}


def test_a_string_predicate_is_sql_as_sqlalchemy_reads_it(tmp_path: Path) -> None:
    clean = RUNS + body(
        'op.create_index("ix", "flow_run", ["name"], unique=True, '
        "postgresql_where=\"deleted_at IS NULL AND kind = 'run'\")"
    )
    assert index_findings(tmp_path, clean) == []
    bad = RUNS + body(
        'op.create_index("ix", "flow_run", ["name"], postgresql_where="end_time > now()")'
    )
    ((rule, message),) = index_findings(tmp_path / "bad", bad)
    assert rule == "non-immutable-index" and "now()" in message


# --- verdicts that do not depend on a column's type ---------------------------------------------


@pytest.mark.parametrize(
    "predicate",
    [
        "archived_at IS NULL",
        "token IS NOT NULL",
        "active = true",
        "NOT active",
        "kind = 2",
        "link_type = 2 AND NOT is_deleted AND owner_id IS NOT NULL",
    ],
)
def test_no_unknown_type_warning_when_the_type_cannot_matter(
    tmp_path: Path, predicate: str
) -> None:
    # `legacy` is made by SQL the linter does not read: its column types are unknown.
    upgrade = body(
        f"""
        op.execute(sql_from_elsewhere)
        op.create_index("ix", "legacy", ["id"], postgresql_where=sa.text("{predicate}"))
        """
    )
    assert index_findings(tmp_path, upgrade) == []
    # A verdict that does depend on the type still warns.
    upgrade += body('op.create_index("ix2", "legacy", [sa.text("(date(created_at))")])')
    ((rule, message),) = index_findings(tmp_path / "typed", upgrade)
    assert rule == "unverified-index" and "legacy is not created by these migrations" in message


# --- what op.execute creates --------------------------------------------------------------------


def test_a_materialized_view_made_earlier_is_known(tmp_path: Path) -> None:
    view = body(
        '''
        op.execute("""
            CREATE MATERIALIZED VIEW IF NOT EXISTS daily_totals AS
            SELECT date_trunc('day', end_time) AS day, count(*) AS total
            FROM flow_run GROUP BY 1
            WITH NO DATA
        """)
        '''
    )
    index = body(
        """
        op.create_index("ix_total", "daily_totals", ["day"], postgresql_where=sa.text("total IS NOT NULL"))
        op.create_index("ix_day", "daily_totals", [sa.text("(date(day))")])
        """
    )
    found = findings(
        tmp_path, {"a1.py": rf("a1", upgrade=RUNS + view), "b2.py": rf("b2", "a1", upgrade=index)}
    )
    ((warning),) = found
    assert warning.id == "unverified-index" and warning.severity is Severity.WARNING
    assert "daily_totals is a materialized view created earlier in the history" in warning.message
    assert "not created by these migrations" not in warning.message
    # Dropped, it is gone again.
    dropped = body('op.execute("DROP MATERIALIZED VIEW daily_totals")') + index
    found = findings(
        tmp_path / "dropped",
        {"a1.py": rf("a1", upgrade=RUNS + view), "b2.py": rf("b2", "a1", upgrade=dropped)},
    )
    assert [f.message for f in found if "is not created by these migrations" in f.message]


def test_dml_built_at_run_time_is_not_a_warning(tmp_path: Path) -> None:
    upgrade = body(
        """
        op.execute(f"UPDATE flow_run SET kind = '{Kind.done.value}' WHERE kind IS NULL")
        op.execute("ALTER TABLE flow_run RENAME CONSTRAINT pk_old TO pk_flow_run")
        op.execute(json.dumps(name))
        """
    )
    assert index_findings(tmp_path, RUNS + upgrade) == []
    # An index built at run time still warns.
    upgrade += body(
        """
        op.execute(f"CREATE INDEX ix_{name} ON flow_run ((date(end_time)))")
        op.execute(CREATE_INDEX_SQL)
        """
    )
    found = index_findings(tmp_path / "index", RUNS + upgrade)
    assert [rule for rule, _ in found] == ["unverified-index", "unverified-index"]


# --- the graph ----------------------------------------------------------------------------------


def graph(tmp_path: Path, files: dict[str, str]) -> tuple[list[str], list[Finding]]:
    folder = write_versions(tmp_path / "m", files)
    history = load_history(ScriptLocation((folder / "versions",)), tmp_path)
    return history.distinct_heads(), graph_findings(history)


def test_an_empty_string_down_revision_is_a_base_and_a_note(tmp_path: Path) -> None:
    files = {"a1.py": rf("a1", ""), "b2.py": rf("b2", "a1"), "c3.py": rf("c3", "b2")}
    heads, found = graph(tmp_path, files)
    assert heads == ["c3"]
    ((note),) = found
    assert note.id == "empty-down-revision" and note.severity is Severity.INFO
    assert note.fix == "write down_revision = None"
    assert "1.12.1" in note.message


def test_a_missing_parent_is_never_pointed_at_its_own_descendants(tmp_path: Path) -> None:
    files = {"a1.py": rf("a1", "gone"), "b2.py": rf("b2", "a1"), "c3.py": rf("c3", "b2")}
    heads, found = graph(tmp_path, files)
    assert heads == ["c3"]
    ((missing),) = [f for f in found if f.id == "missing-parent"]
    assert missing.fix is not None
    assert "current heads: none" not in missing.fix
    assert "down_revision = None" in missing.fix
    assert "c3 is built on a1 and cannot be its parent" in missing.fix


def test_a_missing_parent_names_the_heads_it_can_go_on(tmp_path: Path) -> None:
    files = {"a1.py": rf("a1"), "b2.py": rf("b2", "a1"), "x9.py": rf("x9", "gone")}
    _, found = graph(tmp_path, files)
    ((missing),) = [f for f in found if f.id == "missing-parent"]
    assert missing.fix is not None and "heads outside its own descendants: b2" in missing.fix


def test_a_cycle_alembic_loads_is_described_as_it_behaves(tmp_path: Path) -> None:
    # a1 <- b2 <-> c3 <- d4: every revision lies between the base and the head.
    files = {
        "a1.py": rf("a1"),
        "b2.py": rf("b2", ("a1", "c3")),
        "c3.py": rf("c3", "b2"),
        "d4.py": rf("d4", "c3"),
    }
    heads, found = graph(tmp_path, files)
    assert heads == alembic_heads(tmp_path / "m") == ["d4"]
    ((cycle),) = [f for f in found if f.id == "revision-cycle"]
    assert "Alembic does not notice it" in cycle.message
    assert "refuses" not in cycle.message


def test_a_cycle_alembic_refuses_gets_no_merge_advice(tmp_path: Path) -> None:
    # c3 <-> d4 cut off from every base, beside a chain; e5 a second head above the cycle.
    files = {
        "a1.py": rf("a1"),
        "b2.py": rf("b2", "a1"),
        "c3.py": rf("c3", "d4"),
        "d4.py": rf("d4", "c3"),
        "e5.py": rf("e5", "d4"),
    }
    heads, found = graph(tmp_path, files)
    with pytest.raises(CycleDetected):
        alembic_heads(tmp_path / "m")
    ((cycle),) = [f for f in found if f.id == "revision-cycle"]
    assert "Alembic refuses to load the history (CycleDetected)" in cycle.message
    assert all("alembic merge" not in (f.fix or "") for f in found)
    assert any(f.id == "multiple-heads" for f in found) and sorted(heads) == ["b2", "e5"]


def test_a_parent_in_a_file_that_cannot_be_parsed_is_not_called_absent(tmp_path: Path) -> None:
    # Histories started under Python 2 keep files like this one; Python 3 cannot parse them.
    py2 = rf("b2", "a1", upgrade='    print "moving data"')
    files = {"a1.py": rf("a1"), "b2.py": py2, "c3.py": rf("c3", "b2"), "d4.py": rf("d4", "c3")}
    _, found = graph(tmp_path, files)
    by_rule = {f.id: f for f in found}
    assert set(by_rule) == {"syntax-error", "missing-parent", "multiple-heads"}
    missing = by_rule["missing-parent"]
    assert "m/versions/b2.py seems to declare, but that file cannot be read" in missing.message
    assert missing.fix == "fix m/versions/b2.py first"
    assert "alembic merge" not in (by_rule["multiple-heads"].fix or "")
