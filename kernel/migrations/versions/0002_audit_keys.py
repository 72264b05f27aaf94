"""Audit records carry a key id and a MAC; SQLite refuses INSERT OR REPLACE over a record.

Revision ID: 0002_audit_keys
Revises: 0001_kernel_schema
Create Date: 2026-12-04 00:00:00

Records written before this revision keep a null key id and MAC (unauthenticated: `verify` says
so). On SQLite, `INSERT OR REPLACE` deletes the row it replaces without firing the DELETE trigger,
so a BEFORE INSERT trigger refuses an insert whose sequence or hash is already taken. On
PostgreSQL the application's role gets no UPDATE, DELETE or TRUNCATE on the audit: see
kernel/roles.py (`omc-dev kernel migrate --app-role`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_audit_keys"
down_revision = "0001_kernel_schema"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): recreating the table on SQLite would drop its triggers.
    op.add_column("audit_records", sa.Column("key_id", sa.String(32), nullable=True))
    op.add_column("audit_records", sa.Column("mac", sa.String(64), nullable=True))
    if op.get_context().dialect.name != "postgresql":
        op.execute(
            sa.text(
                "CREATE TRIGGER audit_records_no_replace BEFORE INSERT ON audit_records "
                "WHEN EXISTS (SELECT 1 FROM audit_records "
                "WHERE sequence = NEW.sequence OR hash = NEW.hash) "
                "BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: REPLACE refused'); END"
            )
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        op.execute(sa.text("DROP TRIGGER audit_records_no_replace"))
    # SQLite >= 3.35 drops columns in place; the UPDATE trigger does not fire for DDL.
    op.drop_column("audit_records", "mac")
    op.drop_column("audit_records", "key_id")
