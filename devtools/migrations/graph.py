"""The Alembic revision graph, read statically: no migration module is ever imported.

First the data model (what one revision file declares, then the graph), then how it is read
(module-level assignments, with `ast`), then heads the way Alembic computes them
(`alembic/script/revision.py`, `RevisionMap._revision_map`), then the graph rules.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from devtools.findings import Finding, Severity
from devtools.migrations.cache import FileCache
from devtools.migrations.location import ScriptLocation

# --- the model ---------------------------------------------------------------------------------

GRAPH_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")
EMPTY_DOWN_REVISION = "empty-down-revision"  # a note, not an error
ILLEGAL_CHARS = "@-+:"  # alembic.script.revision._revision_illegal_chars
MAX_ID_LENGTH = 32  # alembic_version.version_num is VARCHAR(32)
RESERVED_IDS = {"head", "heads", "base"}  # Alembic's symbolic names


@dataclass(frozen=True)
class Problem:
    """Something in a file that keeps the graph from being read exactly."""

    rule: str  # "unresolvable-value" or "syntax-error"
    message: str
    line: int | None


@dataclass(frozen=True)
class Declarations:
    """What a revision file's module-level code declares: a pure function of its bytes."""

    revision: str | None = None
    down_revisions: tuple[str, ...] = ()  # versioned parents; () is a base
    dependencies: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    has_dependencies: bool = False  # depends_on is not None (Alembic's "real base" test)
    bad_revision_type: bool = False
    lines: tuple[tuple[str, int], ...] = ()
    problems: tuple[Problem, ...] = ()

    def to_record(self) -> tuple[object, ...]:
        """Plain tuples: quick to pickle and to load."""
        problems = tuple((p.rule, p.message, p.line) for p in self.problems)
        return (*(getattr(self, f) for f in _DECLARED_FIELDS), problems)

    @classmethod
    def from_record(cls, record: tuple[object, ...]) -> Declarations:
        *values, problems = record
        declared = dict(zip(_DECLARED_FIELDS, values, strict=True))
        found = tuple(Problem(*p) for p in problems)  # type: ignore[attr-defined]
        return cls(**declared, problems=found)  # type: ignore[arg-type]


_DECLARED_FIELDS = (
    "revision",
    "down_revisions",
    "dependencies",
    "branch_labels",
    "has_dependencies",
    "bad_revision_type",
    "lines",
)


@dataclass
class RevisionFile:
    """One file in a versions folder and what it declares, as Alembic's `Revision` holds it."""

    path: str
    display: str  # the path as findings show it
    declared: Declarations = field(default_factory=Declarations)
    digest: str = ""  # of the file's bytes: the cache key
    source: bytes | None = None

    @property
    def revision(self) -> str | None:
        return self.declared.revision

    @property
    def down_revisions(self) -> tuple[str, ...]:
        return self.declared.down_revisions

    @property
    def dependencies(self) -> tuple[str, ...]:
        return self.declared.dependencies

    @property
    def branch_labels(self) -> tuple[str, ...]:
        return self.declared.branch_labels

    @property
    def bad_revision_type(self) -> bool:
        return self.declared.bad_revision_type

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.declared.problems

    def line(self, name: str = "revision") -> int | None:
        lines = dict(self.declared.lines)
        return lines.get(name) or lines.get("revision")


