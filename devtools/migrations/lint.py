"""The lint pipeline: read the history, check the graph, walk the schema, judge every index."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devtools.errors import UnusableInput
from devtools.findings import Finding, Severity
from devtools.migrations.cache import FileCache
from devtools.migrations.catalog import DEFAULT_PG_VERSION, Catalog, load_catalog
from devtools.migrations.ddl import Columns, CreateIndex, Operation, SchemaState
from devtools.migrations.expr import Column, Node, to_sql
from devtools.migrations.graph.model import RevisionFile, RevisionGraph
from devtools.migrations.graph.read import load_history, parse_source
from devtools.migrations.graph.rules import GRAPH_CHECKS, GRAPH_RULES, GraphModel, findings_of
from devtools.migrations.location import ScriptLocation
from devtools.migrations.ops import may_have_operations, read_operations
from devtools.migrations.sql import is_index_element
from devtools.migrations.volatility import Culprit, Verdict, judge, user_procs
from devtools.report.checks import Check, rule

INDEX_RULES = ("non-immutable-index", "invalid-index-expression", "unverified-index")
DB_RULES = ("migration-failed",)  # only with --against-db
RULE_GROUPS = {"graph": GRAPH_RULES, "index": INDEX_RULES + DB_RULES}
ALL_RULES = GRAPH_RULES + INDEX_RULES + DB_RULES


def select_rules(spec: Iterable[str]) -> frozenset[str]:
    """`--select graph,non-immutable-index`: rule ids and the group names `graph`, `index`."""
    chosen: set[str] = set()
    for item in spec:
        for name in filter(None, (part.strip() for part in item.split(","))):
            if name in RULE_GROUPS:
                chosen.update(RULE_GROUPS[name])
            elif name in ALL_RULES:
                chosen.add(name)
            else:
                known = ", ".join(["graph", "index", *ALL_RULES])
                raise UnusableInput(f"unknown rule {name!r} (known: {known})")
    return frozenset(chosen or ALL_RULES)


@dataclass(frozen=True)
class LintSettings:
    pg_version: int = DEFAULT_PG_VERSION
    allowed_heads: Mapping[str, int] = field(default_factory=dict)
    rules: frozenset[str] = frozenset(ALL_RULES)


def settings_from_config(section: Mapping[str, object]) -> LintSettings:
    """`[tool.omc-dev.migrations]`: pg-version, allowed-heads = {label = count}."""
    version = section.get("pg-version", DEFAULT_PG_VERSION)
    if not isinstance(version, int):
        raise UnusableInput("[tool.omc-dev.migrations] pg-version must be an integer such as 15")
    allowed = section.get("allowed-heads", {})
    if not isinstance(allowed, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int) and v >= 1 for k, v in allowed.items()
    ):
        raise UnusableInput(
            "[tool.omc-dev.migrations] allowed-heads must map branch labels to head counts, "
            "e.g. allowed-heads = { plugins = 1 }"
        )
    return LintSettings(version, dict(allowed))


@dataclass
class LintResult:
    heads: list[str]
    findings: list[Finding]
    graph: RevisionGraph


def lint(
    location: ScriptLocation,
    settings: LintSettings,
    *,
    cwd: Path,
    base_ref: str | None = None,
) -> LintResult:
    graph_cache = FileCache(location.describe(), "graph")
    upgrades = (
        UpgradeReader(FileCache(location.describe(), "ops"))
        if settings.rules & set(INDEX_RULES)
        else None
    )
    graph = load_history(
        location, cwd, cache=graph_cache, on_parse=upgrades.on_parse if upgrades else None
    )
    graph_cache.save()
    base = None
    if base_ref is not None:
        from devtools.migrations.gitbase import history_at

        base = history_at(location, base_ref, cwd)
    findings = findings_of(
        GRAPH_CHECKS, GraphModel(graph, settings.allowed_heads, base, base_ref or "")
    )
    if upgrades is not None:
        catalog = load_catalog(settings.pg_version)
        findings += findings_of(INDEX_CHECKS, IndexModel(graph, catalog, upgrades))
        upgrades.save()
    chosen = [f for f in findings if f.id in settings.rules]
    chosen.sort(key=lambda f: (f.path or "", f.line or 0, f.id))
    return LintResult(graph.distinct_heads(), chosen, graph)


# --- indexes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexModel:
    """What the index rules read: the graph, the catalog that judges, each file's upgrade()."""

    graph: RevisionGraph
    catalog: Catalog
    upgrades: UpgradeReader


