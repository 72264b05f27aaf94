"""Alembic environment for the kernel: the URL comes from `kernel.db.database_url`.

`omc-dev kernel migrate` passes its resolved URL in `config.attributes["url"]`; plain `alembic -c
kernel/alembic.ini upgrade head` resolves it the same way the kernel does (OMC_DATABASE_URL,
POSTGRES_*, else the embedded SQLite file).
"""

from __future__ import annotations

from alembic import context

from kernel.db import database_url, make_engine
from kernel.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url")
    # The migrations run as the tables' owner, never as the application's role.
    return url if isinstance(url, str) else database_url(owner=True)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    try:
        # A write connection: on SQLite the whole upgrade runs under BEGIN IMMEDIATE.
        with engine.execution_options(omc_write=True).connect() as connection:
            context.configure(
                connection=connection, target_metadata=target_metadata, render_as_batch=True
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
