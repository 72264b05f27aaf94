"""Would PostgreSQL reject this index expression or predicate as not IMMUTABLE?

PostgreSQL decides in `CheckMutability` (indexcmds.c): it parses the expression (resolving
function overloads, operators and casts against the argument types), runs the planner's
`eval_const_expressions` (which inlines simple SQL functions such as `anytextcat`, the
function behind `||` with a non-text operand), then rejects the expression if any function it
still calls is not IMMUTABLE (`contain_mutable_functions`): functions, operators' functions,
cast functions, the input/output functions of I/O casts, and SQLValueFunctions
(CURRENT_DATE, ...). This module replays exactly that on the expression tree, with the column
types the migrations declared and the catalogs snapshotted from a real server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import cast

from devtools.migrations.catalog import (
    ASSIGNMENT,
    EXPLICIT,
    IMMUTABLE,
    IMPLICIT,
    STABLE,
    VOLATILE,
    VOLATILITY_WORD,
    Candidate,
    Catalog,
    CoercionPath,
    PgOperator,
    PgProc,
    ResolutionError,
    max_volatility,
)
from devtools.migrations.ddl import CreateFunction, QueryColumns
from devtools.migrations.expr import (
    ArrayCtor,
    ArrayOp,
    BooleanTest,
    BoolOp,
    Case,
    Cast,
    Collate,
    Column,
    Distinct,
    FuncCall,
    InList,
    Literal,
    MinMax,
    Node,
    NullTest,
    Op,
    Param,
    Subscript,
    TypedLiteral,
    TypeName,
    Unsupported,
    ValueFunction,
    replace_node,
    to_sql,
)
from devtools.migrations.sql import SqlError, parse_expression


class Undecided(Exception):
    """The linter cannot judge this expression statically; `str()` says why."""


class UnknownColumnType(Undecided):
    """A column whose type the migrations do not tell."""


@dataclass(frozen=True)
class Culprit:
    """One call that makes the expression not IMMUTABLE."""

    kind: str  # "function", "operator", "cast", "io", "value"
    volatility: str
    what: str  # "date(timestamp with time zone)", "the cast text -> date", "CURRENT_DATE"
    why: str  # a short reason, or ""
    node: Node  # where it happens in the expression (a node of the tree that was judged)
    source: int = 0  # the type converted or the first interesting argument type
    target: int = 0
    proc: PgProc | None = None
    arg_types: tuple[int, ...] = ()

    def explain(self) -> str:
        text = f"{self.what} is {VOLATILITY_WORD[self.volatility]}"
        return f"{text} ({self.why})" if self.why else text


@dataclass(frozen=True)
class Typed:
    """What analysis knows about a (sub)expression."""

    type: int
    volatility: str = IMMUTABLE
    culprits: tuple[Culprit, ...] = ()
    literal: bool = False  # an unknown-type literal: PostgreSQL converts it while parsing
    nonstrict: bool = False  # contains a construct that does not return NULL on NULL input
    cost: int = 0  # functions and operators evaluated (the inliner's "expensive" test)
    has_column: bool = False


def merge(node_type: int, parts: Sequence[Typed], **changes: object) -> Typed:
    result = Typed(
        node_type,
        max_volatility(*(p.volatility for p in parts)),
        tuple(c for p in parts for c in p.culprits),
        False,
        any(p.nonstrict for p in parts),
        sum(p.cost for p in parts),
        any(p.has_column for p in parts),
    )
    return replace(result, **changes) if changes else result  # type: ignore[arg-type]


@dataclass(frozen=True)
class Verdict:
    immutable: bool | None  # None: undecided
    culprits: tuple[Culprit, ...] = ()
    reason: str = ""  # why undecided
    rewrite: str | None = None  # an immutable rewrite, verified by the same analysis

    def explain(self) -> str:
        seen: list[str] = []
        for culprit in self.culprits:
            text = culprit.explain()
            if text not in seen:
                seen.append(text)
        return "; ".join(seen)


_VALUE_TYPES = {
    "current_date": "date",
    "current_time": "timetz",
    "current_timestamp": "timestamptz",
    "localtime": "time",
    "localtimestamp": "timestamp",
}
_NOW_FUNCTIONS = {
    "now",
    "statement_timestamp",
    "transaction_timestamp",
    "clock_timestamp",
    "timeofday",
}
_FORMAT_FUNCTIONS = {"to_char", "to_date", "to_timestamp", "to_number"}
_DATETIME_TYPES = {"date", "time", "timestamp", "timestamptz", "interval", "timetz"}


class Analyzer:
    """Types an expression the way PostgreSQL's parser would, collecting non-immutable calls."""

    def __init__(
        self,
        catalog: Catalog,
        columns: Mapping[str, TypeName | None] | None,
        table: str = "",
        params: Mapping[int, Typed] | None = None,
        depth: int = 0,
    ) -> None:
        self.catalog = catalog
        self.columns = columns
        self.table = table
        self.params = params or {}
        self.depth = depth

    # -- entry points --
    def visit(self, node: Node) -> Typed:
        match node:
            case Column():
                return Typed(self.column_type(node.name), has_column=True)
            case Literal(kind="string") | Literal(kind="null"):
                return Typed(self.catalog.unknown, literal=True)
            case Literal(kind="integer", value=value):
                number = int(value)
                name = (
                    "int4"
                    if -(2**31) <= number < 2**31
                    else "int8"
                    if -(2**63) <= number < 2**63
                    else "numeric"
                )
                return Typed(self.catalog.oid(name))
            case Literal(kind="numeric"):
                return Typed(self.catalog.oid("numeric"))
            case Literal(kind="bool"):
                return Typed(self.catalog.bool)
            case TypedLiteral(type=type_name):
                return Typed(self.resolve_type(type_name))
            case Param(number=number):
                if number not in self.params:
                    raise Undecided(f"${number} has no value here")
                return self.params[number]
            case Cast(operand=operand, type=type_name):
                return self.cast(node, self.visit(operand), type_name)
            case FuncCall():
                return self.call(node)
            case Op():
                return self.operator(node)
            case BoolOp(args=args):
                parts = [
                    self.coerce(self.visit(a), self.catalog.bool, IMPLICIT, node) for a in args
                ]
                return merge(self.catalog.bool, parts, nonstrict=True)
            case NullTest(operand=operand):
                return merge(self.catalog.bool, [self.visit(operand)], nonstrict=True)
            case BooleanTest(operand=operand):
                part = self.coerce(self.visit(operand), self.catalog.bool, IMPLICIT, node)
                return merge(self.catalog.bool, [part], nonstrict=True)
            case Distinct(left=left, right=right):
                test = self.make_op("=", self.visit(left), self.visit(right), node, inline=False)
                return merge(self.catalog.bool, [test], nonstrict=True)
            case InList():
                return self.in_list(node)
            case ArrayOp():
                return self.array_op(node.name, self.visit(node.left), self.visit(node.array), node)
            case Case():
                return self.case(node)
            case MinMax():
                return self.min_max(node)
            case ValueFunction(name=name):
                return self.value_function(node, name)
            case Collate(operand=operand):
                return self.visit(operand)
            case Subscript():
                return self.subscript(node)
            case ArrayCtor(items=items):
                parts = self.to_common([self.visit(i) for i in items], node, "ARRAY")
                array = self.catalog.array_of(parts[0].type) if parts else 0
                if not array:
                    raise Undecided("cannot type an empty or element-less ARRAY[] statically")
                return merge(array, parts, nonstrict=True)
            case Unsupported(what=what):
                raise Undecided(f"{what} is not supported in index expressions by this linter")
        raise Undecided(f"cannot analyze {type(node).__name__}")

    # -- leaves --
    def column_type(self, name: str) -> int:
        column = name.rsplit(".", 1)[-1]
        if self.columns is None:
            raise UnknownColumnType(
                f"table {self.table} is not created by these migrations, so the type of {column} is unknown"
            )
        if isinstance(self.columns, QueryColumns):
            raise UnknownColumnType(
                f"{self.table} is a materialized view created earlier in the history; the type "
                f"of {column} comes from its query, which is not typed statically"
            )
        if column not in self.columns:
            raise UnknownColumnType(
                f"column {column} is not in table {self.table} as the migrations define it"
            )
        type_name = self.columns[column]
        if type_name is None:
            raise UnknownColumnType(f"the type of {self.table}.{column} cannot be read statically")
        return self.resolve_type(type_name)

    def resolve_type(self, type_name: TypeName) -> int:
        pg_type = self.catalog.type_named(type_name.name)
        if pg_type is None:
            raise Undecided(
                f"type {type_name.sql()} is not in PostgreSQL {self.catalog.major}'s catalog"
            )
        oid = pg_type.oid
        if type_name.array_dims:  # PostgreSQL arrays of any dimension share one type
            oid = self.catalog.array_of(oid)
            if not oid:
                raise Undecided(f"type {type_name.sql()} has no array type")
        return oid

    def value_function(self, node: Node, name: str) -> Typed:
        type_oid = self.catalog.oid(_VALUE_TYPES.get(name, "name"))
        if name in _VALUE_TYPES:
            why = "it is the current transaction's start time, not a property of the row"
        else:
            why = "it depends on the session"
        culprit = Culprit("value", STABLE, name.upper(), why, node)
        return Typed(type_oid, STABLE, (culprit,))

    # -- coercion --
    def cast(self, node: Cast, value: Typed, type_name: TypeName) -> Typed:
        target = self.resolve_type(type_name)
        result = self.coerce(value, target, EXPLICIT, node)
        length = self.catalog.casts.get((target, target))
        if type_name.modifiers and length is not None and length.func and not value.literal:
            proc = self.catalog.procs[length.func]
            result = self.apply(proc, [result], node, target, kind="cast", source=target)
        return result

    def coerce(self, value: Typed, target: int, context: int, node: Node) -> Typed:
        catalog = self.catalog
        if target in (value.type, catalog.any) or catalog.is_polymorphic(target):
            return value
        if value.literal:
            return Typed(target)  # an unknown literal becomes a constant of the target type
        path = catalog.coercion_path(target, value.type, context)
        if path.kind == "none":
            raise ResolutionError(
                f"cannot convert {catalog.display(value.type)} to {catalog.display(target)}"
            )
        return self.follow(path, value, target, node)

    def follow(self, path: CoercionPath, value: Typed, target: int, node: Node) -> Typed:
        catalog = self.catalog
        if path.kind == "relabel":
            return replace(value, type=target)
        if path.kind == "func":
            proc = catalog.procs[path.func]
            args = [value, *[Typed(catalog.oid(n)) for n in ("int4", "bool")][: len(proc.args) - 1]]
            return self.apply(proc, args, node, target, kind="cast", source=value.type)
        if path.kind == "io":
            source_type, target_type = catalog.type(value.type), catalog.type(target)
            volatility = max_volatility(source_type.output_volatility, target_type.input_volatility)
            culprits = value.culprits
            if volatility != IMMUTABLE:
                which = []
                if source_type.output_volatility != IMMUTABLE:
                    which.append(f"{source_type.display}'s output function")
                if target_type.input_volatility != IMMUTABLE:
                    which.append(f"{target_type.display}'s input function")
                why = (
                    " and ".join(which)
                    + " "
                    + ("are" if len(which) > 1 else "is")
                    + " not immutable"
                )
                hint = _hint({value.type, target}, (), catalog)
                what = f"the cast {source_type.display} -> {target_type.display} (through text)"
                culprit = Culprit(
                    "io",
                    volatility,
                    what,
                    f"{why}; {hint}" if hint else why,
                    node,
                    value.type,
                    target,
                )
                culprits += (culprit,)
            return replace(
                value,
                type=target,
                volatility=max_volatility(value.volatility, volatility),
                culprits=culprits,
                cost=value.cost + 1,
            )
        assert path.kind == "array" and path.element is not None
        source_elem = catalog.element_of(value.type)
        element = self.follow(path.element, Typed(source_elem), catalog.element_of(target), node)
        return merge(target, [value, element])

    # -- calls --
    def call(self, node: FuncCall) -> Typed:
        if node.variadic:
            raise Undecided("VARIADIC array arguments are not supported by this linter")
        catalog = self.catalog
        args = [self.visit(a) for a in node.args]
        inputs = [a.type for a in args]
        name = node.name.lower().removeprefix("pg_catalog.").removeprefix("public.")
        candidates = catalog.function_candidates(name, len(args))
        exact = [c for c in candidates if c.args == tuple(inputs)]
        if not exact and len(args) == 1:
            as_type = catalog.type_named(name)
            if as_type is not None and as_type.typtype != "p":
                source = inputs[0]
                path = catalog.coercion_path(as_type.oid, source, EXPLICIT)
                if args[0].literal or path.kind in ("relabel", "io"):
                    return self.coerce(args[0], as_type.oid, EXPLICIT, node)
        chosen = exact[0] if exact else self.choose(name, inputs, candidates, "function")
        if chosen.proc.retset:
            raise ResolutionError(f"set-returning function {name}() is not allowed in an index")
        declared, rettype = self.concrete(inputs, chosen.args, chosen.proc.rettype)
        coerced = [self.coerce(a, t, IMPLICIT, node) for a, t in zip(args, declared, strict=True)]
        return self.apply(chosen.proc, coerced, node, rettype, kind="function")

    def choose(
        self, name: str, inputs: list[int], candidates: list[Candidate], kind: str
    ) -> Candidate:
        catalog = self.catalog
        shown = f"{name}({', '.join(catalog.display(t) for t in inputs)})"
        if not candidates:
            known = catalog.procs_named(name) if kind == "function" else catalog.operators.get(name)
            if not known:
                raise Undecided(
                    f"{kind} {name} is not in PostgreSQL {catalog.major}'s catalog, and no SQL these "
                    "migrations spell out creates it"
                )
            raise ResolutionError(f"{kind} {shown} does not exist")
        matches = catalog.match_argtypes(inputs, candidates)
        if not matches:
            raise ResolutionError(f"{kind} {shown} does not exist")
        if len(matches) == 1:
            return matches[0]
        chosen = catalog.select_candidate(inputs, matches)
        if chosen is None:
            raise ResolutionError(f"{kind} {shown} is not unique")
        return chosen

    def concrete(
        self, inputs: Sequence[int], declared: Sequence[int], rettype: int
    ) -> tuple[list[int], int]:
        catalog = self.catalog
        if not any(catalog.is_polymorphic(t) for t in (*declared, rettype)):
            return list(declared), rettype
        resolved, result = catalog.resolve_polymorphic(inputs, declared, rettype)
        assert result is not None
        return resolved, result

    def operator(self, node: Op) -> Typed:
        right = self.visit(node.right)
        if node.left is None:
            inputs = [right.type]
            candidates = self.catalog.operator_candidates(node.name, prefix=True)
            exact = [c for c in candidates if c.args == (right.type,)]
            chosen = exact[0] if exact else self.choose(node.name, inputs, candidates, "operator")
            assert chosen.operator is not None
            declared, rettype = self.concrete(inputs, chosen.args, chosen.operator.result)
            coerced = [self.coerce(right, declared[0], IMPLICIT, node)]
            return self.apply(
                chosen.proc, coerced, node, rettype, kind="operator", operator=chosen.operator
            )
        return self.make_op(node.name, self.visit(node.left), right, node)

    def resolve_op(self, name: str, left: int, right: int) -> tuple[Candidate, list[int], int]:
        """oper(): the operator, its concrete argument types and its result type."""
        memo = self.catalog.resolved_operators
        key = (name, left, right)
        found = memo.get(key)
        if found is None:
            try:
                found = self._resolve_op(name, left, right)
            except (Undecided, ResolutionError) as exc:
                found = exc
            memo[key] = found
        if isinstance(found, Exception):
            raise found
        return cast("tuple[Candidate, list[int], int]", found)

    def _resolve_op(self, name: str, left: int, right: int) -> tuple[Candidate, list[int], int]:
        catalog = self.catalog
        found = catalog.exact_operator(name, left, right)
        if found is not None:
            chosen = Candidate(catalog.procs[found.proc], (found.left, found.right), operator=found)
        else:
            candidates = catalog.operator_candidates(name, prefix=False)
            chosen = self.choose(name, [left, right], candidates, "operator")
        assert chosen.operator is not None
        declared, rettype = self.concrete([left, right], chosen.args, chosen.operator.result)
        return chosen, declared, rettype

    def make_op(
        self, name: str, left: Typed, right: Typed, node: Node, *, inline: bool = True
    ) -> Typed:
        chosen, declared, rettype = self.resolve_op(name, left.type, right.type)
        coerced = [
            self.coerce(v, t, IMPLICIT, node) for v, t in zip((left, right), declared, strict=True)
        ]
        return self.apply(
            chosen.proc,
            coerced,
            node,
            rettype,
            kind="operator",
            operator=chosen.operator,
            inline=inline,
        )

    def apply(
        self,
        proc: PgProc,
        args: list[Typed],
        node: Node,
        rettype: int,
        *,
        kind: str,
        operator: PgOperator | None = None,
        source: int = 0,
        inline: bool = True,
    ) -> Typed:
        """A call of `proc` on already-coerced arguments; inlined when PostgreSQL would."""
        base = merge(rettype, args)
        if proc.volatility != IMMUTABLE and proc.body and inline:
            inlined = self.inline(proc, args, node, rettype)
            if inlined is not None:
                return inlined
        culprits = base.culprits
        if proc.volatility != IMMUTABLE:
            arg_types = tuple(a.type for a in args)
            culprits += (
                self.culprit_for(
                    proc,
                    node,
                    kind=kind,
                    operator=operator,
                    source=source,
                    rettype=rettype,
                    arg_types=arg_types,
                ),
            )
        return replace(
            base,
            volatility=max_volatility(base.volatility, proc.volatility),
            culprits=culprits,
            nonstrict=base.nonstrict or not proc.strict,
            cost=base.cost + 1,
        )

    def culprit_for(
        self,
        proc: PgProc,
        node: Node,
        *,
        kind: str,
        operator: PgOperator | None,
        source: int,
        rettype: int,
        arg_types: tuple[int, ...],
    ) -> Culprit:
        catalog = self.catalog
        signature = proc.signature(catalog)
        if kind == "cast":
            what = f"the cast {catalog.display(source)} -> {catalog.display(rettype)}, which calls {signature},"
        elif operator is not None:
            what = f"operator {operator.signature(catalog)}, which calls {signature},"
        else:
            what = signature
        why = _hint(set(arg_types) | {rettype}, (proc.name,), catalog, proc.volatility)
        return Culprit(
            kind,
            proc.volatility,
            what,
            why,
            node,
            source or (arg_types[0] if arg_types else 0),
            rettype,
            proc,
            arg_types,
        )

    def inline(self, proc: PgProc, args: list[Typed], node: Node, rettype: int) -> Typed | None:
        """inline_function's rules: one-expression SQL body, no more volatile than declared,
        strict only if the body is strict, each parameter used once unless cheap and stable."""
        if self.depth > 8:
            return None
        body = _parsed_body(proc.body or "")
        if body is None:
            return None
        uses = {n: 0 for n in range(1, len(args) + 1)}
        for sub in body.walk():
            if isinstance(sub, Param) and sub.number in uses:
                uses[sub.number] += 1
        for number, count in uses.items():
            arg = args[number - 1]
            if count == 0 and proc.strict:
                return None
            if count > 1 and (arg.cost > 10 or arg.volatility == VOLATILE):
                return None
        placeholders = {n: Typed(a.type) for n, a in enumerate(args, start=1)}
        try:
            inner = Analyzer(self.catalog, {}, self.table, placeholders, self.depth + 1).visit(body)
        except (Undecided, ResolutionError):
            return None
        if proc.volatility == STABLE and inner.volatility == VOLATILE:
            return None
        if proc.strict and inner.nonstrict:
            return None
        culprits = tuple(
            replace(
                c,
                what=f"{proc.signature(self.catalog)} (here `{to_sql(body)}`): {c.what}",
                node=node,
            )
            for c in inner.culprits
        )
        result = merge(rettype, args)
        return replace(
            result,
            volatility=max_volatility(result.volatility, inner.volatility),
            culprits=result.culprits + culprits,
            nonstrict=result.nonstrict or inner.nonstrict,
            cost=result.cost + inner.cost,
        )

    # -- special forms --
    def to_common(self, parts: list[Typed], node: Node, what: str) -> list[Typed]:
        common = self.catalog.common_type([p.type for p in parts])
        if common is None:
            shown = ", ".join(self.catalog.display(p.type) for p in parts)
            raise ResolutionError(f"{what} types {shown} cannot be matched")
        return [self.coerce(p, common, IMPLICIT, node) for p in parts]

    def in_list(self, node: InList) -> Typed:
        name = "<>" if node.negated else "="
        left = self.visit(node.operand)
        items = [self.visit(i) for i in node.items]
        constants = [i for i in items if not i.has_column]
        parts: list[Typed] = []
        rest = items
        if len(constants) > 1:
            common = self.catalog.common_type([left.type] + [c.type for c in constants])
            if (
                common is not None
                and common != self.catalog.record
                and self.catalog.array_of(common)
            ) and all(
                self.catalog.can_coerce([t.type], [common], IMPLICIT) for t in [left, *constants]
            ):
                coerced = [self.coerce(c, common, IMPLICIT, node) for c in constants]
                array = merge(self.catalog.array_of(common), coerced)
                parts.append(self.array_op(name, left, array, node))
                rest = [i for i in items if i.has_column]
        parts += [self.make_op(name, left, item, node) for item in rest]
        return merge(self.catalog.bool, parts, nonstrict=True)

    def array_op(self, name: str, left: Typed, array: Typed, node: Node) -> Typed:
        """make_scalar_array_op: `left op ANY (array)` compares with the array's element type."""
        catalog = self.catalog
        if array.type == catalog.unknown:
            right_type = catalog.unknown
        else:
            right_type = catalog.element_of(array.type)
            if not right_type:
                raise ResolutionError("op ANY/ALL (array) requires an array on the right side")
        chosen, declared, _ = self.resolve_op(name, left.type, right_type)
        array_type = catalog.array_of(declared[1])
        if not array_type:
            raise ResolutionError(f"could not find array type for {catalog.display(declared[1])}")
        coerced = [
            self.coerce(left, declared[0], IMPLICIT, node),
            self.coerce(array, array_type, IMPLICIT, node),
        ]
        test = self.apply(
            chosen.proc,
            coerced,
            node,
            catalog.bool,
            kind="operator",
            operator=chosen.operator,
            inline=False,
        )
        return replace(test, nonstrict=True)

    def case(self, node: Case) -> Typed:
        catalog = self.catalog
        parts: list[Typed] = []
        subject = self.visit(node.operand) if node.operand is not None else None
        if subject is not None:
            parts.append(subject)
        for condition, _ in node.whens:
            value = self.visit(condition)
            if subject is not None:
                parts.append(self.make_op("=", Typed(subject.type), value, node))
            else:
                parts.append(self.coerce(value, catalog.bool, IMPLICIT, node))
        results = [self.visit(result) for _, result in node.whens]
        results.append(
            self.visit(node.default)
            if node.default is not None
            else Typed(catalog.unknown, literal=True)
        )
        results = self.to_common(results, node, "CASE")
        return merge(results[0].type, parts + results, nonstrict=True)

    def min_max(self, node: MinMax) -> Typed:
        args = [self.visit(a) for a in node.args]
        if node.kind == "nullif":
            if len(args) != 2:
                raise ResolutionError("NULLIF takes two arguments")
            test = self.make_op("=", args[0], args[1], node, inline=False)
            result_type = (
                args[0].type if args[0].type != self.catalog.unknown else self.catalog.text
            )
            return merge(result_type, [test], nonstrict=True)
        if not args:
            raise ResolutionError(f"{node.kind.upper()} needs arguments")
        parts = self.to_common(args, node, node.kind.upper())
        return merge(parts[0].type, parts, nonstrict=True)

    def subscript(self, node: Subscript) -> Typed:
        catalog = self.catalog
        value = self.visit(node.operand)
        indexes = [self.visit(node.index)] + (
            [self.visit(node.upper)] if node.upper is not None else []
        )
        element = catalog.element_of(value.type)
        if element:
            int4 = catalog.oid("int4")
            parts = [self.coerce(i, int4, ASSIGNMENT, node) for i in indexes]
            return merge(value.type if node.is_slice else element, [value, *parts])
        if catalog.type(value.type).name == "jsonb" and catalog.major >= 14:
            return merge(value.type, [value, *indexes])
        raise ResolutionError(f"cannot subscript type {catalog.display(value.type)}")