# The index (volatility) rules as one registered check: one walk of the history produces
# non-immutable-index, invalid-index-expression and unverified-index.
INDEX_CHECKS: tuple[Check[IndexModel], ...] = (
    rule(
        "index-immutability",
        "Every index PostgreSQL accepts as IMMUTABLE",
        lambda m: index_findings(m.graph, m.catalog, m.upgrades),
    ),
)


def index_findings(
    graph: RevisionGraph, catalog: Catalog, upgrades: UpgradeReader | None = None
) -> list[Finding]:
    """Judge every index each revision creates, against the schema its ancestors built."""
    upgrades = upgrades or UpgradeReader()
    findings: list[Finding] = []
    states: dict[str, SchemaState] = {}
    catalogs: dict[tuple[frozenset[str], tuple[object, ...]], Catalog] = {}
    verdicts: dict[tuple[object, ...], Verdict] = {}
    for rev in graph.topological():
        state = SchemaState()
        for parent in graph.parents(rev):
            if parent.revision in states:
                state = state.merge(states[parent.revision])
        read = upgrades.operations(rev)
        if read is not None:
            operations, problems = read
            for line, message in problems:
                if (
                    message.startswith(("op.create_index", "op.execute", "op.create_table"))
                    or ".create_index" in message
                ):
                    findings.append(
                        Finding(
                            "unverified-index",
                            Severity.WARNING,
                            f"{message}; its indexes are not checked",
                            rev.display,
                            line,
                        )
                    )
            for op in operations:
                if isinstance(op, CreateIndex):
                    key = (state.enums, state.functions)
                    if key not in catalogs:
                        catalogs[key] = catalog.with_additions(
                            state.enums, user_procs(catalog, state.functions)
                        )
                    findings += judge_index(op, state, rev, catalogs[key], verdicts)
                state = state.apply(op)
        assert rev.revision is not None
        states[rev.revision] = state
    return findings


Read = tuple[list[Operation], list[tuple[int, str]]]  # operations, (line, problem)


class UpgradeReader:
    """Each revision's `upgrade()` operations, read once per file's bytes: from the cache, from
    the tree `load_history` parsed anyway (`on_parse`), or by parsing the source (files whose
    declarations came from the cache). A file whose text names no schema-changing `op` method
    is never walked."""

    def __init__(self, cache: FileCache | None = None) -> None:
        self.cache = cache
        self.reads: dict[str, Read] = {}

    def on_parse(self, rev: RevisionFile, tree: ast.Module) -> None:
        if rev.digest not in self.reads:
            self._read(rev, tree)

    def operations(self, rev: RevisionFile) -> Read | None:
        """None when the file cannot be parsed (its syntax error is a graph finding)."""
        found = self.reads.get(rev.digest) if rev.digest else None
        return found if found is not None else self._read(rev, None)

    def save(self) -> None:
        if self.cache is not None:
            self.cache.save()

    def _read(self, rev: RevisionFile, tree: ast.Module | None) -> Read | None:
        cached = self.cache.get(rev.digest) if self.cache is not None and rev.digest else None
        if isinstance(cached, tuple):
            read: Read = cached
        elif rev.source is None:
            return None
        elif tree is None and not may_have_operations(rev.source):
            read = ([], [])  # not even parsed
        else:
            if tree is None:
                tree, _ = parse_source(rev.source)
                if tree is None:
                    return None
            read = read_operations(tree, rev.source)
            if self.cache is not None and rev.digest:
                self.cache.put(rev.digest, read)
        if rev.digest:
            self.reads[rev.digest] = read
        return read


