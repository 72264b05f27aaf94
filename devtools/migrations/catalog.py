"""PostgreSQL's catalogs as snapshotted from a real server, and its type-resolution rules.

The data (`catalogs/pg<major>.json`) comes from `scripts/snapshot-pg-catalog`. The rules are
ports of the parser's own: `find_coercion_pathway` and `can_coerce_type` (parse_coerce.c),
`FuncnameGetCandidates` (namespace.c), `func_select_candidate` and the function-style cast
(parse_func.c), `oper` (parse_oper.c), `select_common_type` and the polymorphic checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from devtools.errors import UnusableInput

IMMUTABLE, STABLE, VOLATILE = "i", "s", "v"
VOLATILITY_WORD = {IMMUTABLE: "IMMUTABLE", STABLE: "STABLE", VOLATILE: "VOLATILE"}
IMPLICIT, ASSIGNMENT, EXPLICIT = 0, 1, 2
_CONTEXT = {"i": IMPLICIT, "a": ASSIGNMENT, "e": EXPLICIT}
DEFAULT_PG_VERSION = 15
# Read as a plain path: importlib.resources would import zipfile, a tenth of lint's start-up.
CATALOGS = Path(__file__).parent / "catalogs"

FAMILY1 = ("anyelement", "anyarray", "anynonarray", "anyenum", "anyrange", "anymultirange")
FAMILY2 = (
    "anycompatible",
    "anycompatiblearray",
    "anycompatiblenonarray",
    "anycompatiblerange",
    "anycompatiblemultirange",
)


def max_volatility(*values: str) -> str:
    return max(values, key="isv".index, default=IMMUTABLE)


@dataclass(frozen=True, slots=True)
class PgType:
    oid: int
    name: str
    display: str
    category: str
    preferred: bool
    elem: int  # element type of an array type, else 0
    array: int  # the array type of this type, else 0
    typtype: str  # b base, p pseudo, r range, m multirange, e enum
    input_volatility: str
    output_volatility: str
    subtype: int = 0  # a range's element type


@dataclass(frozen=True, slots=True)
class PgProc:
    oid: int
    name: str
    args: tuple[int, ...]
    variadic: int  # element type of a VARIADIC parameter, else 0
    ndefaults: int
    rettype: int
    retset: bool
    volatility: str
    strict: bool
    body: str | None = None  # a non-immutable SQL function's single expression, to inline
    user_defined: bool = False

    def signature(self, catalog: Catalog) -> str:
        return f"{self.name}({', '.join(catalog.type(a).display for a in self.args)})"


@dataclass(frozen=True, slots=True)
class PgOperator:
    oid: int
    name: str
    left: int  # 0 for a prefix operator
    right: int
    result: int
    proc: int

    def signature(self, catalog: Catalog) -> str:
        right = catalog.type(self.right).display
        if not self.left:
            return f"{self.name} {right}"
        return f"{catalog.type(self.left).display} {self.name} {right}"


@dataclass(frozen=True, slots=True)
class PgCast:
    source: int
    target: int
    func: int
    context: int
    method: str  # f function, b binary (relabel), i in/out


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way to call a function or operator with `nargs` arguments (FuncCandidateList)."""

    proc: PgProc
    args: tuple[int, ...]
    nvargs: int = 0  # arguments folded into the VARIADIC array
    ndargs: int = 0  # defaults used
    pathpos: int = 0  # 0 pg_catalog, 1 public
    operator: PgOperator | None = None


@dataclass(frozen=True, slots=True)
class CoercionPath:
    kind: str  # "none", "relabel", "func", "io", "array"
    func: int = 0
    element: CoercionPath | None = None


NO_PATH = CoercionPath("none")


@dataclass(frozen=True, slots=True)
class _Polymorphic:
    """What the arguments fixed for the polymorphic types of one call."""

    elem: int
    array_type: int
    range_type: int
    common: int
    compatible_range: int


class ResolutionError(Exception):
    """PostgreSQL would reject the expression while parsing it (not for volatility)."""


