"""SQL expressions as a small tree: what an index element or a partial-index predicate says.

Both front ends produce it: `sql` parses SQL text (`sa.text(...)`, `op.execute("CREATE INDEX
...")`), `ops` translates SQLAlchemy constructs (`sa.func.date(...)`). `volatility` judges it.
Nodes compare by identity, so a rewrite can replace one node of a tree with another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace

# Types PostgreSQL's grammar spells with keywords, mapped to pg_type.typname.
TYPE_ALIASES = {
    "int": "int4",
    "integer": "int4",
    "smallint": "int2",
    "bigint": "int8",
    "real": "float4",
    "float": "float8",
    "double precision": "float8",
    "decimal": "numeric",
    "dec": "numeric",
    "boolean": "bool",
    "character varying": "varchar",
    "char varying": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "nchar": "bpchar",
    "national character": "bpchar",
    "national character varying": "varchar",
    "bit varying": "varbit",
    "timestamp": "timestamp",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time": "time",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "serial": "int4",
    "serial4": "int4",
    "bigserial": "int8",
    "serial8": "int8",
    "smallserial": "int2",
    "serial2": "int2",
}


@dataclass(eq=False, repr=False)
class TypeName:
    """A type as written: `name` is pg_type.typname (or a user enum's name)."""

    name: str
    modifiers: tuple[str, ...] = ()
    array_dims: int = 0

    def sql(self) -> str:
        text = self.name + (f"({', '.join(self.modifiers)})" if self.modifiers else "")
        return text + "[]" * self.array_dims


def canonical_type(words: str) -> str:
    """`timestamp with time zone` -> `timestamptz`; `pg_catalog.text` -> `text`."""
    name = " ".join(words.lower().split())
    if name.startswith("pg_catalog."):
        name = name[len("pg_catalog.") :]
    return TYPE_ALIASES.get(name, name)


@dataclass(eq=False, repr=False)
class Node:
    """Base of every expression node. Treated as immutable: rewrites build new nodes.

    (Not `frozen=True` and no generated `__repr__`: each generated method costs a `compile` at
    import time, and the CLI imports these classes on every run.)
    """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {to_sql(self)}>"

    def children(self) -> Iterator[Node]:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Node):
                        yield item
                    elif isinstance(item, tuple):
                        yield from (x for x in item if isinstance(x, Node))

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(eq=False, repr=False)
class Column(Node):
    name: str


@dataclass(eq=False, repr=False)
class Literal(Node):
    """A constant: kind is "string" (type unknown until used), "integer", "numeric", "bool", "null"."""

    kind: str
    value: str


@dataclass(eq=False, repr=False)
class TypedLiteral(Node):
    """`date '2024-01-01'`: a constant of a given type, converted when the statement is parsed."""

    type: TypeName
    value: str


@dataclass(eq=False, repr=False)
class Param(Node):
    """`$1` in the body of a SQL function being inlined."""

    number: int


@dataclass(eq=False, repr=False)
class Cast(Node):
    operand: Node
    type: TypeName


@dataclass(eq=False, repr=False)
class FuncCall(Node):
    name: str
    args: tuple[Node, ...] = ()
    variadic: bool = False  # the last argument was written `VARIADIC arr`
    special: str = ""  # the SQL syntax it came from ("extract", "at time zone"), for display


@dataclass(eq=False, repr=False)
class Op(Node):
    """An operator: `left` is None for a prefix operator."""

    name: str
    left: Node | None
    right: Node


@dataclass(eq=False, repr=False)
class BoolOp(Node):
    kind: str  # "and", "or", "not"
    args: tuple[Node, ...]


@dataclass(eq=False, repr=False)
class NullTest(Node):
    operand: Node
    negated: bool = False


@dataclass(eq=False, repr=False)
class BooleanTest(Node):
    operand: Node
    value: str  # "true", "false", "unknown"
    negated: bool = False


@dataclass(eq=False, repr=False)
class Distinct(Node):
    """`a IS [NOT] DISTINCT FROM b`."""

    left: Node
    right: Node
    negated: bool = False


@dataclass(eq=False, repr=False)
class InList(Node):
    operand: Node
    items: tuple[Node, ...]
    negated: bool = False


@dataclass(eq=False, repr=False)
class ArrayOp(Node):
    """`a op ANY (array)` / `a op ALL (array)`."""

    name: str
    left: Node
    array: Node
    all: bool = False


@dataclass(eq=False, repr=False)
class Case(Node):
    operand: Node | None
    whens: tuple[tuple[Node, Node], ...]
    default: Node | None


@dataclass(eq=False, repr=False)
class MinMax(Node):
    """COALESCE, GREATEST, LEAST, NULLIF: special forms, not functions."""

    kind: str
    args: tuple[Node, ...]


@dataclass(eq=False, repr=False)
class ValueFunction(Node):
    """CURRENT_DATE, CURRENT_TIMESTAMP, LOCALTIMESTAMP, CURRENT_USER, ... (always STABLE)."""

    name: str


@dataclass(eq=False, repr=False)
class Collate(Node):
    operand: Node
    collation: str


@dataclass(eq=False, repr=False)
class Subscript(Node):
    operand: Node
    index: Node
    upper: Node | None = None
    is_slice: bool = False


@dataclass(eq=False, repr=False)
class ArrayCtor(Node):
    items: tuple[Node, ...]


