"""A revision's `upgrade()` as schema operations, read from the syntax tree (never executed).

Recognizes Alembic's `op.*` calls (and `batch_op.*` inside `op.batch_alter_table`), SQLAlchemy
column types (`sa.DateTime(timezone=True)` is timestamptz), SQLAlchemy expressions
(`sa.func.date(sa.column("created_at"))`, `sa.text(...)`, `postgresql_where=...`) and SQL run
through `op.execute(...)`. Names bound to constants earlier in the file are followed.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field

from devtools.migrations import sql as sqlfront
from devtools.migrations.ddl import (
    AddColumn,
    AlterColumn,
    CreateEnum,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropTable,
    IndexPart,
    Operation,
    RenameTable,
)
from devtools.migrations.expr import (
    BoolOp,
    Cast,
    Column,
    FuncCall,
    InList,
    Literal,
    MinMax,
    Node,
    NullTest,
    Op,
    TypeName,
    ValueFunction,
    to_sql,
)

# SQLAlchemy type class -> pg_type.typname.
SA_TYPES = {
    "Integer": "int4",
    "INTEGER": "int4",
    "INT": "int4",
    "BigInteger": "int8",
    "BIGINT": "int8",
    "SmallInteger": "int2",
    "SMALLINT": "int2",
    "String": "varchar",
    "VARCHAR": "varchar",
    "NVARCHAR": "varchar",
    "Unicode": "varchar",
    "Text": "text",
    "TEXT": "text",
    "UnicodeText": "text",
    "CLOB": "text",
    "CHAR": "bpchar",
    "NCHAR": "bpchar",
    "Boolean": "bool",
    "BOOLEAN": "bool",
    "Date": "date",
    "DATE": "date",
    "Interval": "interval",
    "INTERVAL": "interval",
    "Numeric": "numeric",
    "NUMERIC": "numeric",
    "DECIMAL": "numeric",
    "Float": "float8",
    "FLOAT": "float8",
    "REAL": "float4",
    "Double": "float8",
    "DOUBLE": "float8",
    "DOUBLE_PRECISION": "float8",
    "LargeBinary": "bytea",
    "BLOB": "bytea",
    "BYTEA": "bytea",
    "BINARY": "bytea",
    "VARBINARY": "bytea",
    "JSON": "json",
    "JSONB": "jsonb",
    "Uuid": "uuid",
    "UUID": "uuid",
    "INET": "inet",
    "CIDR": "cidr",
    "MACADDR": "macaddr",
    "MACADDR8": "macaddr8",
    "MONEY": "money",
    "OID": "oid",
    "TSVECTOR": "tsvector",
    "TSQUERY": "tsquery",
    "BIT": "bit",
    "INT4RANGE": "int4range",
    "INT8RANGE": "int8range",
    "NUMRANGE": "numrange",
    "DATERANGE": "daterange",
    "TSRANGE": "tsrange",
    "TSTZRANGE": "tstzrange",
}
_ZONED = {
    "DateTime": "timestamp",
    "DATETIME": "timestamp",
    "TIMESTAMP": "timestamp",
    "Time": "time",
    "TIME": "time",
}
_ENUMS = {"Enum", "ENUM"}
# sa.func.<name>() that SQLAlchemy renders as SQL keywords, not calls.
_SA_VALUE_FUNCTIONS = {
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "current_user",
    "session_user",
    "user",
}
# The `op` methods `Reader._op` turns into operations (every other call yields none). A file
# whose text names none of them is not walked at all, and in the others only the expressions
# whose text spans a place that names one are searched: not the arguments of op calls.
SCHEMA_METHODS = frozenset(
    {
        "create_table",
        "add_column",
        "alter_column",
        "drop_column",
        "drop_table",
        "rename_table",
        "create_index",
        "execute",
    }
)
_SCHEMA_METHOD_BYTES = tuple(method.encode() for method in sorted(SCHEMA_METHODS))
# Operators and load/store markers: nodes the walk never needs to visit.
_NO_CHILDREN = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
_COMPARE = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}


class Unreadable(Exception):
    """A construct that cannot be read statically; `str()` says which."""


@dataclass
class Reader:
    """Reads one revision module."""

    tree: ast.Module
    # Where the text names a schema method, as (line, column); None: anywhere may.
    method_names: list[tuple[int, int]] | None = None
    enums_possible: bool = True  # False: the text names no sa.Enum, under any alias
    aliases: dict[str, str] = field(default_factory=dict)
    env: dict[str, ast.expr] = field(default_factory=dict)
    batch_tables: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    depth: int = 0

    def __post_init__(self) -> None:
        # The names Alembic's templates use, for files that rely on them without importing.
        self.aliases.update(
            sa="sqlalchemy", op="alembic.op", postgresql="sqlalchemy.dialects.postgresql"
        )
        # Imports at module level and at the top of functions: walking every node of every
        # revision for the rare nested import would cost more than the rest of the reading.
        statements = [
            *self.tree.body,
            *(s for f in self.tree.body if isinstance(f, ast.FunctionDef) for s in f.body),
        ]
        for node in statements:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    # -- names --
    def qualname(self, node: ast.expr) -> str:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ""
        parts.append(self.aliases.get(node.id, node.id))
        return ".".join(reversed(parts))

    def resolve(self, node: ast.expr) -> ast.expr:
        """Follow a name to the value bound to it earlier, if any."""
        seen = 0
        while isinstance(node, ast.Name) and node.id in self.env and seen < 20:
            node = self.env[node.id]
            seen += 1
        return node

    def constant(self, node: ast.expr | None) -> object:
        if node is None:
            return None
        node = self.resolve(node)
        if isinstance(node, ast.Constant):
            return node.value
        if (
            isinstance(node, ast.Call)
            and self.qualname(node.func).endswith(("op.f", ".f", "conv"))
            and node.args
        ):
            return self.constant(node.args[0])
        if (
            isinstance(node, ast.Call)
            and self.qualname(node.func).endswith(
                ("sqlalchemy.text", "sql.text", "expression.text")
            )
            and node.args
        ):
            return self.constant(node.args[0])
        if isinstance(node, ast.JoinedStr):
            pieces = []
            for value in node.values:
                piece = self.constant(
                    value.value if isinstance(value, ast.FormattedValue) else value
                )
                if not isinstance(piece, str | int):
                    raise Unreadable("an f-string with values computed at run time")
                pieces.append(str(piece))
            return "".join(pieces)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.constant(node.left), self.constant(node.right)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
        if isinstance(node, ast.List | ast.Tuple):
            return [self.constant(e) for e in node.elts]
        raise Unreadable(f"`{_short(node)}` is computed at run time")

    def string(self, node: ast.expr | None, what: str) -> str:
        value = self.constant(node)
        if not isinstance(value, str):
            raise Unreadable(f"{what} is not a string")
        return value

    # -- the upgrade function --
    def operations(self) -> Iterator[Operation]:
        upgrade = None
        for stmt in self.tree.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name == "upgrade":
                upgrade = stmt
            elif isinstance(stmt, ast.Assign | ast.AnnAssign):
                self._bind(stmt)
        if upgrade is None:
            return
        dialect_flags = {
            target.id: stmt.value
            for stmt in upgrade.body
            if isinstance(stmt, ast.Assign)
            for target in stmt.targets
            if isinstance(target, ast.Name) and self._dialect_test(stmt.value, {}) is not None
        }
        events: list[tuple[int, int, ast.AST]] = []
        for node in self._live_nodes(upgrade, dialect_flags):
            if isinstance(node, ast.Assign | ast.AnnAssign) or (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SCHEMA_METHODS
                and self._is_op_call(node)
            ):
                events.append((node.lineno, node.col_offset, node))
            if isinstance(node, ast.With):
                for item in node.items:
                    call = item.context_expr
                    if (
                        isinstance(call, ast.Call)
                        and self.qualname(call.func).endswith("batch_alter_table")
                        and isinstance(item.optional_vars, ast.Name)
                    ):
                        try:
                            self.batch_tables[item.optional_vars.id] = self._table_name(
                                call, 0, "table_name"
                            )
                        except Unreadable as exc:
                            self.problems.append((call.lineno, f"op.batch_alter_table: {exc}"))
        for _, _, node in sorted(events, key=lambda e: (e[0], e[1])):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                self._bind(node)
                continue
            assert isinstance(node, ast.Call)
            try:
                yield from self._op(node)
            except Unreadable as exc:
                self.problems.append((node.lineno, f"{self._op_name(node)}: {exc}"))

    def _live_nodes(self, root: ast.AST, flags: dict[str, ast.expr]) -> list[ast.AST]:
        """Every statement that runs on PostgreSQL, and the expressions that may call a schema
        method, in source order. `if postgres: ... else: ...` branches written for another
        dialect are skipped, so a SQLite-only index is not judged as PostgreSQL's."""
        names = self.method_names
        found: list[ast.AST] = []
        stack = [root]
        while stack:
            node = stack.pop()
            found.append(node)
            if isinstance(node, ast.If):
                taken = self._dialect_test(node.test, flags)
                if taken is not None:
                    stack.extend(reversed(node.body if taken else node.orelse))
                    continue
            children: list[ast.AST] = []
            for name in node._fields:
                value = getattr(node, name, None)
                for child in value if isinstance(value, list) else (value,):
                    if (
                        isinstance(child, ast.AST)
                        and not isinstance(child, _NO_CHILDREN)
                        and (names is None or isinstance(child, ast.stmt) or _spans(child, names))
                    ):
                        children.append(child)
            children.reverse()
            stack.extend(children)
        return found

    def _dialect_test(
        self, test: ast.expr, flags: dict[str, ast.expr], depth: int = 0
    ) -> bool | None:
        """True/False when `test` asks whether the dialect is PostgreSQL, else None."""
        if depth > 10:
            return None
        if isinstance(test, ast.Name) and test.id in flags:
            return self._dialect_test(flags[test.id], flags, depth + 1)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._dialect_test(test.operand, flags, depth + 1)
            return None if inner is None else not inner
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
            return None
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if not (
            isinstance(left, ast.Attribute)
            and left.attr == "name"
            and isinstance(left.value, ast.Attribute)
            and left.value.attr == "dialect"
        ):
            return None
        value = self.constant_or_none(right)
        names = (
            {value} if isinstance(value, str) else set(value) if isinstance(value, list) else None
        )
        if names is None:
            return None
        is_postgres = "postgresql" in names
        if isinstance(op, ast.Eq | ast.In):
            return is_postgres
        if isinstance(op, ast.NotEq | ast.NotIn):
            return not is_postgres
        return None

    def _bind(self, stmt: ast.Assign | ast.AnnAssign) -> None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if stmt.value is None:
            return
        for target in targets:
            if isinstance(target, ast.Name):
                self.env[target.id] = stmt.value

    def _is_op_call(self, node: ast.Call) -> bool:
        if not isinstance(node.func, ast.Attribute):
            return False
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id in self.batch_tables:
            return True
        return self.qualname(owner) in ("alembic.op", "op")

    def _op_name(self, node: ast.Call) -> str:
        assert isinstance(node.func, ast.Attribute)
        owner = node.func.value
        prefix = owner.id if isinstance(owner, ast.Name) else "op"
        return f"{prefix}.{node.func.attr}"

    def _table_name(self, call: ast.Call, position: int, keyword: str) -> str:
        node = _arg(call, position, keyword)
        name = self.string(node, keyword)
        schema = _arg(call, None, "schema")
        if schema is not None:
            schema_name = self.constant(schema)
            if isinstance(schema_name, str) and schema_name != "public":
                return f"{schema_name}.{name}"
        return name

    def _op(self, call: ast.Call) -> Iterator[Operation]:
        assert isinstance(call.func, ast.Attribute)
        method = call.func.attr
        owner = call.func.value
        batch = self.batch_tables.get(owner.id) if isinstance(owner, ast.Name) else None
        shift = 0 if batch is not None else 1  # batch_op methods take no table argument

        def table() -> str:
            return batch if batch is not None else self._table_name(call, 0, "table_name")

        if method == "create_table":
            name = self._table_name(call, 0, "table_name")
            columns: list[tuple[str, TypeName | None]] = []
            indexes: list[ast.Call] = []
            for raw in call.args[1:]:
                arg = self.resolve(raw)
                if not isinstance(arg, ast.Call):
                    continue
                kind = self.qualname(arg.func).rsplit(".", 1)[-1]
                if kind == "Column":
                    column = self._column(arg)
                    if column is not None:
                        columns.append(column)
                elif kind == "Index":
                    indexes.append(arg)
            yield from self._enums_in(call)
            yield CreateTable(name, tuple(columns))
            for index in indexes:
                yield self._sa_index(index, name)
        elif method == "add_column":
            column_node = self.resolve(_arg(call, shift, "column") or ast.Constant(None))
            yield from self._enums_in(column_node)
            column = self._column(column_node) if isinstance(column_node, ast.Call) else None
            if column is None:
                raise Unreadable("the column is not an sa.Column(...)")
            yield AddColumn(table(), column[0], column[1])
        elif method == "alter_column":
            column_name = self.string(_arg(call, shift, "column_name"), "column_name")
            new_type = _arg(call, None, "type_")
            existing = _arg(call, None, "existing_type")
            new_name = _arg(call, None, "new_column_name")
            if new_type is not None:
                yield from self._enums_in(new_type)
            yield AlterColumn(
                table(),
                column_name,
                self.sa_type(new_type) if new_type is not None else None,
                self.string(new_name, "new_column_name") if new_name is not None else None,
                self.sa_type(existing) if existing is not None else None,
            )
        elif method == "drop_column":
            yield DropColumn(table(), self.string(_arg(call, shift, "column_name"), "column_name"))
        elif method == "drop_table":
            yield DropTable(self._table_name(call, 0, "table_name"))
        elif method == "rename_table":
            yield RenameTable(
                self._table_name(call, 0, "old_table_name"),
                self.string(_arg(call, 1, "new_table_name"), "new_table_name"),
            )
        elif method == "create_index":
            yield self._create_index(call, batch)
        elif method == "execute":
            yield from self._execute(call)

    # -- columns and types --
    def _column(self, call: ast.Call) -> tuple[str, TypeName | None] | None:
        if self.qualname(call.func).rsplit(".", 1)[-1] != "Column":
            return None
        name_node = _arg(call, None, "name")
        positional = list(call.args)
        if (
            name_node is None
            and positional
            and isinstance(self.constant_or_none(positional[0]), str)
        ):
            name_node = positional.pop(0)
        if name_node is None:
            raise Unreadable("a column without a name")
        name = self.string(name_node, "the column name")
        type_node = _arg(call, None, "type_")
        if type_node is None:
            for arg in positional:
                candidate = self.sa_type(arg)
                if candidate is not None or self._looks_like_type(arg):
                    type_node = arg
                    break
        return name, self.sa_type(type_node) if type_node is not None else None

    def constant_or_none(self, node: ast.expr) -> object:
        try:
            return self.constant(node)
        except Unreadable:
            return None

    def _looks_like_type(self, node: ast.expr) -> bool:
        target = node.func if isinstance(node, ast.Call) else node
        name = self.qualname(target).rsplit(".", 1)[-1]
        return name[:1].isupper() and name not in (
            "ForeignKey",
            "Identity",
            "Computed",
            "Sequence",
            "CheckConstraint",
            "text",
        )

    def sa_type(self, node: ast.expr | None) -> TypeName | None:
        """A SQLAlchemy type expression as a PostgreSQL type; None when not known statically."""
        if node is None:
            return None
        node = self.resolve(node)
        call = node if isinstance(node, ast.Call) else None
        target = call.func if call is not None else node
        if isinstance(target, ast.Attribute) and target.attr == "with_variant" and call is not None:
            return self.sa_type(target.value)
        qualified = self.qualname(target)
        if not qualified or not (qualified.startswith("sqlalchemy") or "." not in qualified):
            return None
        name = qualified.rsplit(".", 1)[-1]
        if name in SA_TYPES:
            if name in ("Float", "FLOAT") and call is not None:
                precision = self.constant_or_none(_arg(call, 0, "precision") or ast.Constant(None))
                if isinstance(precision, int) and precision <= 24:
                    return TypeName("float4")
            return TypeName(SA_TYPES[name])
        if name in _ZONED:
            zoned = False
            if call is not None:
                flag = _arg(call, 0, "timezone")
                zoned = bool(self.constant_or_none(flag)) if flag is not None else False
            return TypeName(_ZONED[name] + ("tz" if zoned else ""))
        if name in _ENUMS:
            return TypeName(self._enum_name(call) if call is not None else "anyenum")
        if name == "ARRAY" and call is not None:
            item = self.sa_type(_arg(call, 0, "item_type"))
            return (
                TypeName(item.name, item.modifiers, item.array_dims + 1)
                if item is not None
                else None
            )
        return None

    def _enum_name(self, call: ast.Call) -> str:
        name = _arg(call, None, "name")
        if name is not None:
            value = self.constant_or_none(name)
            if isinstance(value, str):
                return value
        if call.args and isinstance(call.args[0], ast.Name | ast.Attribute):
            # sa.Enum(MyEnum): SQLAlchemy names the type after the class, lowercased.
            return self.qualname(call.args[0]).rsplit(".", 1)[-1].lower() or "anyenum"
        return "anyenum"

    def _enums_in(self, node: ast.AST) -> Iterator[Operation]:
        if not self.enums_possible:
            return
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and self.qualname(sub.func).rsplit(".", 1)[-1] in _ENUMS:
                yield CreateEnum(self._enum_name(sub))

    # -- indexes --
    def _create_index(self, call: ast.Call, batch: str | None) -> CreateIndex:
        name = self.constant_or_none(_arg(call, 0, "index_name") or ast.Constant(None))
        table = batch if batch is not None else self._table_name(call, 1, "table_name")
        columns_node = _arg(call, 1 if batch is not None else 2, "columns")
        parts: list[IndexPart] = []
        if columns_node is not None:
            columns_node = self.resolve(columns_node)
            elements = (
                columns_node.elts
                if isinstance(columns_node, ast.List | ast.Tuple)
                else [columns_node]
            )
            parts = [self._index_element(e) for e in elements]
        return self._index(call, name, table, parts, "op.create_index")

    def _sa_index(self, call: ast.Call, table: str) -> CreateIndex:
        name = self.constant_or_none(call.args[0]) if call.args else None
        parts = [self._index_element(e) for e in call.args[1:]]
        return self._index(call, name, table, parts, "sa.Index in op.create_table")

    def _index(
        self, call: ast.Call, name: object, table: str, parts: list[IndexPart], how: str
    ) -> CreateIndex:
        """The index `call` creates: its elements, then its `postgresql_where=` predicate."""
        where = _arg(call, None, "postgresql_where")
        if where is not None:
            parts.append(self._predicate(where))
        unique = _arg(call, None, "unique")
        return CreateIndex(
            name if isinstance(name, str) else None,
            table,
            tuple(parts),
            call.lineno,
            how,
            unique=unique is not None and self.constant_or_none(unique) is True,
        )

    def _index_element(self, node: ast.expr) -> IndexPart:
        resolved = self.resolve(node)
        if isinstance(resolved, ast.Constant) and isinstance(resolved.value, str):
            return IndexPart(Column(resolved.value), resolved.value)
        return self._part(node, predicate=False)

    def _predicate(self, node: ast.expr) -> IndexPart:
        text = self.constant_or_none(node)
        if isinstance(text, str):
            # SQLAlchemy coerces a string in postgresql_where= to text(): SQL, not a column.
            try:
                return IndexPart(sqlfront.parse_expression(text), text, is_predicate=True)
            except sqlfront.SqlError as exc:
                return IndexPart(None, text, True, f"the SQL cannot be parsed: {exc}")
        return self._part(node, predicate=True)

    def _part(self, node: ast.expr, *, predicate: bool) -> IndexPart:
        try:
            expression, text = self._element_text(node, predicate) or self.sa_expression(
                node, top=True
            )
        except Unreadable as exc:
            return IndexPart(None, _short(node), predicate, str(exc))
        except sqlfront.SqlError as exc:
            return IndexPart(None, _short(node), predicate, f"the SQL cannot be parsed: {exc}")
        resolved = self.resolve(node)
        verbatim = isinstance(resolved, ast.Call) and self._raw_sql(resolved) is not None
        return IndexPart(expression, text, predicate, verbatim=verbatim and not predicate)

    def _element_text(self, node: ast.expr, predicate: bool) -> tuple[Node, str] | None:
        """`sa.text("end_time DESC")` as an index element: the SQL may go on past the expression
        (ASC/DESC, NULLS FIRST/LAST, COLLATE, an operator class), as in CREATE INDEX."""
        resolved = self.resolve(node)
        if predicate or not isinstance(resolved, ast.Call):
            return None
        qualified = self.qualname(resolved.func)
        raw = self._raw_sql(resolved)
        if raw is None or qualified.rsplit(".", 1)[-1] not in ("text", "literal_column"):
            return None
        if not (qualified.startswith("sqlalchemy") or "." not in qualified):
            return None
        return sqlfront.parse_index_element(raw), raw

    def sa_expression(self, node: ast.expr, *, top: bool = False) -> tuple[Node, str]:
        """A SQLAlchemy expression as SQL: (tree, text as written)."""
        self.depth += 1
        try:
            if self.depth > 60:
                raise Unreadable("an expression nested too deeply")
            node = self.resolve(node)
            if isinstance(node, ast.Constant):
                return self._constant(node.value, top), repr(node.value)
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
                inner, _ = self.sa_expression(node.operand)
                return self._done(BoolOp("not", (inner,)))
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                inner, _ = self.sa_expression(node.operand)
                if isinstance(inner, Literal) and inner.kind in ("integer", "numeric"):
                    return self._done(Literal(inner.kind, "-" + inner.value))
                return self._done(Op("-", None, inner))
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
                left, _ = self.sa_expression(node.left)
                right, _ = self.sa_expression(node.right)
                return self._done(
                    BoolOp("and" if isinstance(node.op, ast.BitAnd) else "or", (left, right))
                )
            if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
                left, _ = self.sa_expression(node.left)
                right, _ = self.sa_expression(node.right)
                name = _ARITH[type(node.op)]
                if name == "+" and any(
                    isinstance(x, Literal) and x.kind == "string" for x in (left, right)
                ):
                    name = "||"  # SQLAlchemy renders + on strings as ||
                return self._done(Op(name, left, right))
            if isinstance(node, ast.Compare) and len(node.ops) == 1:
                left, _ = self.sa_expression(node.left)
                right_node = self.resolve(node.comparators[0])
                if isinstance(right_node, ast.Constant) and right_node.value is None:
                    return self._done(
                        NullTest(left, negated=isinstance(node.ops[0], ast.NotEq | ast.IsNot))
                    )
                if type(node.ops[0]) not in _COMPARE:
                    raise Unreadable(f"the Python operator in `{_short(node)}`")
                right, _ = self.sa_expression(right_node)
                return self._done(Op(_COMPARE[type(node.ops[0])], left, right))
            if isinstance(node, ast.Call):
                raw = self._raw_sql(node)
                tree = self._sa_call(node)
                return (tree, raw) if raw is not None else self._done(tree)
            raise Unreadable(f"`{_short(node)}` is not a SQLAlchemy expression omc-dev can read")
        finally:
            self.depth -= 1

    def _raw_sql(self, call: ast.Call) -> str | None:
        """The SQL of `sa.text("...")` as written, for messages."""
        qualified = self.qualname(call.func)
        if qualified.rsplit(".", 1)[-1] in ("text", "literal_column") and call.args:
            value = self.constant_or_none(call.args[0])
            return value if isinstance(value, str) else None
        return None

    @staticmethod
    def _done(tree: Node) -> tuple[Node, str]:
        return tree, to_sql(tree)

    def _constant(self, value: object, top: bool) -> Node:
        if top and isinstance(value, str):
            return Column(value)
        if value is None:
            return Literal("null", "NULL")
        if isinstance(value, bool):
            return Literal("bool", "true" if value else "false")
        if isinstance(value, int):
            return Literal("integer", str(value))
        if isinstance(value, float):
            return Literal("numeric", repr(value))
        if isinstance(value, str):
            return Literal("string", value)
        raise Unreadable(f"a {type(value).__name__} constant")

    def _sa_call(self, call: ast.Call) -> Node:
        qualified = self.qualname(call.func)
        last = qualified.rsplit(".", 1)[-1]
        sa_name = qualified.startswith("sqlalchemy") or "." not in qualified
        if sa_name and last in ("text", "literal_column") and call.args:
            return sqlfront.parse_expression(self.string(call.args[0], f"{last}()"))
        if last == "column" and call.args and qualified.startswith("sqlalchemy"):
            return Column(self.string(call.args[0], "column()"))
        if ".func." in f".{qualified}." or qualified.startswith("func."):
            name = qualified.split("func.", 1)[1]
            args = tuple(self.sa_expression(a)[0] for a in call.args)
            if name.lower() in ("coalesce", "greatest", "least", "nullif"):
                return MinMax(name.lower(), args)
            if name.lower() in _SA_VALUE_FUNCTIONS and not args:
                return ValueFunction(name.lower())
            return FuncCall(name, args)
        if sa_name:
            if last == "cast" and len(call.args) == 2:
                target = self.sa_type(call.args[1])
                if target is None:
                    raise Unreadable(f"the type in `{_short(call)}`")
                return Cast(self.sa_expression(call.args[0])[0], target)
            if last == "extract" and len(call.args) == 2:
                fieldname = self.string(call.args[0], "extract() field")
                return FuncCall(
                    "extract",
                    (Literal("string", fieldname), self.sa_expression(call.args[1])[0]),
                    special="extract",
                )
            if last in ("and_", "or_") and call.args:
                return BoolOp(last[:-1], tuple(self.sa_expression(a)[0] for a in call.args))
            if last == "not_" and call.args:
                return BoolOp("not", (self.sa_expression(call.args[0])[0],))
            if last in ("true", "false") and not call.args:
                return Literal("bool", last)
            if last == "null" and not call.args:
                return Literal("null", "NULL")
            if last in ("literal", "bindparam") and call.args:
                return self._constant(
                    self.constant(call.args[-1] if last == "bindparam" else call.args[0]), False
                )
            if (
                last in ("desc", "asc", "nulls_first", "nulls_last", "nullsfirst", "nullslast")
                and call.args
            ):
                return self.sa_expression(call.args[0])[0]
        if isinstance(call.func, ast.Attribute):
            return self._method(call, call.func.attr, call.func.value)
        raise Unreadable(f"`{_short(call)}` is not a SQLAlchemy expression omc-dev can read")

    def _method(self, call: ast.Call, method: str, owner: ast.expr) -> Node:
        if method in (
            "desc",
            "asc",
            "nulls_first",
            "nulls_last",
            "nullsfirst",
            "nullslast",
            "self_group",
            "label",
        ):
            return self.sa_expression(owner)[0]
        subject = self.sa_expression(owner)[0]
        args = [self.resolve(a) for a in call.args]
        if (
            method in ("is_", "isnot", "is_not")
            and args
            and isinstance(args[0], ast.Constant)
            and args[0].value is None
        ):
            return NullTest(subject, negated=method != "is_")
        if (
            method in ("in_", "notin_", "not_in")
            and args
            and isinstance(args[0], ast.List | ast.Tuple)
        ):
            items = tuple(self.sa_expression(e)[0] for e in args[0].elts)
            return InList(subject, items, negated=method != "in_")
        if method == "cast" and args:
            target = self.sa_type(args[0])
            if target is None:
                raise Unreadable(f"the type in `{_short(call)}`")
            return Cast(subject, target)
        if method in ("like", "ilike", "notlike", "not_like", "notilike", "not_ilike") and args:
            op = "~~*" if "ilike" in method else "~~"
            negated = method.startswith("not")
            return Op(("!" + op) if negated else op, subject, self.sa_expression(args[0])[0])
        if method == "concat" and args:
            return Op("||", subject, self.sa_expression(args[0])[0])
        if method == "op" and args:
            raise Unreadable("`.op(...)` must be called with its operand")
        raise Unreadable(f"the SQLAlchemy method .{method}() in `{_short(call)}`")

    # -- op.execute --
    def _may_create_index(self, node: ast.expr) -> bool:
        """Whether SQL computed at run time may hold a CREATE INDEX: a string written in it, or
        a name it is built from, says index (`CREATE_INDEX_SQL`, `idx_sql`)."""
        words: list[str] = []
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                words.append(sub.value)
            elif isinstance(sub, ast.Name):
                words.append(sub.id.replace("_", " "))
            elif isinstance(sub, ast.Attribute):
                words.append(sub.attr.replace("_", " "))
        return any(_INDEX_WORD.search(text) for text in words)

    def _execute(self, call: ast.Call) -> Iterator[Operation]:
        node = _arg(call, 0, "sqltext")
        if node is None:
            return
        resolved = self.resolve(node)
        if isinstance(resolved, ast.Call) and not self.qualname(resolved.func).endswith("text"):
            return  # op.execute(table.update()...): SQLAlchemy DML, no DDL to read
        try:
            text = self.string(node, "the SQL text")
        except Unreadable:
            if not self._may_create_index(resolved):
                return  # SQL built at run time whose written parts create no index
            raise
        string_node = (
            resolved.args[0] if isinstance(resolved, ast.Call) and resolved.args else resolved
        )
        start_line = getattr(string_node, "lineno", call.lineno)
        for parsed in sqlfront.parse_statements(text, first_line=start_line):
            if parsed.error is not None:
                self.problems.append(
                    (parsed.line, f"op.execute: the SQL cannot be parsed: {parsed.error}")
                )
            yield from parsed.operations


