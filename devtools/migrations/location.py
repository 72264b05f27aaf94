"""Where the revision files are: PATH, else `[tool.omc-dev.migrations] path`, else alembic.ini's
`script_location`, else pyproject's `[tool.alembic]`.

PATH may be an `alembic.ini` (or a pyproject.toml with `[tool.alembic]`), a script location (a
folder holding `versions/`), or a versions folder itself. `%(here)s` works as in Alembic. A
relative path in an alembic.ini is, as in Alembic, relative to the folder `alembic` runs in: the
current folder first, then the ini's folder, then the project root. An ini with no
script_location inside a folder holding `env.py` and `versions/` (Flask-Migrate, Advanced
Alchemy: the framework passes the location at run time) is that folder.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from devtools import config
from devtools.config import ProjectConfig
from devtools.errors import UnusableInput

_SEPARATORS = {"os": os.pathsep, ":": ":", ";": ";", ",": ",", "space": " ", "newline": "\n"}


@dataclass(frozen=True)
class ScriptLocation:
    versions: tuple[Path, ...]
    recursive: bool = False
    found_in: str = "argument"
    # Set when a relative path could mean more than one existing folder: which one was read.
    note: str | None = None

    def describe(self) -> str:
        return ", ".join(str(v) for v in self.versions)


def locate(path: str | None, cfg: ProjectConfig) -> ScriptLocation:
    if path:
        return _from_path(Path(path), "argument", cfg.root)
    configured = cfg.section("migrations").get("path")
    if configured:
        if not isinstance(configured, str):
            raise UnusableInput(f"{cfg.pyproject}: [tool.omc-dev.migrations] path must be a string")
        return _from_path(cfg.root / configured, "[tool.omc-dev.migrations] path", cfg.root)
    ini = _nearest_ini(cfg.root, Path.cwd())
    if ini is not None:
        return from_ini(ini, cfg.root)
    if cfg.pyproject is not None:
        table = _tool_alembic(cfg.pyproject)
        if table:
            return from_tool_alembic(table, cfg.pyproject)
    raise UnusableInput(
        f"no Alembic migrations found under {cfg.root}: pass PATH (an alembic.ini, a folder "
        "holding versions/, or a versions folder), or set [tool.omc-dev.migrations] path"
    )


def _nearest_ini(root: Path, cwd: Path) -> Path | None:
    """The alembic.ini Alembic would use from `cwd` (there or in a folder above it, up to the
    project root), else the root's, else the only one a level below the root (`backend/`)."""
    here, top = cwd.resolve(), root.resolve()
    if here.is_relative_to(top):
        for folder in (here, *here.parents):
            if (folder / "alembic.ini").is_file():
                return folder / "alembic.ini"
            if folder == top:
                break
    elif (top / "alembic.ini").is_file():
        return top / "alembic.ini"
    below = sorted(top.glob("*/alembic.ini"))
    return below[0] if len(below) == 1 else None


def _from_path(path: Path, found_in: str, root: Path | None = None) -> ScriptLocation:
    if not path.exists():
        raise UnusableInput(
            f"{path} does not exist (expected an alembic.ini or a migrations folder)"
        )
    if path.is_file():
        if path.name == "pyproject.toml":
            table = _tool_alembic(path)
            if not table:
                raise UnusableInput(f"{path} has no [tool.alembic] table")
            return from_tool_alembic(table, path)
        if path.suffix == ".ini":
            return from_ini(path, root)
        raise UnusableInput(f"{path} is a file but not an alembic.ini or pyproject.toml")
    if (path / "versions").is_dir():
        return ScriptLocation((path / "versions",), found_in=found_in)
    if path.name == "versions" or any(path.glob("*.py")):
        return ScriptLocation((path,), found_in=found_in)
    if (path / "alembic.ini").is_file():
        return from_ini(path / "alembic.ini", root)
    raise UnusableInput(
        f"{path} holds no revision files and no versions/ folder: pass the script location "
        "or its versions folder"
    )


def from_ini(ini: Path, root: Path | None = None) -> ScriptLocation:
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent.resolve())})
    try:
        parser.read(ini, encoding="utf-8")
        if not parser.has_section("alembic"):
            _no_script_location(ini, parser, "has no [alembic] section")
        section = parser["alembic"]
        script_location = section.get("script_location")
        version_locations = section.get("version_locations")
        separator = section.get("path_separator") or section.get("version_path_separator")
        recursive = section.get("recursive_version_locations", "false").strip().lower() in (
            "true",
            "1",
            "yes",
            "on",
        )
    except (configparser.Error, KeyError, UnicodeDecodeError) as exc:
        # configparser's messages span lines (file, line number, the offending text): one line.
        reason = " ".join(str(exc).split())
        raise UnusableInput(f"{ini}: cannot read the [alembic] section: {reason}") from None
    notes: list[str] = []
    if not script_location:
        if (ini.parent / "env.py").is_file() and (ini.parent / "versions").is_dir():
            # Flask-Migrate and Advanced Alchemy keep the ini inside the migrations folder and
            # pass script_location at run time.
            script = ini.parent.resolve()
        else:
            _no_script_location(ini, parser, "[alembic] has no script_location")
    else:
        script = _script_dir(script_location, ini, root, notes)
    if version_locations:
        if separator is not None and separator.strip() not in _SEPARATORS and separator != " ":
            raise UnusableInput(f"{ini}: unknown path separator {separator!r}")
        parts = _split_locations(version_locations, separator)
        versions = tuple(_ini_path(p, ini, root, notes) for p in parts)
        return ScriptLocation(versions, recursive, str(ini), _note(notes))
    return ScriptLocation((script / "versions",), recursive, str(ini), _note(notes))