@dataclass
class RevisionGraph:
    """All revisions in load order and the relations Alembic derives from them."""

    files: list[RevisionFile]
    by_id: dict[str, RevisionFile]  # the last file loaded wins, as in Alembic
    labels: dict[str, RevisionFile]
    heads: tuple[str, ...]
    bases: tuple[str, ...]
    missing: list[tuple[RevisionFile, str, str]]  # (file, id, "down_revision" | "depends_on")
    duplicates: list[tuple[RevisionFile, RevisionFile]]
    label_conflicts: list[tuple[RevisionFile, str, RevisionFile]]
    cycles: list[list[str]]
    _parents: dict[tuple[int, bool], list[RevisionFile]] = field(default_factory=dict)

    def resolve(self, ref: str, *, labels: bool = False) -> RevisionFile | None:
        """A down_revision reference (a revision id), or a depends_on one (an id or a branch
        label: Alembic resolves labels for depends_on only, and fails on one in down_revision)."""
        found = self.by_id.get(ref)
        if found is None and labels:
            found = self.labels.get(ref)
        return found

    def parents(self, rev: RevisionFile, *, dependencies: bool = True) -> list[RevisionFile]:
        key = (id(rev), dependencies)
        found = self._parents.get(key)
        if found is None:
            parents = [self.resolve(ref) for ref in rev.down_revisions]
            if dependencies:
                parents += [self.resolve(ref, labels=True) for ref in rev.dependencies]
            found = [p for p in parents if p is not None]
            self._parents[key] = found
        return found

    def distinct_heads(self) -> list[str]:
        return list(dict.fromkeys(self.heads))

    def ancestors(self, rev: RevisionFile, *, dependencies: bool = False) -> set[str]:
        """Ids of `rev` and everything below it."""
        seen: set[str] = set()
        stack = [rev]
        while stack:
            node = stack.pop()
            if node.revision is None or node.revision in seen:
                continue
            seen.add(node.revision)
            stack.extend(self.parents(node, dependencies=dependencies))
        return seen

    def head_labels(self, head: str) -> set[str]:
        """Branch labels a head carries: Alembic gives a label to all descendants."""
        rev = self.by_id.get(head)
        if rev is None:
            return set()
        return {label for rid in self.ancestors(rev) for label in self.by_id[rid].branch_labels}

    def topological(self) -> list[RevisionFile]:
        """Every resolvable revision after its parents (and dependencies), in load order."""
        order: list[RevisionFile] = []
        done: set[str] = set()
        visiting: set[str] = set()
        for rev in self.by_id.values():
            stack: list[tuple[RevisionFile, bool]] = [(rev, False)]
            while stack:
                node, expanded = stack.pop()
                rid = node.revision
                assert rid is not None
                if rid in done:
                    continue
                if expanded:
                    visiting.discard(rid)
                    done.add(rid)
                    order.append(node)
                    continue
                if rid in visiting:
                    continue  # a cycle; reported by the cycle rule
                visiting.add(rid)
                stack.append((node, True))
                for parent in reversed(self.parents(node)):
                    if parent.revision not in done:
                        stack.append((parent, False))
        return order


# --- reading revision files --------------------------------------------------------------------

REVISION_FILE = re.compile(
    r"(?!\.#|__init__)(.*\.py)$"
)  # alembic.script.base._only_source_rev_file


class Unresolvable(Exception):
    pass


def list_revision_files(locations: Sequence[Path], recursive: bool = False) -> list[str]:
    """The files Alembic would load, in its order (sorted per folder, folders top-down)."""
    paths: list[str] = []
    seen: set[tuple[int, int]] = set()
    for location in locations:
        pending = [str(location)]
        while pending:
            folder = pending.pop(0)
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            subfolders = []
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.endswith("__pycache__"):
                        subfolders.append(entry.path)
                    continue
                if not REVISION_FILE.match(entry.name):
                    continue
                try:
                    stat = entry.stat()
                except OSError:
                    continue
                if (stat.st_dev, stat.st_ino) in seen:
                    continue  # the same file through two version locations
                seen.add((stat.st_dev, stat.st_ino))
                paths.append(entry.path)
            if recursive:
                pending[:0] = subfolders
    return paths