def _judge_once(
    node: Node,
    *,
    predicate: bool,
    columns: Columns | None,
    table: str,
    catalog: Catalog,
    verdicts: dict[tuple[object, ...], Verdict],
) -> Verdict:
    """Long histories repeat the same index on tables of the same shape: judge each once."""
    used = sorted({n.name.rsplit(".", 1)[-1] for n in node.walk() if isinstance(n, Column)})
    shape = None if columns is None else tuple((c, _type_text(columns, c)) for c in used)
    key = (to_sql(node), predicate, shape, table if columns is None else "", id(catalog))
    if key not in verdicts:
        verdicts[key] = judge(node, catalog, columns, table=table, predicate=predicate)
    return verdicts[key]


def _type_text(columns: Columns, column: str) -> str | None:
    if column not in columns:
        return "-"
    type_name = columns[column]
    return type_name.sql() if type_name is not None else None


def judge_index(
    op: CreateIndex,
    state: SchemaState,
    rev: RevisionFile,
    catalog: Catalog,
    verdicts: dict[tuple[object, ...], Verdict],
) -> list[Finding]:
    findings = []
    columns = state.columns(op.table)
    label = f"index {op.name}" if op.name else "an unnamed index"
    where = f"{label} on {op.table} ({op.how})"
    for part in op.parts:
        what = "predicate" if part.is_predicate else "expression"
        if part.node is None:
            findings.append(
                Finding(
                    "unverified-index",
                    Severity.WARNING,
                    f"{where}: cannot read the {what} `{part.text}`: {part.problem}",
                    rev.display,
                    op.line,
                )
            )
            continue
        if part.verbatim and not is_index_element(part.text):
            findings.append(
                Finding(
                    "invalid-index-expression",
                    Severity.ERROR,
                    f"{where}: PostgreSQL {catalog.major} rejects `{part.text}` with a syntax error: "
                    "SQLAlchemy pastes sa.text() into the column list as is, and an index element "
                    "that is neither a column nor a function call must be in parentheses",
                    rev.display,
                    op.line,
                    fix=f'write sa.text("({part.text})")',
                )
            )
        if isinstance(part.node, Column) and not part.is_predicate:
            continue  # a plain column calls no function
        verdict = _judge_once(
            part.node,
            predicate=part.is_predicate,
            columns=columns,
            table=op.table,
            catalog=catalog,
            verdicts=verdicts,
        )
        if verdict.immutable is None:
            findings.append(
                Finding(
                    "unverified-index",
                    Severity.WARNING,
                    f"{where}: cannot tell statically whether PostgreSQL {catalog.major} accepts the "
                    f"{what} `{part.text}`: {verdict.reason}",
                    rev.display,
                    op.line,
                    fix="run `omc-dev migrations lint --against-db URL` for PostgreSQL's own answer",
                )
            )
        elif verdict.immutable is False:
            rewrite = verdict.rewrite
            if rewrite and not part.is_predicate and not is_index_element(rewrite):
                rewrite = f"({rewrite})"  # as an index element it needs its own parentheses
            fix = f"write `{rewrite}` instead" if rewrite else _advice(verdict.culprits)
            findings.append(
                Finding(
                    "non-immutable-index",
                    Severity.ERROR,
                    f'{where}: PostgreSQL {catalog.major} rejects it ("functions in index {what} must '
                    f'be marked IMMUTABLE"): in `{part.text}`, {verdict.explain()}',
                    rev.display,
                    op.line,
                    fix=fix,
                )
            )
    return findings


def _advice(culprits: Sequence[Culprit]) -> str:
    kinds = {c.kind for c in culprits}
    volatilities = {c.volatility for c in culprits}
    if "value" in kinds or any("current time" in c.why for c in culprits):
        return (
            "an index cannot depend on the current time: use a fixed cutoff "
            "(e.g. created_at > '2024-01-01') or filter in the query instead"
        )
    if "v" in volatilities:
        return "remove the volatile call: an index must compute the same value for the same row every time"
    return (
        "use an IMMUTABLE equivalent (convert timestamptz with AT TIME ZONE 'UTC' before casting or "
        "truncating), or wrap the expression in an IMMUTABLE SQL function you own, only if its "
        "result really never changes"
    )
