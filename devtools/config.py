"""Settings: `[tool.omc-dev]` in the project's pyproject.toml, then environment, then flags.

Each area reads its own sub-table (`[tool.omc-dev.run]`, `[tool.omc-dev.verify]`, ...) through
`ProjectConfig.section`; this module only finds the project and parses the file once.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from devtools.errors import UnusableInput
from devtools.git.layout import top_level

PYPROJECT = "pyproject.toml"
# Compose's own default names, in its order, and the override file it reads with them.
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)


@dataclass(frozen=True)
class ProjectConfig:
    """The project omc-dev works on: its root folder and its `[tool.omc-dev]` table."""

    root: Path
    data: Mapping[str, Any] = field(default_factory=dict)
    pyproject: Path | None = None

    def section(self, *keys: str) -> Mapping[str, Any]:
        """A nested table such as `section("verify")`; empty when absent."""
        node: Any = self.data
        for key in keys:
            node = node.get(key, {}) if isinstance(node, Mapping) else {}
        if not isinstance(node, Mapping):
            where = ".".join(("tool.omc-dev", *keys))
            raise UnusableInput(f"{self.pyproject}: [{where}] must be a table")
        return node

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def _has_tool_table(pyproject: Path) -> bool:
    """Whether this pyproject.toml holds `[tool.omc-dev]` (a backend's own pyproject does not).

    A cheap text test first: most pyproject files on the way up never mention omc-dev."""
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if "omc-dev" not in text:
        return False
    tool = read_toml(pyproject).get("tool")
    return isinstance(tool, Mapping) and "omc-dev" in tool


def repository_root(start: Path | None = None) -> Path:
    """The folder paths in findings are relative to: the git top-level (what GitHub annotations
    and CI mean by a path), else the project root."""
    here = Path(os.environ.get("OMC_PROJECT_DIR") or Path.cwd()) if start is None else start
    return top_level(here.resolve()) or find_root(here)


def find_root(start: Path) -> Path:
    """The project root for `start`, found as users expect from any subfolder:
    the nearest folder with `[tool.omc-dev]` in its pyproject.toml, else the nearest folder with
    a compose file (searching upward as Compose does), else the git top-level, else the
    nearest pyproject.toml, else `start`.

    The search stays inside the git checkout when there is one: a pyproject or compose file
    above the repository belongs to something else.
    """
    start = start.resolve()
    top = top_level(start)
    chain = [start, *start.parents]
    if top is not None:
        chain = chain[: chain.index(top) + 1]
    for folder in chain:
        if _has_tool_table(folder / PYPROJECT):
            return folder
    for folder in chain:
        if any((folder / name).is_file() for name in COMPOSE_FILES):
            return folder
    if top is not None:
        return top
    # Outside git: the nearest Python project, as before.
    return next((f for f in chain if (f / PYPROJECT).is_file()), start)


def read_toml(path: Path, what: str = "file") -> dict[str, Any]:
    """The parsed TOML file at `path` (`what` it is, for the message when it is missing)."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        # tomllib reports "(at line N, column M)": keep it, it is the useful part.
        raise UnusableInput(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise UnusableInput(f"{path}: invalid TOML: the file is not UTF-8 text") from None
    except RecursionError:
        raise UnusableInput(f"{path}: invalid TOML: arrays or tables nested too deeply") from None
    except FileNotFoundError:
        raise UnusableInput(f"{path}: cannot read: no such {what}") from None
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None


def table_at(doc: Mapping[str, Any], keys: Sequence[str], source: Path) -> Mapping[str, Any] | None:
    """The nested table `[a.b...]` of a parsed TOML file; None when absent."""
    node: Mapping[str, Any] = doc
    for depth, key in enumerate(keys, 1):
        child = node.get(key)
        if child is None:
            return None
        if not isinstance(child, Mapping):
            raise UnusableInput(f"{source}: [{'.'.join(keys[:depth])}] must be a table")
        node = child
    return node


def read_tool_table(pyproject: Path) -> Mapping[str, Any]:
    return table_at(read_toml(pyproject), ("tool", "omc-dev"), pyproject) or {}


@lru_cache(maxsize=8)
def _load(root: Path) -> ProjectConfig:
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        data = read_tool_table(pyproject)
        from devtools.configkeys import warn_unknown  # only when there is a table to check

        warn_unknown(data, pyproject)
        return ProjectConfig(root=root, data=data, pyproject=pyproject)
    return ProjectConfig(root=root)


def load(start: Path | None = None) -> ProjectConfig:
    """The project config for `start` (default: `OMC_PROJECT_DIR`, else the working directory)."""
    if start is None:
        start = Path(os.environ.get("OMC_PROJECT_DIR") or Path.cwd())
    return _load(find_root(start))