@dataclass
class Catalog:
    """One major version's catalogs, plus what the migrations themselves define."""

    major: int
    server_version: str
    types: dict[int, PgType]
    procs: dict[int, PgProc]
    operators: dict[str, list[PgOperator]]
    casts: dict[tuple[int, int], PgCast]
    _types_by_name: dict[str, PgType] = field(default_factory=dict)
    _procs_by_name: dict[str, list[PgProc]] = field(default_factory=dict)
    # Pure functions of the catalog, asked again and again when a column's type is probed.
    _operator_candidates: dict[tuple[str, bool], list[Candidate]] = field(default_factory=dict)
    _coercion_paths: dict[tuple[int, int, int], CoercionPath] = field(default_factory=dict)
    # oper() per (name, left, right): (candidate, argument types, result) or the error it raised.
    resolved_operators: dict[tuple[str, int, int], object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._types_by_name = {t.name: t for t in self.types.values()}
        for proc in self.procs.values():
            self._procs_by_name.setdefault(proc.name, []).append(proc)
        self.unknown = self.oid("unknown")
        self.text = self.oid("text")
        self.any = self.oid("any")
        self.record = self.oid("record")
        self.bool = self.oid("bool")
        self._poly = {self.oid(name): name for name in FAMILY1 + FAMILY2}

    # -- lookups --
    def oid(self, name: str) -> int:
        return self._types_by_name[name].oid

    def type(self, oid: int) -> PgType:
        return self.types[oid]

    def type_named(self, name: str) -> PgType | None:
        return self._types_by_name.get(name)

    def procs_named(self, name: str) -> list[PgProc]:
        return self._procs_by_name.get(name, [])

    def is_polymorphic(self, oid: int) -> bool:
        return oid in self._poly

    def poly_name(self, oid: int) -> str:
        return self._poly.get(oid, "")

    def category(self, oid: int) -> str:
        return self.types[oid].category if oid in self.types else "X"

    def display(self, oid: int) -> str:
        return self.types[oid].display if oid in self.types else f"type {oid}"

    def array_of(self, oid: int) -> int:
        return self.types[oid].array if oid in self.types else 0

    def element_of(self, oid: int) -> int:
        return self.types[oid].elem if oid in self.types else 0

    # -- what the migrations add --
    def with_additions(
        self, enums: Iterable[str] = (), functions: Iterable[PgProc] = ()
    ) -> Catalog:
        """A catalog that also knows the migrations' enum types and functions."""
        enums, functions = list(enums), list(functions)
        if not enums and not functions:
            return self
        types = dict(self.types)
        enum_out = self.type(self.oid("anyenum"))
        next_oid = max(types) + 1_000_000
        for name in enums:
            if name in self._types_by_name:
                continue
            types[next_oid] = PgType(
                next_oid,
                name,
                name,
                "E",
                False,
                0,
                0,
                "e",
                # User enums use enum_in / enum_out, both STABLE (labels can be renamed).
                STABLE,
                enum_out.output_volatility,
            )
            next_oid += 1
        procs = dict(self.procs)
        for proc in functions:
            procs[proc.oid] = proc
        return Catalog(self.major, self.server_version, types, procs, self.operators, self.casts)

    # -- coercion (parse_coerce.c) --
    def coercion_path(self, target: int, source: int, context: int) -> CoercionPath:
        key = (target, source, context)
        found = self._coercion_paths.get(key)
        if found is None:
            found = self._coercion_paths[key] = self._coercion_path(target, source, context)
        return found

    def _coercion_path(self, target: int, source: int, context: int) -> CoercionPath:
        if source == target:
            return CoercionPath("relabel")
        cast = self.casts.get((source, target))
        if cast is not None:
            if context < cast.context:
                return NO_PATH
            kind = {"f": "func", "b": "relabel", "i": "io"}[cast.method]
            return CoercionPath(kind, cast.func)
        target_elem, source_elem = self.element_of(target), self.element_of(source)
        if target_elem and source_elem:
            element = self.coercion_path(target_elem, source_elem, context)
            if element.kind != "none":
                return CoercionPath("array", element=element)
        if context >= ASSIGNMENT and self.category(target) == "S":
            return CoercionPath("io")
        if context >= EXPLICIT and self.category(source) == "S":
            return CoercionPath("io")
        return NO_PATH

    def can_coerce(self, inputs: Sequence[int], targets: Sequence[int], context: int) -> bool:
        generic = False
        for source, target in zip(inputs, targets, strict=True):
            if target in (source, self.any):
                continue
            if self.is_polymorphic(target):
                generic = True
                continue
            if source == self.unknown:
                continue
            if self.coercion_path(target, source, context).kind != "none":
                continue
            return False
        return not generic or self.generic_consistent(inputs, targets)

    def generic_consistent(self, inputs: Sequence[int], targets: Sequence[int]) -> bool:
        try:
            self.resolve_polymorphic(inputs, targets)
        except ResolutionError:
            return False
        return True

    def resolve_polymorphic(  # noqa: PLR0915 - one pass over PostgreSQL's polymorphic rules
        self, inputs: Sequence[int], targets: Sequence[int], rettype: int | None = None
    ) -> tuple[list[int], int | None]:
        """enforce_generic_type_consistency: the concrete declared types and result type."""
        elem = 0
        array_type = 0
        range_type = 0
        compatible: list[int] = []
        compatible_range = 0
        needs_elem = False
        for source, target in zip(inputs, targets, strict=True):
            kind = self.poly_name(target)
            if not kind:
                continue
            if kind in FAMILY1:
                needs_elem = True
            if source == self.unknown:
                continue
            if kind in ("anyelement", "anynonarray", "anyenum"):
                if elem and elem != source:
                    raise ResolutionError("arguments declared anyelement are not all alike")
                elem = source
            elif kind == "anyarray":
                if not self.element_of(source):
                    raise ResolutionError(
                        f"argument declared anyarray is not an array but {self.display(source)}"
                    )
                if array_type and array_type != source:
                    raise ResolutionError("arguments declared anyarray are not all alike")
                array_type = source
            elif kind in ("anyrange", "anymultirange"):
                subtype = self.types[source].subtype if source in self.types else 0
                if not subtype:
                    raise ResolutionError(f"argument declared {kind} is not a range")
                range_type = range_type or source
                if elem and elem != subtype:
                    raise ResolutionError("range and element arguments disagree")
                elem = subtype
            elif kind in ("anycompatible", "anycompatiblenonarray"):
                compatible.append(source)
            elif kind == "anycompatiblearray":
                element = self.element_of(source)
                if not element:
                    raise ResolutionError("argument declared anycompatiblearray is not an array")
                compatible.append(element)
            elif kind in ("anycompatiblerange", "anycompatiblemultirange"):
                subtype = self.types[source].subtype if source in self.types else 0
                if not subtype:
                    raise ResolutionError(f"argument declared {kind} is not a range")
                compatible_range = source
                compatible.append(subtype)
        if array_type:
            array_elem = self.element_of(array_type)
            if elem and elem != array_elem:
                raise ResolutionError("anyarray and anyelement arguments disagree")
            elem = array_elem
        declared = {self.poly_name(t) for t in targets}
        if "anynonarray" in declared and elem and self.element_of(elem):
            raise ResolutionError("argument declared anynonarray is an array")
        if "anyenum" in declared and elem and self.category(elem) != "E":
            raise ResolutionError("argument declared anyenum is not an enum")
        if needs_elem and not elem:
            raise ResolutionError(
                "could not determine polymorphic type because input has type unknown"
            )
        common = 0
        if any(self.poly_name(t) in FAMILY2 for t in targets):
            if compatible_range:
                common = self.types[compatible_range].subtype
            else:
                found = self.common_type(compatible or [self.unknown])
                if found is None:
                    raise ResolutionError("arguments declared anycompatible have no common type")
                common = found
            if not all(self.can_coerce([c], [common], IMPLICIT) for c in compatible):
                raise ResolutionError("arguments declared anycompatible have no common type")
        poly = _Polymorphic(elem, array_type, range_type, common, compatible_range)
        resolved = [self._concrete(t, poly) for t in targets]
        result = None
        if rettype is not None:
            result = self._concrete(rettype, poly)
        return resolved, result

    def _concrete(self, declared: int, found: _Polymorphic) -> int:
        """The concrete type for a declared (possibly polymorphic) type."""
        elem, array_type, range_type, common, compatible_range = (
            found.elem,
            found.array_type,
            found.range_type,
            found.common,
            found.compatible_range,
        )
        kind = self.poly_name(declared)
        if not kind:
            return declared
        if kind in ("anyelement", "anynonarray", "anyenum"):
            return elem
        if kind == "anyarray":
            array = array_type or self.array_of(elem)
            if not array:
                raise ResolutionError(f"could not find array type for {self.display(elem)}")
            return array
        if kind in ("anyrange", "anymultirange"):
            if not range_type:
                raise ResolutionError("could not determine the range type")
            return range_type
        if kind in ("anycompatible", "anycompatiblenonarray"):
            return common
        if kind == "anycompatiblearray":
            array = self.array_of(common)
            if not array:
                raise ResolutionError(f"could not find array type for {self.display(common)}")
            return array
        if not compatible_range:
            raise ResolutionError("could not determine the range type")
        return compatible_range

    def common_type(self, types: Sequence[int]) -> int | None:
        """select_common_type: None when the inputs cannot be matched."""
        if types and all(t == types[0] for t in types) and types[0] != self.unknown:
            return types[0]
        ptype = self.unknown
        pcategory, ppreferred = "X", False
        for ntype in types:
            if ntype in (self.unknown, ptype):
                continue
            ncategory = self.category(ntype)
            npreferred = self.types[ntype].preferred if ntype in self.types else False
            if ptype == self.unknown:
                ptype, pcategory, ppreferred = ntype, ncategory, npreferred
            elif ncategory != pcategory:
                return None
            elif (
                not ppreferred
                and self.can_coerce([ptype], [ntype], IMPLICIT)
                and not self.can_coerce([ntype], [ptype], IMPLICIT)
            ):
                ptype, pcategory, ppreferred = ntype, ncategory, npreferred
        return self.text if ptype == self.unknown else ptype

    # -- function and operator candidates --
    def function_candidates(self, name: str, nargs: int) -> list[Candidate]:
        """FuncnameGetCandidates with variadic and default expansion."""
        results: list[Candidate] = []
        for proc in self.procs_named(name):
            pronargs = len(proc.args)
            pathpos = 1 if proc.user_defined else 0
            variadic = bool(proc.variadic) and pronargs <= nargs
            use_defaults = pronargs > nargs
            if use_defaults and nargs + proc.ndefaults < pronargs:
                continue
            if pronargs != nargs and not variadic and not use_defaults:
                continue
            if variadic:
                nvargs = nargs - pronargs + 1
                args = proc.args[:-1] + (proc.variadic,) * nvargs
                candidate = Candidate(proc, args, nvargs=nvargs, pathpos=pathpos)
            elif use_defaults:
                candidate = Candidate(
                    proc, proc.args[:nargs], ndargs=pronargs - nargs, pathpos=pathpos
                )
            else:
                candidate = Candidate(proc, proc.args, pathpos=pathpos)
            results = self._add_candidate(results, candidate)
        return [c for c in results if c.proc.oid]

    @staticmethod
    def _add_candidate(results: list[Candidate], new: Candidate) -> list[Candidate]:
        for index, previous in enumerate(results):
            if previous.args != new.args:
                continue
            if new.pathpos != previous.pathpos:
                preference = new.pathpos - previous.pathpos
            elif new.nvargs > 0 and previous.nvargs == 0:
                preference = 1
            elif new.nvargs == 0 and previous.nvargs > 0:
                preference = -1
            else:
                preference = 0
            if preference > 0:
                return results
            if preference < 0:
                return results[:index] + results[index + 1 :] + [new]
            # Ambiguous: PostgreSQL marks the earlier one unusable and drops the new one.
            ambiguous = Candidate(
                PgProc(0, previous.proc.name, previous.args, 0, 0, 0, False, VOLATILE, False),
                previous.args,
            )
            return [*results[:index], ambiguous, *results[index + 1 :]]
        return [*results, new]

    def operator_candidates(self, name: str, prefix: bool) -> list[Candidate]:
        key = (name, prefix)
        if key not in self._operator_candidates:
            self._operator_candidates[key] = self._find_operator_candidates(name, prefix)
        return self._operator_candidates[key]

    def _find_operator_candidates(self, name: str, prefix: bool) -> list[Candidate]:
        found = []
        for op in self.operators.get(name, []):
            if prefix != (op.left == 0):
                continue
            args = (op.right,) if prefix else (op.left, op.right)
            found.append(Candidate(self.procs[op.proc], args, operator=op))
        return found

    def exact_operator(self, name: str, left: int, right: int) -> PgOperator | None:
        """binary_oper_exact: an unknown side takes the other side's type."""
        if left == self.unknown and right:
            left = right
        elif right == self.unknown and left:
            right = left
        for op in self.operators.get(name, []):
            if op.left == left and op.right == right:
                return op
        return None

    def match_argtypes(self, inputs: Sequence[int], candidates: list[Candidate]) -> list[Candidate]:
        return [c for c in candidates if self.can_coerce(inputs, c.args, IMPLICIT)]

    def select_candidate(
        self, inputs: Sequence[int], candidates: list[Candidate]
    ) -> Candidate | None:
        """func_select_candidate: PostgreSQL's heuristics for ambiguous calls."""
        nargs = len(inputs)
        unknown = self.unknown
        nunknowns = sum(1 for t in inputs if t == unknown)

        def keep_best(score: list[int]) -> list[Candidate]:
            best = max(score)
            return [c for c, s in zip(candidates, score, strict=True) if s == best]

        candidates = keep_best(
            [
                sum(1 for i, t in enumerate(inputs) if t != unknown and c.args[i] == t)
                for c in candidates
            ]
        )
        if len(candidates) == 1:
            return candidates[0]
        categories = [self.category(t) for t in inputs]
        candidates = keep_best(
            [
                sum(
                    1
                    for i, t in enumerate(inputs)
                    if t != unknown
                    and (c.args[i] == t or self._is_preferred(categories[i], c.args[i]))
                )
                for c in candidates
            ]
        )
        if len(candidates) == 1:
            return candidates[0]
        if nunknowns == 0:
            return None
        slot_category: dict[int, str] = {}
        slot_preferred: dict[int, bool] = {}
        resolved = True
        for i, t in enumerate(inputs):
            if t != unknown:
                continue
            category, preferred, conflict = "", False, False
            for c in candidates:
                ccat = self.category(c.args[i])
                cpref = self.types[c.args[i]].preferred if c.args[i] in self.types else False
                if not category:
                    category, preferred = ccat, cpref
                elif ccat == category:
                    preferred = preferred or cpref
                elif ccat == "S":
                    category, preferred = ccat, cpref
                else:
                    conflict = True
            if conflict and category != "S":
                resolved = False
                break
            slot_category[i], slot_preferred[i] = category, preferred
        if resolved:
            kept = [
                c
                for c in candidates
                if all(
                    self.category(c.args[i]) == slot_category[i]
                    and not (
                        slot_preferred[i]
                        and not (
                            self.types[c.args[i]].preferred if c.args[i] in self.types else False
                        )
                    )
                    for i in slot_category
                )
            ]
            if kept:
                candidates = kept
            if len(candidates) == 1:
                return candidates[0]
        if nunknowns < nargs:
            known = {t for t in inputs if t != unknown}
            if len(known) == 1:
                (known_type,) = known
                matching = [
                    c for c in candidates if self.can_coerce([known_type] * nargs, c.args, IMPLICIT)
                ]
                if len(matching) == 1:
                    return matching[0]
        return None

    def _is_preferred(self, category: str, oid: int) -> bool:
        t = self.types.get(oid)
        return t is not None and t.preferred and (category in (t.category, "X"))


@lru_cache(maxsize=4)
def load_catalog(major: int = DEFAULT_PG_VERSION) -> Catalog:
    """The snapshot for one PostgreSQL major version shipped with omc-dev."""
    try:
        text = (CATALOGS / f"pg{major}.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UnusableInput(
            f"no PostgreSQL {major} catalog snapshot shipped; available: "
            f"{', '.join(str(v) for v in available_versions())}: pass one of them to --pg-version"
        ) from None
    data = json.loads(text)
    types = {
        row[0]: PgType(row[0], row[1], row[2], row[3], bool(row[4]), *row[5:])
        for row in data["types"]
    }
    procs = {
        row[0]: PgProc(
            row[0],
            row[1],
            tuple(row[2]),
            row[3],
            row[4],
            row[5],
            bool(row[6]),
            row[7],
            bool(row[8]),
            row[9],
        )
        for row in data["procs"]
    }
    operators: dict[str, list[PgOperator]] = {}
    for row in data["operators"]:
        if row[5] in procs:
            operators.setdefault(row[1], []).append(PgOperator(*row))
    casts = {
        (row[0], row[1]): PgCast(row[0], row[1], row[2], _CONTEXT[row[3]], row[4])
        for row in data["casts"]
    }
    return Catalog(data["major"], data["server_version"], types, procs, operators, casts)


def available_versions() -> list[int]:
    return sorted(
        int(entry.name[2:-5])
        for entry in CATALOGS.iterdir()
        if entry.name.startswith("pg") and entry.name.endswith(".json")
    )