@lru_cache(maxsize=64)
def _parsed_body(body: str) -> Node | None:
    try:
        return parse_expression(body)
    except SqlError:
        return None


def _hint(types: set[int], names: Sequence[str], catalog: Catalog, volatility: str = STABLE) -> str:
    """Why a call is not immutable, in words a developer recognizes."""
    type_names = {catalog.type(t).name for t in types if t in catalog.types}
    if volatility == VOLATILE:
        return "it can return a different value on every call"
    if any(n in _NOW_FUNCTIONS for n in names):
        return "it is the current time, not a property of the row"
    if any(n in _FORMAT_FUNCTIONS for n in names):
        return "its result depends on locale and TimeZone settings"
    if "timestamptz" in type_names or "timetz" in type_names:
        return "its result depends on the session's TimeZone setting"
    if type_names & _DATETIME_TYPES:
        return "date and time text forms depend on the DateStyle and IntervalStyle settings"
    if any(catalog.category(t) == "E" for t in types):
        return "enum labels can be renamed, so their text form can change"
    if any(name.startswith("reg") for name in type_names):
        return "it depends on the catalog and search_path"
    return ""


# --- verdicts and rewrites ----------------------------------------------------------------------

UTC = Literal("string", "UTC")


def at_utc(node: Node) -> Node:
    return FuncCall("timezone", (UTC, node), special="at time zone")


