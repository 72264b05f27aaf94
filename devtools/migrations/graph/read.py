"""Reading revision files: module-level assignments, with `ast`; no migration module is ever
imported. Each file's declarations are a pure function of its bytes (and cached by them)."""

from __future__ import annotations

import ast
import gc
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from devtools.migrations.cache import FileCache
from devtools.migrations.graph.alembic import build_graph
from devtools.migrations.graph.model import (
    EMPTY_DOWN_REVISION,
    GRAPH_NAMES,
    Declarations,
    Problem,
    RevisionFile,
    RevisionGraph,
)
from devtools.migrations.location import ScriptLocation

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
