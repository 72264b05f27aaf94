"""The SQL front end: PostgreSQL's lexical rules, gram.y's precedence, the statements we read."""

from __future__ import annotations

import pytest

from devtools.migrations import ddl, sql
from devtools.migrations.expr import to_sql


@pytest.mark.parametrize(
    ("text", "deparsed"),
    [
        ("(created_at AT TIME ZONE 'UTC')::date", "(created_at AT TIME ZONE 'UTC')::date"),
        ("a || b::text", "a || b::text"),
        ("x BETWEEN 1 AND 2 AND y", "(x >= 1) AND (x <= 2) AND y"),
        ("NOT a = b", "NOT (a = b)"),
        ("-1 + 2 * 3 ^ 2", "-1 + (2 * (3 ^ 2))"),
        ("a->'b'->>'c'", "(a -> 'b') ->> 'c'"),
        ("a !~~* 'x'", "a !~~* 'x'"),
        ("a<-1", "a < -1"),
        ("a != b", "a <> b"),
        ("E'it\\'s' || 'x'", "'it''s' || 'x'"),
        ("$$dollar$$ || $t$tag$t$", "'dollar' || 'tag'"),
        ('"Mixed" IS NOT NULL', '"Mixed" IS NOT NULL'),
        ("x::timestamp(3) with time zone", "x::timestamptz(3)"),
        ("x::double precision", "x::float8"),
        ("x::character varying(20)[]", "x::varchar(20)[]"),
        ("CAST(x AS integer)", "x::int4"),
        ("timestamp with time zone '2024-01-01'", "timestamptz '2024-01-01'"),
        ("extract(year from x)", "extract(year FROM x)"),
        ("substring(a from 1 for 2)", "substring(a, 1, 2)"),
        ("position('a' in b)", "position(b, 'a')"),
        ("trim(leading 'x' from y)", "ltrim(y, 'x')"),
        ("coalesce(a, b)", "COALESCE(a, b)"),
        ("x = ANY (ARRAY[1, 2])", "x = ANY (ARRAY[1, 2])"),
        ("a NOT IN (1, 2)", "a NOT IN (1, 2)"),
        ("a IS DISTINCT FROM b", "a IS DISTINCT FROM b"),
        ("a LIKE 'x' ESCAPE '!'", "a ~~ like_escape('x', '!')"),
        ("a SIMILAR TO 'x%'", "a ~ similar_to_escape('x%')"),
        ("CURRENT_TIMESTAMP(3) > x", "CURRENT_TIMESTAMP > x"),
        ("CASE WHEN a THEN 1 ELSE 2 END", "CASE WHEN a THEN 1 ELSE 2 END"),
        ("$1 operator(pg_catalog.||) $2::pg_catalog.text", "$1 || $2::text"),
        ("a /* comment */ + -- to the end\n b", "a + b"),
        ("tags[1]", "tags[1]"),
        ('x COLLATE "C"', 'x COLLATE "C"'),
    ],
)
def test_expressions_parse_with_postgres_precedence(text: str, deparsed: str) -> None:
    assert to_sql(sql.parse_expression(text)) == deparsed


@pytest.mark.parametrize(
    "text",
    [
        "a +",
        "(a",
        "'unterminated",
        "a ? ? ?",
        "f(",
        "CASE END",
        "x::",
        "(SELECT 1)",
        "count(DISTINCT x)",
        "f(x) OVER ()",
        "a" + "(" * 500,
    ],
)
def test_bad_or_unsupported_sql_raises_sql_error(text: str) -> None:
    with pytest.raises(sql.SqlError):
        sql.parse_expression(text)


def test_create_index_statement() -> None:
    (parsed,) = sql.parse_statements(
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix ON ONLY public.orders USING btree "
        "(((created_at AT TIME ZONE 'UTC')::date) DESC NULLS LAST, lower(email) text_pattern_ops, id) "
        "INCLUDE (x) WITH (fillfactor = 70) WHERE deleted_at IS NULL"
    )
    (index,) = parsed.operations
    assert isinstance(index, ddl.CreateIndex)
    assert index.name == "ix" and index.table == "public.orders" and index.unique
    assert [e.text for e in index.elements] == [
        "((created_at AT TIME ZONE 'UTC')::date)",
        "lower(email)",
        "id",
    ]
    assert index.where is not None and index.where.text == "deleted_at IS NULL"
    assert (index.line, index.how) == (1, "CREATE INDEX in op.execute")


def test_statements_are_split_and_offsets_and_lines_kept() -> None:
    text = (
        "INSERT INTO t VALUES (';');\nCREATE INDEX a ON t (x);\n\n  CREATE INDEX b ON t ((x + 1));"
    )
    parsed = sql.parse_statements(text, first_line=10)
    indexes = [op for p in parsed for op in p.operations if isinstance(op, ddl.CreateIndex)]
    assert [(index.name, index.line) for index in indexes] == [("a", 11), ("b", 13)]
    assert [text[: p.offset].count("\n") for p in parsed] == [1, 3]


def test_an_unparsable_index_statement_is_reported_not_skipped() -> None:
    (parsed,) = sql.parse_statements("CREATE INDEX ix ON t ((x AT TIME ZONE 'UTC')::date)")
    assert parsed.operations == () and parsed.error is not None