def judge(
    node: Node,
    catalog: Catalog,
    columns: Mapping[str, TypeName | None] | None,
    *,
    table: str = "",
    predicate: bool = False,
) -> Verdict:
    """The verdict for one index element or predicate, with a verified rewrite when possible."""
    try:
        typed = _analyze(node, catalog, columns, table, predicate)
    except UnknownColumnType as exc:
        if _immutable_for_every_type(node, catalog, columns, table, predicate):
            return Verdict(True)
        return Verdict(None, reason=str(exc))
    except (Undecided, ResolutionError) as exc:
        return Verdict(None, reason=str(exc))
    except RecursionError:
        return Verdict(None, reason="the expression is nested too deeply to analyze")
    if typed.volatility == IMMUTABLE:
        return Verdict(True)
    return Verdict(
        False,
        typed.culprits,
        rewrite=_rewrite(
            node, typed, catalog=catalog, columns=columns, table=table, predicate=predicate
        ),
    )


# Predicates worth probing are short (`flag = true AND deleted_at IS NULL`); a long expression
# with a column of unknown type would cost a full analysis per type for little chance of a verdict.
_MAX_PROBED_NODES = 24
# Where a column of unknown type is probed: compared or tested, never passed to a function.
_COMPARING = (Op, BoolOp, BooleanTest, InList, Distinct)