def load_history(
    location: ScriptLocation,
    cwd: Path,
    *,
    cache: FileCache | None = None,
    on_parse: Callable[[RevisionFile, ast.Module], None] | None = None,
) -> RevisionGraph:
    """Read every revision file (from the cache when its bytes are unchanged) into a graph.

    `on_parse` sees each syntax tree parsed in this run, so a caller that needs more from it
    (lint reads `upgrade()`) parses each file once. No tree is kept: with a thousand trees
    alive, the garbage collector's passes cost as much as the parsing.
    """
    prefix = str(cwd).rstrip(os.sep) + os.sep
    with collector_paused():
        files = [
            _load_file(path, prefix, cache, on_parse)
            for path in list_revision_files(location.versions, location.recursive)
        ]
    return build_graph(files)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Reading a history allocates hundreds of thousands of short-lived objects, which
    reference counting frees (syntax trees hold no cycles); the cycle collector's passes over
    them would add a third to the parsing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_file(
    path: str,
    prefix: str,  # the working directory, which findings show paths relative to
    cache: FileCache | None,
    on_parse: Callable[[RevisionFile, ast.Module], None] | None,
) -> RevisionFile:
    display = path[len(prefix) :] if path.startswith(prefix) else path
    return read_revision(path, display, cache=cache, on_parse=on_parse)


def read_revision(
    path: str,
    display: str,
    source: bytes | None = None,
    *,
    cache: FileCache | None = None,
    on_parse: Callable[[RevisionFile, ast.Module], None] | None = None,
) -> RevisionFile:
    """Parse one file (its declarations from `cache` when its bytes are unchanged); never
    imports it. Problems become findings, not exceptions."""
    if source is None:
        try:
            with open(path, "rb", buffering=0) as fh:  # noqa: PTH123 - plain and unbuffered: fast
                source = fh.read()
        except OSError as exc:
            problem = Problem("syntax-error", f"cannot be read: {exc.strerror}", None)
            return RevisionFile(path, display, Declarations(problems=(problem,)))
    digest = file_digest(source)
    cached = cache.get(digest) if cache is not None else None
    if isinstance(cached, tuple):
        return RevisionFile(path, display, Declarations.from_record(cached), digest, source)
    tree, declared = parse_declarations(source)
    if cache is not None and cache.enabled:
        cache.put(digest, declared.to_record())
    rev = RevisionFile(path, display, declared, digest, source)
    if on_parse is not None and tree is not None:
        on_parse(rev, tree)
    return rev


def file_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def parse_source(data: bytes) -> tuple[ast.Module | None, Problem | None]:
    try:
        return ast.parse(data), None
    except SyntaxError as exc:
        return None, Problem("syntax-error", f"not valid Python: {exc.msg}", exc.lineno)
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, Problem("syntax-error", f"cannot be parsed: {exc}", None)


def parse_declarations(data: bytes) -> tuple[ast.Module | None, Declarations]:
    tree, problem = parse_source(data)
    if tree is None:
        assert problem is not None
        return None, Declarations(problems=(problem,))
    return tree, declarations(tree)