def _note(notes: list[str]) -> str | None:
    return "; ".join(notes) if notes else None


def _no_script_location(ini: Path, parser: configparser.ConfigParser, what: str) -> NoReturn:
    """Alembic reads [alembic] unless run with `-n NAME`: name the sections that would work."""
    others = [
        s for s in parser.sections() if s != "alembic" and parser.has_option(s, "script_location")
    ]
    if not others:
        raise UnusableInput(
            f"{ini}: {what}: add script_location, or pass the migrations folder as PATH"
        )
    named = ", ".join(f"[{s}]" for s in others)
    first = parser.get(others[0], "script_location")
    raise UnusableInput(
        f"{ini}: {what} (sections {named} have one, for `alembic -n NAME`): pass the one to "
        f"check as PATH, or set [tool.omc-dev.migrations] path to its folder "
        f"([{others[0]}] says {first!r})"
    )


def _split_locations(value: str, separator: str | None) -> list[str]:
    if separator is None:
        # Alembic's legacy splitting: commas or spaces.
        return [p for p in re.split(r", *|(?: +)", value.strip()) if p]
    sep = " " if separator == " " else _SEPARATORS[separator.strip() or "space"]
    return [p.strip() for p in value.split(sep) if p.strip()]


def _config_path(value: str, config_file: Path) -> Path:
    """A path in pyproject's [tool.alembic]: relative to the file, as Alembic resolves it."""
    path = _plain_path(value, config_file)
    return path if path.is_absolute() else (config_file.parent / path).resolve()


def _plain_path(value: str, config_file: Path) -> Path:
    value = value.strip().replace("%(here)s", str(config_file.parent.resolve()))
    if re.match(r"^[A-Za-z_][\w.]*:", value) and not re.match(r"^[A-Za-z]:[\\/]", value):
        raise UnusableInput(
            f"{config_file}: {value!r} is a package resource; omc-dev does not import packages, "
            "so pass the migrations folder as PATH"
        )
    return Path(value)


def _ini_path(value: str, ini: Path, root: Path | None, notes: list[str]) -> Path:
    """A relative path in an alembic.ini: Alembic opens it as is, from the folder it runs in.
    That is the current folder; if nothing is there, the ini's folder or the project root
    (where people run `alembic`). The first that exists wins; a note says which when two
    different folders exist."""
    path = _plain_path(value, ini)
    if path.is_absolute():
        return path
    bases = [Path.cwd(), ini.parent, *([root] if root is not None else [])]
    candidates = list(dict.fromkeys((base / path).resolve() for base in bases))
    existing = [c for c in candidates if c.exists()]
    if not existing:
        return (ini.parent / path).resolve()
    if len(existing) > 1:
        notes.append(f"{ini}: {value.strip()!r} read as {existing[0]} (also exists: {existing[1]})")
    return existing[0]


def _script_dir(
    value: str, config_file: Path, root: Path | None = None, notes: list[str] | None = None
) -> Path:
    """script_location must exist, as Alembic insists (a missing versions folder is only empty)."""
    if config_file.suffix == ".ini":
        script = _ini_path(value, config_file, root, [] if notes is None else notes)
    else:
        script = _config_path(value, config_file)
    if not script.is_dir():
        if (config_file.parent / "env.py").is_file() and (config_file.parent / "versions").is_dir():
            # The ini sits in the migrations folder and the framework passes the real location
            # at run time (Advanced Alchemy); the folder itself is what it runs.
            return config_file.parent.resolve()
        raise UnusableInput(
            f"{config_file}: script_location {script} does not exist: fix the path, or pass the "
            "migrations folder as PATH"
        )
    return script


def _tool_alembic(pyproject: Path) -> Mapping[str, Any]:
    return config.table_at(config.read_toml(pyproject), ("tool", "alembic"), pyproject) or {}


def from_tool_alembic(table: Mapping[str, Any], pyproject: Path) -> ScriptLocation:
    script_location = table.get("script_location")
    if not isinstance(script_location, str):
        raise UnusableInput(f'{pyproject}: [tool.alembic] needs script_location = "..."')
    recursive = bool(table.get("recursive_version_locations", False))
    locations = table.get("version_locations")
    if locations:
        if isinstance(locations, str):
            locations = _split_locations(locations, None)
        if not isinstance(locations, list) or not all(isinstance(p, str) for p in locations):
            raise UnusableInput(
                f"{pyproject}: [tool.alembic] version_locations must be a list of paths"
            )
        return ScriptLocation(
            tuple(_config_path(p, pyproject) for p in locations), recursive, "[tool.alembic]"
        )
    return ScriptLocation(
        (_script_dir(script_location, pyproject) / "versions",), recursive, "[tool.alembic]"
    )
