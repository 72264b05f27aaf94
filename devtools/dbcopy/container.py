"""A track's running PostgreSQL container, reached with `docker exec` (argv lists, no shell).

Credentials come from the container's own environment (POSTGRES_USER, POSTGRES_DB and
POSTGRES_PASSWORD, as the official image and the reference stack's image read them). The password
never appears on a command line: `docker exec -e PGPASSWORD` takes it from the docker CLI's
environment.
"""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass

from devtools.errors import UserError

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
SQL_SECONDS = 120.0  # one catalog statement; a restore or dump has no deadline


class SqlFailed(UserError):
    """psql in the container refused a statement (exit 1)."""

    exit_code = 1


@dataclass(frozen=True)
class DbContainer:
    id: str
    project: str
    user: str
    database: str
    password: str | None

    @property
    def maintenance_db(self) -> str:
        """A database to connect to while `database` itself is renamed or dropped."""
        return "postgres" if self.database != "postgres" else "template1"

    def exec_argv(self, *argv: str, stdin: bool = False, app: str | None = None) -> list[str]:
        from devtools.docker.execcli import exec_argv

        env = []
        if self.password is not None:
            env.append("PGPASSWORD")  # the value: from our environment (exec_env)
        if app is not None:
            env.append(f"PGAPPNAME={app}")
        return exec_argv(self.id, argv, stdin=stdin, env=env)

    def exec_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def psql_argv(self, database: str | None = None) -> list[str]:
        return self.exec_argv(
            "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--no-password",
            "-U", self.user, "-d", database or self.database, stdin=True,
        )  # fmt: skip

    def sql(self, statement: str, *, database: str | None = None) -> str:
        """Run SQL (one statement, or a script) in the container; its output, stripped."""
        from devtools import proc

        try:
            done = proc.run(
                self.psql_argv(database),
                timeout=SQL_SECONDS,
                input=statement.encode(),
                env=self.exec_env(),
            )
        except subprocess.TimeoutExpired:
            raise SqlFailed(
                f"the database of compose project {self.project} did not answer within "
                f"{SQL_SECONDS:.0f}s: check it with `omc-dev status`"
            ) from None
        except FileNotFoundError:
            from devtools.docker.execcli import docker_missing

            raise docker_missing() from None
        if done.returncode != 0:
            raise SqlFailed(
                f"PostgreSQL in compose project {self.project} refused a statement: "
                f"{last_line(done.stderr)}"
            )
        return bytes(done.stdout).decode(errors="replace").strip()

    def server_major(self) -> int:
        return int(self.sql("SHOW server_version_num")) // 10000

    @functools.cached_property
    def major(self) -> int:
        """`server_major()`, asked once."""
        return self.server_major()

    def alembic_heads(self) -> tuple[str, ...]:
        """The revisions in `alembic_version` (none without the table)."""
        if self.sql("SELECT to_regclass('alembic_version') IS NOT NULL") != "t":
            return ()
        rows = self.sql("SELECT version_num FROM alembic_version ORDER BY 1")
        return tuple(line for line in rows.splitlines() if line)

    def database_owner(self) -> str:
        return self.sql(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        )

    def role_names(self) -> set[str]:
        return set(self.sql("SELECT rolname FROM pg_roles").splitlines())


def last_line(stderr: bytes | str | None) -> str:
    """The last non-empty line a tool wrote: its own summary of what went wrong."""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else (stderr or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def find(project: str, service: str) -> DbContainer | None:
    """The running container of `service` in compose project `project`, or None."""
    from devtools.docker.engine_api import Engine

    engine = Engine()
    found = engine.find_containers({PROJECT_LABEL: project, SERVICE_LABEL: service})
    if not found:
        return None
    doc = engine.inspect_container(str(found[0]["Id"]))
    env = dict(
        item.partition("=")[::2] for item in (doc.get("Config", {}).get("Env") or ()) if item
    )
    user = env.get("POSTGRES_USER") or "postgres"
    return DbContainer(
        id=str(doc["Id"]),
        project=project,
        user=user,
        database=env.get("POSTGRES_DB") or user,
        password=env.get("POSTGRES_PASSWORD") or None,
    )
