"""The one DDL model: the schema operations a revision's `upgrade()` performs, and what they build.

Both front ends emit these values: `ops` reads Alembic's `op.*` calls (SQLAlchemy types and
expressions), `sql` reads the SQL passed to `op.execute(...)`. First the data (an index part, a
column list), then the operations with their derived properties, then `SchemaState`, which plays
operations in order: each revision starts from the union of its parents' states, so a branch
sees only what its own ancestors created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from devtools.migrations.expr import Node, TypeName

# --- data ---------------------------------------------------------------------------------------

Columns = Mapping[str, TypeName | None]  # None: a column whose type is not known statically


class QueryColumns(dict[str, TypeName | None]):
    """The columns of a materialized view: any name may be one, typed by a query not read."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> None:
        return None


@dataclass(frozen=True)
class IndexPart:
    """An index element or the predicate, as the migration wrote it."""

    node: Node | None  # None: could not be read (see `problem`)
    text: str
    is_predicate: bool = False
    problem: str = ""
    verbatim: bool = False  # sa.text() SQL that SQLAlchemy pastes into the column list as is


def table_key(name: str) -> str:
    """`public.orders` and `orders` are the same table."""
    return name.removeprefix("public.")


# --- operations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateTable:
    table: str
    columns: tuple[tuple[str, TypeName | None], ...]


@dataclass(frozen=True)
class AddColumn:
    table: str
    column: str
    type: TypeName | None


@dataclass(frozen=True)
class AlterColumn:
    """A new type (`type_=`), a new name, or what the column is known to be (`existing_type=`)."""

    table: str
    column: str
    type: TypeName | None = None
    new_name: str | None = None
    existing_type: TypeName | None = None


@dataclass(frozen=True)
class DropColumn:
    table: str
    column: str


@dataclass(frozen=True)
class DropTable:
    table: str


@dataclass(frozen=True)
class RenameTable:
    table: str
    new_name: str


@dataclass(frozen=True)
class CreateEnum:
    name: str


@dataclass(frozen=True)
class CreateMaterializedView:
    """A relation indexes can be created on, its columns typed by a query that is not read."""

    name: str


@dataclass(frozen=True)
class CreateFunction:
    """A function a migration creates (`CREATE FUNCTION ... IMMUTABLE`), for overload resolution."""

    name: str
    arg_types: tuple[TypeName, ...]
    returns: TypeName | None
    volatility: str  # "i", "s", "v"
    variadic: bool = False


@dataclass(frozen=True)
class CreateIndex:
    name: str | None
    table: str
    parts: tuple[IndexPart, ...]  # the elements in order, then the predicate if any
    line: int
    how: str  # "op.create_index", "sa.Index in op.create_table", "CREATE INDEX in op.execute"
    unique: bool = False

    @property
    def elements(self) -> tuple[IndexPart, ...]:
        return tuple(p for p in self.parts if not p.is_predicate)

    @property
    def where(self) -> IndexPart | None:
        return next((p for p in self.parts if p.is_predicate), None)


Operation = (
    CreateTable
    | AddColumn
    | AlterColumn
    | DropColumn
    | DropTable
    | RenameTable
    | CreateEnum
    | CreateMaterializedView
    | CreateFunction
    | CreateIndex
)


# --- the schema the operations build ------------------------------------------------------------


@dataclass(frozen=True)
class SchemaState:
    tables: Mapping[str, Columns] = field(default_factory=dict)
    enums: frozenset[str] = frozenset()
    functions: tuple[CreateFunction, ...] = ()

    def columns(self, table: str) -> Columns | None:
        return self.tables.get(table_key(table))

    def merge(self, other: SchemaState) -> SchemaState:
        if not other.tables and not other.enums and not other.functions:
            return self
        functions = self.functions + tuple(f for f in other.functions if f not in self.functions)
        return SchemaState({**self.tables, **other.tables}, self.enums | other.enums, functions)

    def apply(self, op: Operation) -> SchemaState:
        match op:
            case CreateTable(table=table, columns=columns):
                return self._with_table(table, dict(columns))
            case AddColumn(table=table, column=column, type=type_):
                return self._with_table(table, {**(self.columns(table) or {}), column: type_})
            case AlterColumn(table=table, column=column):
                current = dict(self.columns(table) or {})
                known = op.type or current.get(column) or op.existing_type
                if op.new_name:
                    current.pop(column, None)
                    column = op.new_name
                current[column] = known
                return self._with_table(table, current)
            case DropColumn(table=table, column=column):
                current = dict(self.columns(table) or {})
                current.pop(column, None)
                return self._with_table(table, current)
            case DropTable(table=table):
                tables = dict(self.tables)
                tables.pop(table_key(table), None)
                return replace(self, tables=tables)
            case RenameTable(table=table, new_name=new_name):
                tables = dict(self.tables)
                moved = tables.pop(table_key(table), None)
                if moved is not None:
                    tables[table_key(new_name)] = moved
                return replace(self, tables=tables)
            case CreateMaterializedView(name=name):
                return self._with_table(name, QueryColumns())
            case CreateEnum(name=name):
                return replace(self, enums=self.enums | {name.rsplit(".", 1)[-1]})
            case CreateFunction():
                return replace(self, functions=(*self.functions, op))
        return self

    def _with_table(self, table: str, columns: Mapping[str, TypeName | None]) -> SchemaState:
        return replace(self, tables={**self.tables, table_key(table): columns})