@dataclass(eq=False, repr=False)
class Unsupported(Node):
    """Syntax the linter parses but does not judge (subqueries, aggregates, rows)."""

    what: str
    args: tuple[Node, ...] = field(default=())


def replace_node(tree: Node, old: Node, new: Node) -> Node:
    """A copy of `tree` with the node `old` (by identity) replaced by `new`."""
    if tree is old:
        return new
    return map_children(tree, lambda child: replace_node(child, old, new))


def map_children(node: Node, fn: Callable[[Node], Node]) -> Node:
    changes: dict[str, object] = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            new = fn(value)
            if new is not value:
                changes[f.name] = new
        elif isinstance(value, tuple) and value:
            items = tuple(_map_item(item, fn) for item in value)
            if any(a is not b for a, b in zip(items, value, strict=True)):
                changes[f.name] = items
    return replace(node, **changes) if changes else node


def _map_item(item: object, fn: Callable[[Node], Node]) -> object:
    if isinstance(item, Node):
        return fn(item)
    if isinstance(item, tuple):
        return tuple(fn(x) if isinstance(x, Node) else x for x in item)
    return item


# --- back to SQL, for messages and suggested rewrites -------------------------------------------

_ATOMS = (Column, Literal, TypedLiteral, Param, FuncCall, ValueFunction, MinMax, Case, ArrayCtor)


def quote_ident(name: str) -> str:
    if name.isidentifier() and name == name.lower() and name.isascii():
        return name
    return '"' + name.replace('"', '""') + '"'


def to_sql(node: Node) -> str:
    """Deparse; parentheses wherever precedence could be in doubt."""
    match node:
        case Column(name=name):
            return ".".join(quote_ident(part) for part in name.split("."))
        case Literal(kind="string", value=value):
            return "'" + value.replace("'", "''") + "'"
        case Literal(kind="null"):
            return "NULL"
        case Literal(value=value):
            return value
        case TypedLiteral(type=t, value=value):
            return f"{t.sql()} '" + value.replace("'", "''") + "'"
        case Param(number=n):
            return f"${n}"
        case Cast(operand=operand, type=t):
            return f"{_operand(operand)}::{t.sql()}"
        case FuncCall(special="at time zone", args=(zone, value)):
            return f"{_operand(value)} AT TIME ZONE {_operand(zone)}"
        case FuncCall(special="extract", args=(Literal(value=fieldname), value)):
            return f"extract({fieldname} FROM {to_sql(value)})"
        case FuncCall(name=name, args=args, variadic=variadic):
            rendered = [to_sql(a) for a in args]
            if variadic and rendered:
                rendered[-1] = "VARIADIC " + rendered[-1]
            return f"{quote_ident(name)}({', '.join(rendered)})"
        case Op(name=name, left=None, right=right):
            return f"{name} {_operand(right)}"
        case Op(name=name, left=left, right=right):
            assert left is not None
            return f"{_operand(left)} {name} {_operand(right)}"
        case BoolOp(kind="not", args=(arg,)):
            return f"NOT {_operand(arg)}"
        case BoolOp(kind=kind, args=args):
            return f" {kind.upper()} ".join(_operand(a) for a in args)
        case NullTest(operand=operand, negated=negated):
            return f"{_operand(operand)} IS {'NOT ' if negated else ''}NULL"
        case BooleanTest(operand=operand, value=value, negated=negated):
            return f"{_operand(operand)} IS {'NOT ' if negated else ''}{value.upper()}"
        case Distinct(left=left, right=right, negated=negated):
            return f"{_operand(left)} IS {'NOT ' if negated else ''}DISTINCT FROM {_operand(right)}"
        case InList(operand=operand, items=items, negated=negated):
            listed = ", ".join(to_sql(i) for i in items)
            return f"{_operand(operand)} {'NOT ' if negated else ''}IN ({listed})"
        case ArrayOp(name=name, left=left, array=array, all=is_all):
            return f"{_operand(left)} {name} {'ALL' if is_all else 'ANY'} ({to_sql(array)})"
        case Case(operand=operand, whens=whens, default=default):
            parts = ["CASE"] + ([to_sql(operand)] if operand is not None else [])
            parts += [f"WHEN {to_sql(w)} THEN {to_sql(t)}" for w, t in whens]
            if default is not None:
                parts.append(f"ELSE {to_sql(default)}")
            return " ".join([*parts, "END"])
        case MinMax(kind=kind, args=args):
            return f"{kind.upper()}({', '.join(to_sql(a) for a in args)})"
        case ValueFunction(name=name):
            return name.upper()
        case Collate(operand=operand, collation=collation):
            return f"{_operand(operand)} COLLATE {quote_ident(collation)}"
        case Subscript(operand=operand, index=index, upper=upper, is_slice=is_slice):
            inner = to_sql(index) + (":" + (to_sql(upper) if upper else "") if is_slice else "")
            return f"{_operand(operand)}[{inner}]"
        case ArrayCtor(items=items):
            return f"ARRAY[{', '.join(to_sql(i) for i in items)}]"
        case Unsupported(what=what):
            return what
    raise TypeError(f"cannot deparse {type(node).__name__}")


def _operand(node: Node) -> str:
    """`node` as an operand of a tighter-binding construct: parenthesized unless atomic."""
    text = to_sql(node)
    atomic = isinstance(node, (*_ATOMS, Cast, Subscript))
    if atomic and not (isinstance(node, FuncCall) and node.special == "at time zone"):
        return text
    return f"({text})"