def _immutable_for_every_type(
    node: Node,
    catalog: Catalog,
    columns: Mapping[str, TypeName | None] | None,
    table: str,
    predicate: bool,
) -> bool:
    """Whether the verdict is IMMUTABLE whatever type the unknown column has (`x IS NOT NULL`,
    `flag = true`, `kind = 2`): tried with every type of the catalog the expression can be
    typed with. Columns only tested for NULL need no type; the others must be compared or tested
    (not passed to a function or a cast), and more than one of them is not tried."""
    if isinstance(node, BoolOp):
        # AND/OR/NOT call no function: each operand is coerced to boolean on its own.
        return all(
            _immutable_for_every_type(arg, catalog, columns, table, predicate=True)
            for arg in node.args
        )
    nodes = list(node.walk())
    if len(nodes) > _MAX_PROBED_NODES:
        return False
    known = {} if columns is None or isinstance(columns, QueryColumns) else dict(columns)
    unknown: set[str] = set()
    typed_use: set[str] = set()
    null_tested: set[int] = set()
    compared: set[int] = {id(node)}  # a bare column as the predicate is a boolean test
    for sub in nodes:
        if isinstance(sub, NullTest) and isinstance(sub.operand, Column):
            null_tested.add(id(sub.operand))
        if isinstance(sub, _COMPARING):
            compared.update(id(child) for child in sub.children())
    for sub in nodes:
        if isinstance(sub, Column):
            name = sub.name.rsplit(".", 1)[-1]
            if known.get(name) is None:
                unknown.add(name)
                if id(sub) in null_tested:
                    continue
                if id(sub) not in compared:
                    return False  # passed to a function or cast: an extension's type may differ
                typed_use.add(name)
    if len(typed_use) > 1:
        return False
    any_type = TypeName("text")  # a column only tested for NULL: its type never matters
    trial = {**known, **{name: any_type for name in unknown}}
    if not typed_use:
        candidates: list[TypeName] = [any_type]
    else:
        candidates = [
            TypeName(t.name) for t in catalog.types.values() if t.typtype in ("b", "e", "r", "m")
        ]
    (column,) = typed_use or {""}
    resolved = 0
    for candidate in candidates:
        if column:
            trial[column] = candidate
        try:
            typed = _analyze(node, catalog, trial, table, predicate)
        except (Undecided, ResolutionError):
            continue  # PostgreSQL would reject the expression on such a column anyway
        except Exception:
            return False
        if typed.volatility != IMMUTABLE:
            return False
        resolved += 1
    return resolved > 0


