"""The static verdict agrees with PostgreSQL on every case of the corpus it recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devtools.migrations.catalog import available_versions, load_catalog
from devtools.migrations.expr import TypeName
from devtools.migrations.sql import parse_expression, parse_type
from devtools.migrations.volatility import judge

DATA = Path(__file__).resolve().parents[2] / "fixtures" / "data"


def corpus(major: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"index_verdicts_pg{major}.json").read_text())
    return data


@pytest.mark.parametrize("major", [15, 16, 17, 18])
def test_static_verdict_agrees_with_postgresql_on_every_corpus_case(major: int) -> None:
    data = corpus(major)
    assert data["major"] == major
    catalog = load_catalog(major).with_additions(enums=data["enums"])
    columns = {name: parse_type(sqltype) for name, sqltype in data["columns"].items()}
    decided = [c for c in data["cases"] if c["immutable"] is not None]
    assert len(decided) >= 150
    assert {c["kind"] for c in decided} == {"expression", "predicate"}
    disagreements = []
    for case in data["cases"]:
        verdict = judge(
            parse_expression(case["sql"]),
            catalog,
            columns,
            table="corpus",
            predicate=case["kind"] == "predicate",
        )
        if verdict.immutable is not case["immutable"]:
            disagreements.append(
                (case["kind"], case["sql"], case["immutable"], verdict.immutable, verdict.reason)
            )
    assert disagreements == []


@pytest.mark.parametrize("major", [15, 16, 17, 18])
def test_corpus_covers_what_the_issue_names(major: int) -> None:
    sql = " ".join(c["sql"] for c in corpus(major)["cases"])
    for needle in (
        "::date",
        "::timestamptz",
        "::timestamp",
        "::text",
        "payload",
        "date_trunc",
        "||",
        "AT TIME ZONE",
        "now()",
        "random()",
        "lower(",
    ):
        assert needle in sql, needle


def test_sixteen_made_three_argument_date_trunc_immutable() -> None:
    cases = {
        major: {c["sql"]: c["immutable"] for c in corpus(major)["cases"]} for major in (15, 16)
    }
    assert cases[15]["date_trunc('day', created_at, 'UTC')"] is False
    assert cases[16]["date_trunc('day', created_at, 'UTC')"] is True


COLUMNS = {
    "created_at": TypeName("timestamptz"),
    "placed": TypeName("timestamp"),
    "day": TypeName("date"),
    "qty": TypeName("int4"),
    "name": TypeName("text"),
}


@pytest.mark.parametrize(
    ("major", "sql", "rewrite"),
    [
        (15, "created_at::date", "(created_at AT TIME ZONE 'UTC')::date"),
        (15, "date(created_at)", "(created_at AT TIME ZONE 'UTC')::date"),
        (15, "CAST(created_at AS date)", "(created_at AT TIME ZONE 'UTC')::date"),
        (15, "date_trunc('day', created_at)", "date_trunc('day', created_at AT TIME ZONE 'UTC')"),
        (16, "date_trunc('day', created_at)", "date_trunc('day', created_at, 'UTC')"),
        (15, "extract(year FROM created_at)", "extract(year FROM created_at AT TIME ZONE 'UTC')"),
        (15, "placed::timestamptz", "placed AT TIME ZONE 'UTC'"),
        (15, "created_at::timestamp", "created_at AT TIME ZONE 'UTC'"),
        (15, "created_at::date + qty", "(created_at AT TIME ZONE 'UTC')::date + qty"),
    ],
)
def test_rewrites_are_suggested_and_verified_immutable(major: int, sql: str, rewrite: str) -> None:
    catalog = load_catalog(major)
    verdict = judge(parse_expression(sql), catalog, COLUMNS, table="t")
    assert verdict.immutable is False
    assert verdict.rewrite == rewrite
    assert judge(parse_expression(rewrite), catalog, COLUMNS, table="t").immutable is True


def test_messages_say_why() -> None:
    catalog = load_catalog(15)
    cases = {
        "created_at::date": "TimeZone",
        "random()": "different value on every call",
        "now()": "current time",
        "name::date": "DateStyle",
        "created_at || 'x'": "anytextcat",
    }
    for sql, words in cases.items():
        verdict = judge(parse_expression(sql), catalog, COLUMNS, table="t")
        assert verdict.immutable is False and words in verdict.explain(), (sql, verdict.explain())


def test_no_rewrite_is_offered_unless_it_is_verified() -> None:
    # The date is fixed, but text || date still formats the date through DateStyle.
    verdict = judge(
        parse_expression("name || created_at::date"), load_catalog(15), COLUMNS, table="t"
    )
    assert verdict.immutable is False and verdict.rewrite is None


def test_predicates_on_the_current_time_have_no_rewrite() -> None:
    verdict = judge(
        parse_expression("created_at > now() - interval '1 day'"),
        load_catalog(15),
        COLUMNS,
        table="t",
        predicate=True,
    )
    assert verdict.immutable is False and verdict.rewrite is None


@pytest.mark.parametrize(
    ("sql", "columns", "reason"),
    [
        ("lower(email)", {}, "column email is not in table t"),
        ("lower(email)", None, "not created by these migrations"),
        ("unaccent(name)", COLUMNS, "not in PostgreSQL 15's catalog"),
        ("qty::date", COLUMNS, "cannot convert"),
        ("(SELECT 1)", COLUMNS, "subqueries"),
    ],
)
def test_what_cannot_be_judged_is_undecided_never_guessed(
    sql: str, columns: dict[str, TypeName] | None, reason: str
) -> None:
    try:
        node = parse_expression(sql)
    except ValueError as exc:
        assert reason in str(exc)
        return
    verdict = judge(node, load_catalog(15), columns, table="t")
    assert verdict.immutable is None and reason in verdict.reason


def test_functions_created_by_migrations_take_part_in_overload_resolution() -> None:
    from devtools.migrations.ddl import CreateFunction
    from devtools.migrations.volatility import user_procs

    base = load_catalog(15)
    fn = CreateFunction("utc_day", (TypeName("timestamptz"),), TypeName("date"), "i")
    catalog = base.with_additions(functions=user_procs(base, [fn]))
    assert (
        judge(parse_expression("utc_day(created_at)"), catalog, COLUMNS, table="t").immutable
        is True
    )
    stable = base.with_additions(
        functions=user_procs(
            base, [CreateFunction("utc_day", (TypeName("timestamptz"),), TypeName("date"), "s")]
        )
    )
    assert (
        judge(parse_expression("utc_day(created_at)"), stable, COLUMNS, table="t").immutable
        is False
    )


def test_snapshots_ship_for_fifteen_and_sixteen() -> None:
    assert {15, 16} <= set(available_versions())
    assert load_catalog(16).server_version.startswith("16")
