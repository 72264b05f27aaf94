"""From compose-style variables, the migrations connect as the tables' owner and everything else
as the application role (which may not rewrite the audit)."""

from __future__ import annotations

from kernel.db import database_url

ENV = {
    "POSTGRES_SERVER": "db",
    "POSTGRES_USER": "omc",
    "POSTGRES_PASSWORD": "owner-pw",
    "POSTGRES_DB": "omc",
    "OMC_DATABASE_APP_ROLE": "omc_app",
    "OMC_DATABASE_APP_PASSWORD": "app-pw",
}


def test_the_kernel_connects_as_the_app_role_and_migrations_as_the_owner() -> None:
    assert database_url(environ=ENV) == "postgresql+psycopg://omc_app:app-pw@db:5432/omc"
    assert database_url(environ=ENV, owner=True) == "postgresql+psycopg://omc:owner-pw@db:5432/omc"


def test_an_explicit_url_wins_over_the_app_role() -> None:
    explicit = "postgresql://someone@elsewhere/x"
    assert database_url(explicit, environ=ENV) == explicit
    assert database_url(environ={**ENV, "OMC_DATABASE_URL": explicit}) == explicit
