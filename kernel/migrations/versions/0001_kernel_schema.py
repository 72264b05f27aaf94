"""The kernel schema: Glass ledger, paper exchange, trading state, audit chain, alert outbox.

Revision ID: 0001_kernel_schema
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_kernel_schema"
down_revision = None
branch_labels = None
depends_on = None

# Exact decimals: numeric on PostgreSQL; text on SQLite (its numeric affinity rounds via float).
AMOUNT = sa.Numeric(38, 18).with_variant(sa.String(64), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"

    op.create_table(
        "prices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("bid", AMOUNT, nullable=False),
        sa.Column("ask", AMOUNT, nullable=False),
        sa.Column("last", AMOUNT, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_index("ix_prices_symbol_ts", "prices", ["symbol", "ts"])

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("quantity", AMOUNT, nullable=False),
        sa.Column("limit_price", AMOUNT, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reserved", AMOUNT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("side IN ('buy', 'sell')", name="ck_orders_side"),
        sa.CheckConstraint("kind IN ('market', 'limit')", name="ck_orders_kind"),
        sa.CheckConstraint("status IN ('open', 'filled', 'cancelled')", name="ck_orders_status"),
    )
    op.create_index("ix_orders_status_symbol", "orders", ["status", "symbol"])
    op.create_index("ix_orders_created_at", "orders", ["created_at"])

    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("quantity", AMOUNT, nullable=False),
        sa.Column("price", AMOUNT, nullable=False),
        sa.Column("notional", AMOUNT, nullable=False),
        sa.Column("fee", AMOUNT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])

    op.create_table(
        "balances",
        sa.Column("asset", sa.String(16), primary_key=True),
        sa.Column("free", AMOUNT, nullable=False),
        sa.Column("reserved", AMOUNT, nullable=False),
        sa.Column("deposited", AMOUNT, nullable=False),
        sa.Column("fees_paid", AMOUNT, nullable=False),
    )

    op.create_table(
        "positions",
        sa.Column("symbol", sa.String(16), primary_key=True),
        sa.Column("quantity", AMOUNT, nullable=False),
        sa.Column("reserved", AMOUNT, nullable=False),
        sa.Column("cost", AMOUNT, nullable=False),
        sa.Column("realized_pnl", AMOUNT, nullable=False),
    )

    op.create_table(
        "trading_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("market_mode", sa.String(16), nullable=False),
        sa.Column("mode_changed_at", TIMESTAMP, nullable=True),
        sa.Column("tripped_at", TIMESTAMP, nullable=True),
        sa.Column("tripped_by", sa.String(64), nullable=True),
        sa.Column("trip_reason", sa.Text(), nullable=True),
        sa.Column("reset_at", TIMESTAMP, nullable=True),
        sa.Column("reset_by", sa.String(64), nullable=True),
        sa.Column("reset_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_trading_state_singleton"),
        sa.CheckConstraint(
            "state IN ('ACTIVE', 'REDUCING', 'HALTED')", name="ck_trading_state_state"
        ),
        sa.CheckConstraint("market_mode IN ('NORMAL', 'VOLATILE')", name="ck_trading_state_mode"),
    )
    # The singleton every write transaction locks first (see kernel/db.py).
    op.execute(
        sa.text(
            "INSERT INTO trading_state (id, state, market_mode, updated_at) "
            "VALUES (1, 'ACTIVE', 'NORMAL', CURRENT_TIMESTAMP)"
        )
    )

    op.create_table(
        "day_open",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("equity", AMOUNT, nullable=False),
    )
    # One baseline per UTC day. On PostgreSQL `created_at::date` would depend on the session's
    # TimeZone (not immutable, so not indexable); AT TIME ZONE 'UTC' pins it.
    if postgres:
        op.create_index(
            "uq_day_open_utc_day",
            "day_open",
            [sa.text("((created_at AT TIME ZONE 'UTC')::date)")],
            unique=True,
        )
    else:
        op.create_index(
            "uq_day_open_utc_day", "day_open", [sa.text("(date(created_at))")], unique=True
        )

    op.create_table(
        "strategies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("symbols", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("last_tick_at", TIMESTAMP, nullable=True),
        sa.Column("ticks", sa.Integer(), nullable=False),
    )

    op.create_table(
        "audit_records",
        sa.Column("sequence", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(16), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("hash", name="uq_audit_records_hash"),
    )
    op.create_index("ix_audit_records_created_at", "audit_records", ["created_at"])
    op.create_index("ix_audit_records_actor", "audit_records", ["actor"])
    op.create_index("ix_audit_records_action", "audit_records", ["action"])

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_singleton"),
    )
    op.execute(
        sa.text(
            "INSERT INTO audit_head (id, sequence, hash) VALUES "
            "(1, 0, '0000000000000000000000000000000000000000000000000000000000000000')"
        )
    )

    # The audit is append-only in the database too, not only in the code. (No `%` placeholder in
    # the message: offline `--sql` output would double it for psycopg's paramstyle.)
    if postgres:
        op.execute(
            sa.text(
                "CREATE FUNCTION audit_records_refuse_change() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION USING MESSAGE = 'audit_records is append-only: ' || TG_OP || ' refused'; "
                "END $$"
            )
        )
        op.execute(
            sa.text(
                "CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE "
                "ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_records_refuse_change()"
            )
        )
        op.execute(
            sa.text(
                "CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE "
                "ON audit_records FOR EACH STATEMENT EXECUTE FUNCTION audit_records_refuse_change()"
            )
        )
    else:
        op.execute(
            sa.text(
                "CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records "
                "BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: UPDATE refused'); END"
            )
        )
        op.execute(
            sa.text(
                "CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records "
                "BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: DELETE refused'); END"
            )
        )

    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("alert_id", "channel", name="uq_alert_outbox_alert_channel"),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_alert_outbox_status"
        ),
    )
    op.create_index("ix_alert_outbox_status_next", "alert_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    op.drop_index("ix_alert_outbox_status_next", table_name="alert_outbox")
    op.drop_table("alert_outbox")
    if postgres:
        op.execute(sa.text("DROP TRIGGER audit_records_no_truncate ON audit_records"))
        op.execute(sa.text("DROP TRIGGER audit_records_append_only ON audit_records"))
        op.execute(sa.text("DROP FUNCTION audit_records_refuse_change()"))
    else:
        op.execute(sa.text("DROP TRIGGER audit_records_no_delete"))
        op.execute(sa.text("DROP TRIGGER audit_records_no_update"))
    op.drop_table("audit_head")
    op.drop_index("ix_audit_records_action", table_name="audit_records")
    op.drop_index("ix_audit_records_actor", table_name="audit_records")
    op.drop_index("ix_audit_records_created_at", table_name="audit_records")
    op.drop_table("audit_records")
    op.drop_table("strategies")
    op.drop_index("uq_day_open_utc_day", table_name="day_open")
    op.drop_table("day_open")
    op.drop_table("trading_state")
    op.drop_table("positions")
    op.drop_table("balances")
    op.drop_index("ix_fills_order_id", table_name="fills")
    op.drop_table("fills")
    op.drop_index("ix_orders_created_at", table_name="orders")
    op.drop_index("ix_orders_status_symbol", table_name="orders")
    op.drop_table("orders")
    op.drop_index("ix_prices_symbol_ts", table_name="prices")
    op.drop_table("prices")