def _analyze(
    node: Node,
    catalog: Catalog,
    columns: Mapping[str, TypeName | None] | None,
    table: str,
    predicate: bool,
) -> Typed:
    analyzer = Analyzer(catalog, columns, table)
    typed = analyzer.visit(node)
    if predicate:
        typed = analyzer.coerce(typed, catalog.bool, IMPLICIT, node)
    return typed


def _rewrite(
    node: Node,
    typed: Typed,
    *,
    catalog: Catalog,
    columns: Mapping[str, TypeName | None] | None,
    table: str,
    predicate: bool,
) -> str | None:
    """Apply known immutable rewrites culprit by culprit; keep the result only if it is immutable."""
    tree = node
    for _ in range(6):
        for culprit in typed.culprits:
            new = _rewrite_culprit(culprit, catalog)
            if new is not None:
                tree = replace_node(tree, culprit.node, new)
                break
        else:
            return None
        try:
            typed = _analyze(tree, catalog, columns, table, predicate)
        except (Undecided, ResolutionError):
            return None
        if typed.volatility == IMMUTABLE:
            return to_sql(tree)
    return None


def _rewrite_culprit(culprit: Culprit, catalog: Catalog) -> Node | None:
    """The immutable equivalent of one non-immutable call, read as UTC."""
    node = culprit.node

    def name(oid: int) -> str:
        return catalog.type(oid).name if oid in catalog.types else ""

    source, target = name(culprit.source), name(culprit.target)
    operand: Node | None = None
    if isinstance(node, Cast):
        operand = node.operand
    elif isinstance(node, FuncCall) and len(node.args) == 1:
        operand = node.args[0]
    if operand is not None and culprit.kind in ("cast", "function"):
        if source == "timestamptz" and target in ("date", "time"):
            return Cast(at_utc(operand), TypeName(target))
        if source == "timestamptz" and target == "timestamp":
            return at_utc(operand)
        if source == "timestamp" and target == "timestamptz":
            return at_utc(operand)
        if source == "date" and target == "timestamptz":
            return at_utc(Cast(operand, TypeName("timestamp")))
    if isinstance(node, FuncCall) and culprit.proc is not None and len(node.args) == 2:
        field_arg, value = node.args
        tstz = culprit.arg_types[1:2] == (catalog.oid("timestamptz"),)
        if tstz and culprit.proc.name == "date_trunc":
            if catalog.major >= 16:
                return FuncCall("date_trunc", (field_arg, value, UTC))
            return FuncCall("date_trunc", (field_arg, at_utc(value)))
        if tstz and culprit.proc.name in ("extract", "date_part"):
            return replace(node, args=(field_arg, at_utc(value)))
    if isinstance(node, Op) and node.left is not None and culprit.kind == "operator":
        return _align_literal(node, culprit, catalog)
    return None


