"""Which install extra brings a missing module: a command whose extra is not installed says so.

The core install is what the pre-commit hooks and `omc-dev migrations lint` use; the rest comes
with extras (pyproject.toml). A command that imports a module from a missing extra ends with one
line naming the extra and the install command (exit 125), never a traceback.
"""

from __future__ import annotations

from devtools.errors import EnvironmentMissing

# Top-level module -> (distribution users know it by, extra that installs it).
MODULE_EXTRA: dict[str, tuple[str, str]] = {
    "docker": ("docker", "stack"),
    "git": ("GitPython", "verify"),
    "gitdb": ("GitPython", "verify"),
    "sqlalchemy": ("SQLAlchemy", "kernel"),
    "alembic": ("Alembic", "kernel"),
    "mako": ("Alembic", "kernel"),
    "psycopg": ("psycopg", "kernel"),
    "starlette": ("Starlette", "kernel"),  # kernel serve's dashboard
    "jinja2": ("Jinja2", "kernel"),
    "uvicorn": ("uvicorn", "kernel"),
}

# rich (tables) comes with every extra but not the core: the command says which extra it is in.
COMMAND_EXTRA: dict[str, str] = {
    "verify": "verify",
    "kernel": "kernel",
    "status": "kernel",
    "audit": "kernel",
    "killswitch": "kernel",
    "migrations": "kernel",
}
DEFAULT_EXTRA = "stack"


def missing_extra(exc: ModuleNotFoundError, command: str | None) -> EnvironmentMissing | None:
    """The one-line error for `exc` when an extra would bring the module, else None (a bug)."""
    top = (exc.name or "").partition(".")[0]
    if top == "rich":
        package, extra = "rich", COMMAND_EXTRA.get(command or "", DEFAULT_EXTRA)
    elif top in MODULE_EXTRA:
        package, extra = MODULE_EXTRA[top]
    else:
        return None
    what = f"omc-dev {command}" if command else "this command"
    return EnvironmentMissing(
        f"{what} needs {package}, from the '{extra}' extra, which is not installed: "
        f"pip install 'omc-dev[{extra}]' (or 'omc-dev[all]' for every command)"
    )
