"""A service's `env_file` that does not exist yet: the usual first-clone state, said with the fix.

Many projects commit `.env.example` and ignore `.env`; until the developer copies it, compose
refuses the whole project ("env file ... not found"). That is true, and the fix is the copy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_NOT_FOUND = re.compile(r"env file (?P<path>/\S+) not found")
# Names projects give the committed example of an env file, next to it.
_EXAMPLES = ("{}.example", "{}.sample", "{}.template", "{}.dist", "{}.default", "example{}")


def missing_env_file(stderr: str, cwd: Path | None = None) -> str | None:
    """One line naming the missing env file and how to create it, or None if not that error."""
    match = _NOT_FOUND.search(stderr)
    if match is None:
        return None
    missing = Path(match["path"])
    here = cwd or Path.cwd()
    shown = _relative(missing, here)
    example = next(
        (
            missing.parent / pattern.format(missing.name)
            for pattern in _EXAMPLES
            if (missing.parent / pattern.format(missing.name)).is_file()
        ),
        None,
    )
    if example is not None:
        fix = f"create it from the example: cp {_relative(example, here)} {shown}"
    else:
        fix = (
            "create it with the settings the project expects "
            f"(compose reads nothing until it exists; `touch {shown}` lets it read the project)"
        )
    return f"env file {shown} does not exist and a service reads it (env_file): {fix}"


def _relative(path: Path, here: Path) -> str:
    try:
        return os.path.relpath(path, here)
    except ValueError:  # another drive
        return str(path)