def _align_literal(node: Op, culprit: Culprit, catalog: Catalog) -> Node | None:
    """`ts_col < '2024-01-01'::timestamptz` -> compare against a timestamp literal instead."""
    if len(culprit.arg_types) != 2:
        return None
    sides = [node.left, node.right]
    for index, side in enumerate(sides):
        other = culprit.arg_types[1 - index]
        wanted = catalog.type(other).name if other in catalog.types else ""
        if wanted not in ("timestamp", "timestamptz", "date"):
            continue
        if isinstance(side, Cast) and isinstance(side.operand, Literal):
            sides[index] = Cast(side.operand, TypeName(wanted))
        elif isinstance(side, TypedLiteral):
            sides[index] = TypedLiteral(TypeName(wanted), side.value)
        else:
            continue
        assert sides[0] is not None
        return Op(node.name, sides[0], sides[1])  # type: ignore[arg-type]
    return None


def user_procs(catalog: Catalog, definitions: Sequence[CreateFunction]) -> list[PgProc]:
    """PgProc rows for the migrations' own functions (those whose types the catalog knows)."""
    procs = []
    next_oid = 2_000_000_000
    for definition in definitions:
        try:
            analyzer = Analyzer(catalog, {})
            args = tuple(analyzer.resolve_type(t) for t in definition.arg_types)
            rettype = (
                analyzer.resolve_type(definition.returns)
                if definition.returns
                else catalog.oid("void")
            )
        except Undecided:
            continue
        variadic = catalog.element_of(args[-1]) if definition.variadic and args else 0
        name = definition.name.rsplit(".", 1)[-1]
        procs.append(
            PgProc(
                next_oid,
                name,
                args,
                variadic,
                0,
                rettype,
                False,
                definition.volatility,
                False,
                None,
                True,
            )
        )
        next_oid += 1
    return procs