_INDEX_WORD = re.compile(r"\b(?:index|idx|indexes|indices)\b", re.IGNORECASE)


def _arg(call: ast.Call, position: int | None, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    if (
        position is not None
        and position < len(call.args)
        and not any(isinstance(a, ast.Starred) for a in call.args[: position + 1])
    ):
        return call.args[position]
    return None


def _short(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):
        return type(node).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def may_have_operations(source: bytes) -> bool:
    """False only when `read_operations` would find nothing: no schema method is named.

    (Python NFKC-normalizes identifiers, so a text that is not ASCII may spell one otherwise.)
    """
    return not source.isascii() or any(method in source for method in _SCHEMA_METHOD_BYTES)


def schema_method_positions(source: bytes) -> list[tuple[int, int]]:
    """Where an ASCII text names a schema method, as `ast` numbers lines and columns.

    Every occurrence counts, even inside longer words or strings: more places only mean less
    is skipped.
    """
    if b"\r" in source:
        source = source.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    starts = []
    for method in _SCHEMA_METHOD_BYTES:
        start = source.find(method)
        while start >= 0:
            starts.append(start)
            start = source.find(method, start + 1)
    positions = []
    for start in sorted(starts):
        line_start = source.rfind(b"\n", 0, start) + 1
        positions.append((source.count(b"\n", 0, start) + 1, start - line_start))
    return positions


def _spans(node: ast.AST, positions: list[tuple[int, int]]) -> bool:
    """Whether the node's text holds one of the (sorted) positions; nodes without one may."""
    line = getattr(node, "lineno", None)
    if line is None:
        return True
    start = (line, node.col_offset)  # type: ignore[attr-defined]
    i = bisect_left(positions, start)
    return i < len(positions) and positions[i] < (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]


def read_operations(
    tree: ast.Module, source: bytes | None = None
) -> tuple[list[Operation], list[tuple[int, str]]]:
    """The operations of a revision's upgrade(), and what could not be read (line, message).

    With the `source` the tree was parsed from, expressions that cannot call a schema method
    are not walked (nor is anything when none is named); the result is the same.
    """
    if source is not None and source.isascii():
        names = schema_method_positions(source)
        if not names:
            return [], []
        # An sa.Enum/ENUM call names the class, or an import that renames it does.
        reader = Reader(tree, names, enums_possible=b"Enum" in source or b"ENUM" in source)
    else:
        reader = Reader(tree)
    try:
        operations = list(reader.operations())
    except RecursionError:
        return [], [(1, "upgrade() is nested too deeply to read")]
    return operations, reader.problems