def test_schema_statements() -> None:
    text = (
        "CREATE TABLE t (id serial PRIMARY KEY, at timestamp with time zone NOT NULL DEFAULT now(), "
        "n numeric(10,2), CONSTRAINT c CHECK (n > 0));"
        "ALTER TABLE t ADD COLUMN d date, ALTER COLUMN n TYPE text USING n::text, DROP COLUMN IF EXISTS x;"
        "ALTER TABLE t RENAME COLUMN d TO day; ALTER TABLE t RENAME TO u; DROP TABLE IF EXISTS v, w;"
        "CREATE TYPE mood AS ENUM ('a', 'b');"
        "CREATE OR REPLACE FUNCTION utc_day(ts timestamptz, VARIADIC rest int[]) RETURNS date "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT ($1 AT TIME ZONE 'UTC')::date $$;"
    )
    statements = [p.operations for p in sql.parse_statements(text)]
    (table,), alter, (rename_column,), (rename,), drop, (enum,), (function,) = statements
    assert isinstance(table, ddl.CreateTable)
    assert [(name, type_.sql() if type_ else None) for name, type_ in table.columns] == [
        ("id", "int4"),
        ("at", "timestamptz"),
        ("n", "numeric(10, 2)"),
    ]
    add, retype, drop_column = alter
    assert isinstance(add, ddl.AddColumn) and add.column == "d"
    assert add.type is not None and add.type.sql() == "date"
    assert isinstance(retype, ddl.AlterColumn) and retype.column == "n"
    assert retype.type is not None and retype.type.sql() == "text"
    assert drop_column == ddl.DropColumn("t", "x")
    assert rename_column == ddl.AlterColumn("t", "d", new_name="day")
    assert rename == ddl.RenameTable("t", "u")
    assert drop == (ddl.DropTable("v"), ddl.DropTable("w"))
    assert enum == ddl.CreateEnum("mood")
    assert isinstance(function, ddl.CreateFunction)
    assert function.volatility == "i" and function.variadic
    assert [t.sql() for t in function.arg_types] == ["timestamptz", "int4[]"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("email", True),
        ("lower(email)", True),
        ("((created_at AT TIME ZONE 'UTC')::date)", True),
        ("(created_at AT TIME ZONE 'UTC')::date", False),
        ("created_at::date", False),
        ("lower(email) DESC NULLS LAST", True),
        ("a + b", False),
        ("CAST(a AS date)", True),
    ],
)
def test_index_elements_pasted_by_sqlalchemy(text: str, ok: bool) -> None:
    assert sql.is_index_element(text) is ok


@pytest.mark.parametrize(
    "code_point",
    [*range(0x180), 0x7FF, 0x800, 0xD7FF, 0xD800, 0xE000, 0xFFFE, 0xFFFF, 0x10000, 0x10FFFF],
)
def test_identifiers_are_ascii_letters_underscore_and_the_rest_of_the_bmp(code_point: int) -> None:
    char = chr(code_point)
    if char.isspace():
        return  # whitespace separates tokens, whatever plane it is in
    ascii_letter = char.isascii() and char.isalpha()
    starts = ascii_letter or char == "_" or 0x80 <= code_point <= 0xFFFF
    goes_on = starts or (char.isascii() and char.isdigit()) or char == "$"
    for text, is_one_identifier in ((char + "x", starts), ("x" + char, goes_on)):
        try:
            tokens = sql.tokenize(text)
        except sql.SqlError:
            tokens = []
        assert (len(tokens) == 2 and tokens[0].kind == "ident") is is_one_identifier, text


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # psql ends a BEGIN with options at its `;` (sqlparse read on to the end: a miss).
        (
            "BEGIN ISOLATION LEVEL SERIALIZABLE; CREATE INDEX a ON t ((x + 1)); COMMIT;",
            ["a"],
        ),
        # A standard string ends at its quote: a backslash escapes nothing.
        ("UPDATE t SET p = 'C:\\'; CREATE INDEX a ON t (x);", ["a"]),
        ("SELECT $tag$ $$ ; CREATE INDEX no ON t (x) $tag$; CREATE INDEX a ON t (x);", ["a"]),
        ("/* a; /* nested; */ CREATE INDEX no ON t (x); */ CREATE INDEX a ON t (x);", ["a"]),
        ('SELECT "a;b" FROM t; CREATE INDEX a ON t (x);', ["a"]),
        (
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT 1; "
            "SELECT CASE WHEN true THEN 2 END; END; CREATE INDEX a ON t (x);",
            ["a"],
        ),
        (
            "CREATE RULE r AS ON INSERT TO t DO (INSERT INTO u VALUES (1); DELETE FROM u);"
            "\nCREATE INDEX a ON t (x);",
            ["a"],
        ),
    ],
)
def test_statements_are_split_as_psql_splits_them(text: str, names: list[str]) -> None:
    parsed = sql.parse_statements(text)
    assert [p.error for p in parsed if p.error] == []
    found = [op.name for p in parsed for op in p.operations if isinstance(op, ddl.CreateIndex)]
    assert found == names


def test_a_comment_after_a_semicolon_stays_with_its_statement() -> None:
    text = "SET x = 1; -- keep\nCREATE INDEX a ON t (x);\n-- why\nCREATE INDEX b ON t (y);"
    assert [line for _, line in _lines(text)] == [1, 2, 3]


def _lines(text: str) -> list[tuple[str, int]]:
    return [(s, text.count("\n", 0, offset) + 1) for offset, s in sql.split_statements(text)]
