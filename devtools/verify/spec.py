"""The deliverables spec: what "done" means for a branch.

Read from `[tool.omc-dev.verify]` in pyproject.toml, or from a file given with `--spec` (the
same keys at its top level, or a pyproject.toml of its own):

    base = "main"                       # default: the remote's default branch
    remote = "origin"
    min-handwritten-lines = 0           # for the whole branch (0: no minimum)
    stub-min-lines = 10                 # below it, a component rendering one bare element is a stub
    generated = ["web/src/client/**"]   # files a tool writes, besides those verify recognises

    [[tool.omc-dev.verify.deliverables]]
    name = "orders page"
    branch = "feature/orders"           # optional: only checked when verifying this branch
    paths = ["web/src/pages/Orders.tsx", "api/orders/**/*.py"]
    symbols = ["OrdersPage", "api/orders/views.py:OrderView.post"]
    min-handwritten-lines = 80
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.config import ProjectConfig, read_toml, table_at
from devtools.errors import UnusableInput
from devtools.verify.globs import compile_glob, is_glob
from devtools.verify.stubs import DEFAULT_MIN_LINES

TOP_KEYS = (
    "remote",
    "base",
    "min-handwritten-lines",
    "stub-min-lines",
    "generated",
    "deliverables",
)
DELIVERABLE_KEYS = ("name", "branch", "paths", "symbols", "min-handwritten-lines")


@dataclass(frozen=True)
class Symbol:
    name: str  # `create_order`, or `OrderView.post` in Python
    path: str | None  # the file that must define it; None: any of the deliverable's files


@dataclass(frozen=True)
class Deliverable:
    name: str
    branch: str | None = None
    paths: tuple[str, ...] = ()
    symbols: tuple[Symbol, ...] = ()
    min_handwritten_lines: int = 0

    def applies_to(self, branch: str) -> bool:
        return self.branch is None or self.branch == branch

    def owns(self, path: str) -> bool:
        """Whether `path` is one of the deliverable's files (no paths: every file)."""
        return not self.paths or any(path_regex(p).fullmatch(path) for p in self.paths)


@functools.lru_cache(maxsize=256)
def path_regex(pattern: str) -> re.Pattern[str]:
    """A spec path as a regex: a glob, else a file or everything under a folder."""
    if is_glob(pattern):
        return compile_glob(pattern)
    return re.compile(re.escape(pattern.strip("/")) + r"(?:/.*)?")


@dataclass(frozen=True)
class Spec:
    source: str
    remote: str | None = None
    base: str | None = None
    min_handwritten_lines: int = 0
    stub_min_lines: int = DEFAULT_MIN_LINES
    deliverables: tuple[Deliverable, ...] = ()
    generated: tuple[str, ...] = ()  # globs of generated files, from the repository root


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnusableInput(f"{where} must be a whole number >= 0, not {value!r}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UnusableInput(f"{where} must be a non-empty string, not {value!r}")
    return value.strip()


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise UnusableInput(f"{where} must be a list of strings, not {value!r}")
    return tuple(_str(item, where) for item in value)


def _unknown(table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise UnusableInput(
            f"{where}: unknown key {extra[0]!r} (expected one of: {', '.join(allowed)})"
        )


def _symbol(raw: str, where: str, has_paths: bool) -> Symbol:
    path, sep, name = raw.rpartition(":")
    name, path = name.strip(), path.rstrip(":").strip()
    if not sep:
        if not has_paths:
            raise UnusableInput(
                f"{where}: symbol {raw!r} names no file and the deliverable has no paths: "
                "write it as 'path/to/file.py:Name'"
            )
        return Symbol(name, None)
    if not path or not name:
        raise UnusableInput(f"{where}: symbol {raw!r} must look like 'path/to/file.py:Name'")
    return Symbol(name, path.strip("/"))


def parse_spec(table: Mapping[str, Any], source: str) -> Spec:
    _unknown(table, TOP_KEYS, source)
    raw_deliverables = table.get("deliverables", [])
    if not isinstance(raw_deliverables, list):
        raise UnusableInput(f"{source}: 'deliverables' must be an array of tables")
    deliverables: list[Deliverable] = []
    names: set[str] = set()
    for index, item in enumerate(raw_deliverables, 1):
        where = f"{source}: deliverable #{index}"
        if not isinstance(item, Mapping):
            raise UnusableInput(f"{where} must be a table ([[...deliverables]])")
        name = _str(item.get("name"), f"{where}: 'name'")
        where = f"{source}: deliverable {name!r}"
        _unknown(item, DELIVERABLE_KEYS, where)
        if name in names:
            raise UnusableInput(f"{where} is declared twice: names must be unique")
        names.add(name)
        paths = _strings(item.get("paths", []), f"{where}: 'paths'")
        symbols = tuple(
            _symbol(raw, where, bool(paths))
            for raw in _strings(item.get("symbols", []), f"{where}: 'symbols'")
        )
        branch = item.get("branch")
        deliverables.append(
            Deliverable(
                name=name,
                branch=None if branch is None else _str(branch, f"{where}: 'branch'"),
                paths=paths,
                symbols=symbols,
                min_handwritten_lines=_int(
                    item.get("min-handwritten-lines", 0), f"{where}: 'min-handwritten-lines'"
                ),
            )
        )
    remote, base = table.get("remote"), table.get("base")
    return Spec(
        source=source,
        remote=None if remote is None else _str(remote, f"{source}: 'remote'"),
        base=None if base is None else _str(base, f"{source}: 'base'"),
        min_handwritten_lines=_int(
            table.get("min-handwritten-lines", 0), f"{source}: 'min-handwritten-lines'"
        ),
        stub_min_lines=_int(
            table.get("stub-min-lines", DEFAULT_MIN_LINES), f"{source}: 'stub-min-lines'"
        ),
        deliverables=tuple(deliverables),
        generated=tuple(
            p.strip("/") for p in _strings(table.get("generated", []), f"{source}: 'generated'")
        ),
    )


def load_spec(config: ProjectConfig, spec_file: Path | None = None) -> Spec:
    """The spec from `--spec FILE`, else from `[tool.omc-dev.verify]` (possibly empty)."""
    if spec_file is None:
        where = f"{config.pyproject or 'pyproject.toml'} [tool.omc-dev.verify]"
        return parse_spec(config.section("verify"), where)
    doc = read_toml(spec_file, "spec file")
    table = table_at(doc, ("tool", "omc-dev", "verify"), spec_file)
    if table is None:
        return parse_spec(doc, str(spec_file))
    return parse_spec(table, f"{spec_file} [tool.omc-dev.verify]")
