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

PYPROJECT = "pyproject.toml"
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


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


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding a pyproject.toml, a compose file or `.git`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PYPROJECT).is_file() or (folder / ".git").exists():
            return folder
        if any((folder / name).is_file() for name in COMPOSE_FILES):
            return folder
    return start


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
        return ProjectConfig(root=root, data=read_tool_table(pyproject), pyproject=pyproject)
    return ProjectConfig(root=root)


def load(start: Path | None = None) -> ProjectConfig:
    """The project config for `start` (default: `OMC_PROJECT_DIR`, else the working directory)."""
    if start is None:
        start = Path(os.environ.get("OMC_PROJECT_DIR") or Path.cwd())
    return _load(find_root(start))