_COMPOUND = (ast.Assign, ast.AnnAssign, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_GRAPH_NAME_SET = frozenset(GRAPH_NAMES)


def declarations(tree: ast.Module) -> Declarations:
    """Module-level assignments in order; the last one wins, as when Python runs the module."""
    env: dict[str, object] = {}
    values: dict[str, object] = {}
    lines: dict[str, int] = {}
    unresolved: dict[str, Problem] = {}
    for stmt in tree.body:
        for name, value_node, line in _assignments(stmt):
            try:
                value = _literal(value_node, env)
            except Unresolvable as exc:
                env.pop(name, None)
                if name in GRAPH_NAMES:
                    values.pop(name, None)
                    unresolved[name] = Problem(
                        "unresolvable-value",
                        f"{name} cannot be read statically ({exc}); omc-dev never imports "
                        "migrations, so write it as a literal",
                        line,
                    )
                    lines[name] = line
                continue
            env[name] = value
            if name in GRAPH_NAMES:
                values[name] = value
                unresolved.pop(name, None)
                lines[name] = line
        if not isinstance(stmt, _COMPOUND) and not _is_docstring(stmt):
            for name in _stored_names(stmt) & _GRAPH_NAME_SET:
                values.pop(name, None)
                unresolved[name] = Problem(
                    "unresolvable-value",
                    f"{name} is assigned inside a block or imported, so its value depends on running "
                    "the module; assign it once at module level",
                    stmt.lineno,
                )
                lines[name] = stmt.lineno
    problems = list(unresolved.values())
    revision: str | None = None
    bad_type = False
    if "revision" in values:
        value = values["revision"]
        bad_type = not isinstance(value, str)
        revision = value if isinstance(value, str) else repr(value)
    elif "revision" not in unresolved:
        problems.append(
            Problem(
                "unresolvable-value",
                'no module-level `revision = "..."`; omc-dev never takes revision ids from file '
                "names (Alembic only does for legacy hex names)",
                1,
            )
        )
    down_value = values.get("down_revision")
    if down_value == "":
        # Alembic up to 1.12.0 read "" as None (a base); 1.12.1 and later stop with KeyError: ''.
        down_value = None
        problems.append(
            Problem(
                EMPTY_DOWN_REVISION,
                'down_revision = "" is read as None (a base), as Alembic 1.12.0 and older read '
                "it; Alembic 1.12.1 and later stop on it with KeyError: ''",
                lines.get("down_revision"),
            )
        )
    down = _id_tuple("down_revision", down_value, lines, problems)
    deps = _id_tuple("depends_on", values.get("depends_on"), lines, problems)
    labels = _id_tuple("branch_labels", values.get("branch_labels"), lines, problems)
    return Declarations(
        revision,
        down,
        deps,
        labels,
        values.get("depends_on") is not None,
        bad_type,
        tuple(lines.items()),
        tuple(problems),
    )


def _is_docstring(stmt: ast.stmt) -> bool:
    """A bare constant (the module docstring): it binds nothing."""
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _stored_names(stmt: ast.stmt) -> set[str]:
    """Names a non-assignment statement binds: in nested blocks, imports, walrus expressions."""
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    names: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
            and node is not stmt
        ):
            if not isinstance(node, ast.Lambda):
                names.add(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return names


def _assignments(stmt: ast.stmt) -> Iterable[tuple[str, ast.expr, int]]:
    """(name, value, line) for plain, annotated and tuple-unpacking assignments."""
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            yield from _targets(target, stmt.value, stmt.lineno)
    elif (
        isinstance(stmt, ast.AnnAssign)
        and stmt.value is not None
        and isinstance(stmt.target, ast.Name)
    ):
        yield stmt.target.id, stmt.value, stmt.lineno


def _targets(target: ast.expr, value: ast.expr, line: int) -> Iterable[tuple[str, ast.expr, int]]:
    if isinstance(target, ast.Name):
        yield target.id, value, line
    elif isinstance(target, ast.Tuple | ast.List):
        if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
            for sub_target, sub_value in zip(target.elts, value.elts, strict=True):
                yield from _targets(sub_target, sub_value, line)
        else:
            for sub_target in target.elts:
                yield from _targets(sub_target, ast.Call(ast.Name("unpacked"), [], []), line)


def _literal(node: ast.expr, env: Mapping[str, object]) -> object:
    """A constant expression: strings, None, tuples/lists/sets of them, names bound earlier."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str | type(None) | int | bool):
            return node.value
        raise Unresolvable(f"a {type(node.value).__name__} constant")
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return tuple(_literal(elt, env) for elt in node.elts)
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        raise Unresolvable(f"{node.id} is not a constant defined earlier in the file")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left, env), _literal(node.right, env)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        if isinstance(left, tuple) and isinstance(right, tuple):
            return left + right
    raise Unresolvable(f"`{_unparse(node)}` is computed")


def _unparse(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _id_tuple(
    name: str, value: object, lines: Mapping[str, int], problems: list[Problem]
) -> tuple[str, ...]:
    """alembic.util.to_tuple: None -> (), "x" -> ("x",), sequences as they are."""
    if value is None:
        return ()
    items = (value,) if isinstance(value, str) else value if isinstance(value, tuple) else (value,)
    good = tuple(item for item in items if isinstance(item, str))
    if len(good) != len(items):
        problems.append(
            Problem(
                "unresolvable-value",
                f"{name} must be a string, a tuple or list of strings, or None",
                lines.get(name),
            )
        )
    return good


# --- the graph, as Alembic builds it -----------------------------------------------------------


def build_graph(files: list[RevisionFile]) -> RevisionGraph:
    """RevisionMap._revision_map: the same heads, in the same order, on every graph."""
    readable = [f for f in files if f.revision is not None and not f.bad_revision_type]
    by_id: dict[str, RevisionFile] = {}
    duplicates: list[tuple[RevisionFile, RevisionFile]] = []
    for rev in readable:
        assert rev.revision is not None
        if rev.revision in by_id:
            duplicates.append((by_id[rev.revision], rev))
        by_id[rev.revision] = rev
    labels: dict[str, RevisionFile] = {}
    label_conflicts: list[tuple[RevisionFile, str, RevisionFile]] = []
    for rev in readable:
        for label in rev.branch_labels:
            holder = labels.get(label) or by_id.get(label)
            if holder is not None and holder is not rev:
                label_conflicts.append((rev, label, holder))
            else:
                labels[label] = rev
    graph = RevisionGraph(files, by_id, labels, (), (), [], duplicates, label_conflicts, [])
    # Alembic keeps every loaded Revision object as a head candidate, duplicates included, and
    # discards those that a surviving revision names as a versioned parent.
    referenced: set[int] = set()
    for rev in by_id.values():
        for kind, refs in (("down_revision", rev.down_revisions), ("depends_on", rev.dependencies)):
            for ref in refs:
                parent = graph.resolve(ref, labels=kind == "depends_on")
                if parent is None:
                    graph.missing.append((rev, ref, kind))
                elif kind == "down_revision":
                    referenced.add(id(parent))
    graph.heads = tuple(r.revision for r in readable if id(r) not in referenced)  # type: ignore[misc]
    graph.bases = tuple(r.revision for r in readable if not r.down_revisions)  # type: ignore[misc]
    graph.cycles = _cycles(graph)
    return graph


def _cycles(graph: RevisionGraph) -> list[list[str]]:
    """Strongly connected components through down_revision and depends_on (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for start in graph.by_id:
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, child_index = work.pop()
            if child_index == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = [p.revision for p in graph.parents(graph.by_id[node]) if p.revision]
            if child_index < len(children):
                work.append((node, child_index + 1))
                child = children[child_index]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    item = stack.pop()
                    on_stack.discard(item)
                    component.append(item)
                    if item == node:
                        break
                rev = graph.by_id[node]
                self_loop = node in rev.down_revisions + rev.dependencies or any(
                    p is rev for p in graph.parents(rev)
                )
                if len(component) > 1 or self_loop:
                    cycles.append(list(reversed(component)))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return cycles


# --- rules --------------------------------------------------------------------------------------

GRAPH_RULES = (
    "multiple-heads",
    "missing-parent",
    "duplicate-revision",
    "revision-cycle",
    "invalid-revision-id",
    "unresolvable-value",
    "syntax-error",
    EMPTY_DOWN_REVISION,
)


def graph_findings(
    graph: RevisionGraph, allowed_heads: Mapping[str, int] | None = None
) -> list[Finding]:
    findings: list[Finding] = []
    for rev in graph.files:
        findings += [
            Finding(
                p.rule,
                Severity.INFO if p.rule == EMPTY_DOWN_REVISION else Severity.ERROR,
                p.message,
                rev.display,
                p.line,
                fix="write down_revision = None" if p.rule == EMPTY_DOWN_REVISION else None,
            )
            for p in rev.problems
        ]
        findings += _invalid_id(rev)
    findings += _duplicates(graph)
    findings += _missing(graph)
    findings += _cycle_findings(graph)
    findings += heads_findings(graph, allowed_heads or {})
    return findings


def _invalid_id(rev: RevisionFile) -> list[Finding]:
    if rev.revision is None:
        return []
    rid = rev.revision
    reasons = []
    if rev.bad_revision_type:
        reasons.append("it is not a string")
    else:
        bad = sorted(set(rid) & set(ILLEGAL_CHARS))
        if bad:
            reasons.append(f"Alembic forbids {', '.join(repr(c) for c in bad)} in revision ids")
        if len(rid) > MAX_ID_LENGTH:
            reasons.append(
                f"it is {len(rid)} characters long and alembic_version.version_num holds {MAX_ID_LENGTH}"
            )
        if not rid.strip():
            reasons.append("it is empty")
        if rid in RESERVED_IDS:
            reasons.append(f"{rid!r} is one of Alembic's symbolic names")
    if not reasons:
        return []
    return [
        Finding(
            "invalid-revision-id",
            Severity.ERROR,
            f"revision id {rid!r} in {rev.display} is invalid: {'; '.join(reasons)}",
            rev.display,
            rev.line(),
            fix="use a short id of letters, digits and underscores (`alembic revision` generates 12 hex digits)",
        )
    ]


def _duplicates(graph: RevisionGraph) -> list[Finding]:
    findings = []
    for first, second in graph.duplicates:
        findings.append(
            Finding(
                "duplicate-revision",
                Severity.ERROR,
                f"revision id {second.revision!r} is declared by both {first.display} (line "
                f"{first.line()}) and {second.display} (line {second.line()}); Alembic only warns and "
                f"keeps the last one loaded ({second.display}), silently dropping the other",
                second.display,
                second.line(),
                fix="give one of the two files a new revision id and re-point its children's "
                "down_revision; a merge revision is the wrong fix (it cannot tell the two apart)",
            )
        )
    for rev, label, holder in graph.label_conflicts:
        findings.append(
            Finding(
                "duplicate-revision",
                Severity.ERROR,
                f"branch label {label!r} in {rev.display} is already used by revision "
                f"{holder.revision} ({holder.display}); Alembic refuses to load the history",
                rev.display,
                rev.line("branch_labels"),
                fix="rename one of the labels",
            )
        )
    return findings


def _missing(graph: RevisionGraph) -> list[Finding]:
    findings = []
    unreadable = [f for f in graph.files if f.revision is None and f.source is not None]
    for rev, ref, kind in graph.missing:
        holder = next(
            (f for f in unreadable if ref and f"'{ref}'".encode() in f.source.replace(b'"', b"'")),  # type: ignore[union-attr]
            None,
        )
        if holder is not None:
            findings.append(
                Finding(
                    "missing-parent",
                    Severity.ERROR,
                    f"{rev.revision} ({rev.display}) names {ref!r} in {kind}, which "
                    f"{holder.display} seems to declare, but that file cannot be read (see its "
                    "finding), so the history has no such revision",
                    rev.display,
                    rev.line(kind),
                    fix=f"fix {holder.display} first",
                )
            )
            continue
        similar = [rid for rid in graph.by_id if ref and rid.startswith(ref) and rid != ref]
        hint = f"; did you mean {similar[0]!r}?" if len(similar) == 1 else ""
        if ref in graph.labels:
            labelled = graph.labels[ref].revision
            hint = f" ({ref!r} is a branch label: down_revision needs the id, here {labelled!r}, or use depends_on)"
        findings.append(
            Finding(
                "missing-parent",
                Severity.ERROR,
                f"{rev.revision} ({rev.display}) names {ref!r} in {kind}, but no revision in the "
                f"history has that id{hint}; Alembic stops with a bare KeyError: {ref!r}",
                rev.display,
                rev.line(kind),
                fix=_missing_fix(graph, rev, ref, kind),
            )
        )
    return findings


def _missing_fix(graph: RevisionGraph, rev: RevisionFile, ref: str, kind: str) -> str:
    """Only a head that does not descend from `rev` can be its parent without a cycle."""
    below_rev = {
        head
        for head in graph.distinct_heads()
        if rev.revision in graph.ancestors(graph.by_id[head], dependencies=True)
    }
    others = [h for h in graph.distinct_heads() if h not in below_rev]
    built_on = (
        f" ({', '.join(sorted(below_rev))} {'is' if len(below_rev) == 1 else 'are'} built on "
        f"{rev.revision} and cannot be its parent)"
        if below_rev
        else ""
    )
    if kind == "depends_on":
        return f"remove {ref!r} from depends_on, or restore the revision that has that id"
    if not others:
        return (
            f"if {rev.revision} is the first revision, write down_revision = None; otherwise "
            f"restore the revision {ref!r}{built_on}"
        )
    listed = ", ".join(others)
    return (
        f"point down_revision at the revision {rev.revision} was written on top of (heads "
        f"outside its own descendants: {listed}){built_on}"
    )


def _cycle_findings(graph: RevisionGraph) -> list[Finding]:
    findings = []
    refusal = alembic_cycle_error(graph) if graph.cycles else None
    for cycle in graph.cycles:
        rev = graph.by_id[cycle[0]]
        fix = "make one of them revise the revision it was really written on top of"
        if len(cycle) == 1:
            kind = "down_revision" if cycle[0] in rev.down_revisions else "depends_on"
            fix = f"remove {cycle[0]!r} from its own {kind}"
            what = f"revision {cycle[0]} names itself in {kind}"
            consequence = "Alembic refuses to load the history (" + (
                "LoopDetected)" if kind == "down_revision" else "DependencyLoopDetected)"
            )
        else:
            loop = " -> ".join([*cycle, cycle[0]])
            what = f"revisions revise each other in a cycle: {loop}"
            consequence = (
                f"Alembic refuses to load the history ({refusal})"
                if refusal
                else "Alembic does not notice it (every revision of the cycle lies between a "
                "base and a head): `heads`, `history` and `upgrade` go on, and `upgrade` runs "
                "these revisions in an order that breaks one of these links"
            )
        findings.append(
            Finding(
                "revision-cycle",
                Severity.ERROR,
                f"{what}; {consequence}",
                rev.display,
                rev.line("down_revision"),
                fix=fix,
            )
        )
    return findings


def alembic_cycle_error(graph: RevisionGraph) -> str | None:
    """What Alembic's `RevisionMap._detect_cycles` raises on this graph, or None: it only sees a
    cycle that cuts revisions off from every head or every base."""
    if not graph.by_id:
        return None
    for dependencies, error in ((False, "CycleDetected"), (True, "DependencyCycleDetected")):
        children: dict[str, set[str]] = {rid: set() for rid in graph.by_id}
        for rid, rev in graph.by_id.items():
            for parent in graph.parents(rev, dependencies=dependencies):
                assert parent.revision is not None
                children[parent.revision].add(rid)
        heads = [rid for rid, below in children.items() if not below]
        bases = [
            rid
            for rid, rev in graph.by_id.items()
            if not rev.down_revisions and not (dependencies and rev.dependencies)
        ]
        if not heads or not bases:
            return error
        below = {
            rid: [p.revision or "" for p in graph.parents(rev, dependencies=dependencies)]
            for rid, rev in graph.by_id.items()
        }
        down = _reach(heads, below)
        up = _reach(bases, children)
        if set(graph.by_id) - (down & up):
            return error
    return None


def _reach(starts: Iterable[str], step: Mapping[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        node = stack.pop()
        if node in seen or not node:
            continue
        seen.add(node)
        stack.extend(step.get(node, ()))
    return seen


def heads_findings(graph: RevisionGraph, allowed_heads: Mapping[str, int]) -> list[Finding]:
    """`multiple-heads`, after setting aside the heads of branch labels allowed their own."""
    heads = graph.distinct_heads()
    claimed: dict[str, list[str]] = {label: [] for label in allowed_heads}
    unclaimed: list[str] = []
    for head in heads:
        labels = graph.head_labels(head)
        label = next((name for name in allowed_heads if name in labels), None)
        (claimed[label] if label is not None else unclaimed).append(head)
    groups = [(None, unclaimed, 1)] + [
        (label, claimed[label], allowed_heads[label]) for label in allowed_heads
    ]
    findings = []
    for label, group, allowed in groups:
        if len(group) <= allowed:
            continue
        revs = [graph.by_id[h] for h in group]
        listed = ", ".join(f"{r.revision} ({r.display})" for r in revs)
        scope = f"branch {label!r} has" if label else "the history has"
        last = revs[-1]
        separate = _separate_roots(graph, revs)
        if separate is not None:
            message = (
                f"{scope} {len(group)} heads from {len(separate[0])} separate roots "
                f"({', '.join(separate[0])}): {listed}; `alembic upgrade head` refuses to "
                "choose between them"
            )
        else:
            message = (
                f"{scope} {len(group)} heads: {listed}; `alembic upgrade head` refuses to choose "
                "between them"
            )
        findings.append(
            Finding(
                "multiple-heads",
                Severity.ERROR,
                message,
                last.display,
                last.line(),
                fix=(
                    "break the revision cycle first (see revision-cycle): a merge revision "
                    "cannot fix a history that loops"
                    if graph.cycles
                    else "first fix the revision files that cannot be read (see their "
                    "findings): these heads are counted without them"
                    if any(f.revision is None for f in graph.files)
                    else separate[1]
                    if separate is not None
                    else f'alembic merge -m "merge heads" {" ".join(group)}'
                ),
            )
        )
    return findings


def _separate_roots(
    graph: RevisionGraph, heads: list[RevisionFile]
) -> tuple[list[str], str] | None:
    """When some head shares no revision with the others, the history has two independent
    roots (`down_revision = None` twice): usually an initial revision written twice, which an
    `alembic merge` would only cement. The roots, and the fix to suggest; None otherwise."""
    below = [graph.ancestors(head) for head in heads]
    alone = [
        i
        for i, mine in enumerate(below)
        if not any(mine & o for j, o in enumerate(below) if j != i)
    ]
    if not alone:
        return None
    roots = [
        rid
        for rid in dict.fromkeys(r for ids in below for r in sorted(ids))
        if not graph.by_id[rid].down_revisions
    ]
    # A history cut off by a missing parent is not a second root (missing-parent says so).
    if not all(any(r in ids for r in roots) for ids in below):
        return None
    # The smaller history is the likely duplicate; its root should build on the other's head.
    small = min(alone, key=lambda i: (len(below[i]), -i))
    dup_root = next(r for r in roots if r in below[small])
    others = [h.revision for i, h in enumerate(heads) if i != small and h.revision]
    target = others[0] if len(others) == 1 else "(" + ", ".join(others) + ")"
    fix = (
        f"two separate histories: {dup_root} ({graph.by_id[dup_root].display}) starts one of "
        f"them with down_revision = None, likely a duplicate initial revision; remove it if the "
        f"other history already creates the same tables, or set its down_revision = "
        f"{target!r}; `alembic merge` would join two independent schemas, rarely what is meant"
    )
    return roots, fix


def base_findings(graph: RevisionGraph, base: RevisionGraph, ref: str) -> list[Finding]:
    """Green PRs, red merge: revisions added since `ref` must build on `ref`'s head."""
    base_heads = base.distinct_heads()
    findings = []
    for rid, rev in graph.by_id.items():
        if rid in base.by_id:
            continue
        stale = [p for p in rev.down_revisions if p in base.by_id and p not in base_heads]
        new_root = not rev.down_revisions and base.by_id and not rev.branch_labels
        if not stale and not new_root:
            continue
        after = ", ".join([*base_heads, rid]) if base_heads else rid
        written_on = f"revises {', '.join(stale)}" if stale else "starts a new base"
        target = base_heads[0] if len(base_heads) == 1 else "(" + ", ".join(base_heads) + ")"
        findings.append(
            Finding(
                "multiple-heads",
                Severity.ERROR,
                f"{rid} ({rev.display}) is new since {ref} and {written_on}, but {ref}'s head is "
                f"{', '.join(base_heads) or 'empty'}: merging will leave several heads ({after})",
                rev.display,
                rev.line("down_revision"),
                fix=f"rebase the revision: set down_revision = {target!r} in {rev.display}",
            )
        )
    return findings
