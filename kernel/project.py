"""Where the kernel's project is, and its TOML files: the kernel reads its own configuration.

The CLI that runs the kernel knows the project root better (it follows Compose and omc-dev's own
rules) and passes it in; this is the fallback for the kernel used on its own.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kernel.errors import UnusableInput

PROJECT_DIR_ENV = "OMC_PROJECT_DIR"
PYPROJECT = "pyproject.toml"


def project_root(environ: Mapping[str, str] | None = None) -> Path:
    """`OMC_PROJECT_DIR` (or the working folder), walked up to the nearest folder holding a
    pyproject.toml or `.git`; the start itself when there is none."""
    env = os.environ if environ is None else environ
    start = Path(env.get(PROJECT_DIR_ENV) or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / PYPROJECT).is_file() or (folder / ".git").exists():
            return folder
    return start


def read_toml(path: Path, what: str = "file") -> dict[str, Any]:
    """The parsed TOML file at `path` (`what` it is, for the message when it is missing)."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UnusableInput(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise UnusableInput(f"{path}: invalid TOML: the file is not UTF-8 text") from None
    except RecursionError:
        raise UnusableInput(f"{path}: invalid TOML: nested too deeply") from None
    except FileNotFoundError:
        raise UnusableInput(f"{path}: cannot read: no such {what}") from None
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None


def table_at(doc: Mapping[str, Any], keys: Sequence[str], source: Path) -> Mapping[str, Any] | None:
    """The nested table `[a.b...]` of a parsed TOML document; None when absent."""
    node: Mapping[str, Any] = doc
    for depth, key in enumerate(keys, 1):
        child = node.get(key)
        if child is None:
            return None
        if not isinstance(child, Mapping):
            raise UnusableInput(f"{source}: [{'.'.join(keys[:depth])}] must be a table")
        node = child
    return node


def kernel_table(root: Path) -> tuple[Mapping[str, Any], str]:
    """`[tool.omc-dev.kernel]` of the project's pyproject.toml (empty when absent), and where."""
    pyproject = root / PYPROJECT
    if not pyproject.is_file():
        return {}, str(pyproject)
    doc = read_toml(pyproject)
    table = (table_at(doc, ("tool", "omc-dev", "kernel"), pyproject)) or {}
    return table, str(pyproject)


def ignore_state_folder(folder: Path) -> None:
    """`folder/.gitignore` holding `*`, so the kernel's own files in the checkout (the default
    database under `.omc/`) never show as uncommitted work. omc-dev's `.omc/` does the same."""
    ignore = folder / ".gitignore"
    if ignore.is_file() or ignore.is_symlink():
        return
    # A concurrent process may write it first ("x" then fails): either way it is there.
    with contextlib.suppress(FileExistsError), ignore.open("x", encoding="utf-8") as fh:
        fh.write("*\n")
