"""The kernel's tables, as typed SQLAlchemy 2.x models.

Money, prices and quantities are `Decimal` everywhere: exact on PostgreSQL (`numeric`) and on
SQLite (stored as text, since SQLite's own numeric affinity would round through a float). Times
are timezone-aware UTC on both (SQLite keeps naive UTC text; the type adds the zone back).

The schema itself is created by the Alembic migrations in `kernel/migrations`; these models must
match them (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

AMOUNT_PRECISION = (38, 18)


class Amount(TypeDecorator[Decimal]):
    """An exact decimal: `numeric(38, 18)` on PostgreSQL, canonical text on SQLite."""

    impl = Numeric(*AMOUNT_PRECISION)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(*AMOUNT_PRECISION, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"amounts are Decimal, got {type(value).__name__}")
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """`timestamptz` on PostgreSQL; on SQLite naive UTC text. Always aware UTC in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the kernel stores UTC-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        Decimal: Amount(),
        datetime: UTCDateTime(),
    }


# --- vocabularies (stored as their string values) -------------------------------------------


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderKind(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"  # only risk-reducing orders pass
    HALTED = "HALTED"  # kill switch latched: new orders denied, cancels allowed


class MarketMode(StrEnum):
    NORMAL = "NORMAL"
    VOLATILE = "VOLATILE"  # notional limits tightened


class AuditAction(StrEnum):
    ALGORITHM_SIGNAL = "ALGORITHM_SIGNAL"
    ORDER_SUBMITTED = "ORDER_SUBMITTED"
    ORDER_DENIED = "ORDER_DENIED"
    ORDER_FILLED = "ORDER_FILLED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    KILL_SWITCH_TRIPPED = "KILL_SWITCH_TRIPPED"
    KILL_SWITCH_RESET = "KILL_SWITCH_RESET"
    MARKET_MODE_CHANGED = "MARKET_MODE_CHANGED"
    # The Guard moved trading between ACTIVE and REDUCING (HALTED is the kill switch's own).
    TRADING_STATE_CHANGED = "TRADING_STATE_CHANGED"


class AlertStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up: a 4xx other than 429, or out of attempts


# --- Glass ledger -----------------------------------------------------------------------------


class Price(Base):
    """One observation of a symbol's book: the Glass ledger is append-only history."""

    __tablename__ = "prices"
    __table_args__ = (Index("ix_prices_symbol_ts", "symbol", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(16))
    ts: Mapped[datetime]
    bid: Mapped[Decimal]
    ask: Mapped[Decimal]
    last: Mapped[Decimal]
    source: Mapped[str] = mapped_column(String(16))


# --- PaperExchange ----------------------------------------------------------------------------


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_symbol", "status", "symbol"),
        Index("ix_orders_created_at", "created_at"),
        CheckConstraint("side IN ('buy', 'sell')", name="ck_orders_side"),
        CheckConstraint("kind IN ('market', 'limit')", name="ck_orders_kind"),
        CheckConstraint("status IN ('open', 'filled', 'cancelled')", name="ck_orders_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal]
    limit_price: Mapped[Decimal | None]
    status: Mapped[str] = mapped_column(String(16))
    # What this order holds back while open: quote currency for buys, the base asset for sells.
    reserved: Mapped[Decimal]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Fill(Base):
    __tablename__ = "fills"
    __table_args__ = (Index("ix_fills_order_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    symbol: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal]
    price: Mapped[Decimal]
    notional: Mapped[Decimal]
    fee: Mapped[Decimal]
    created_at: Mapped[datetime]


class Balance(Base):
    """The quote currency (AUD): free, reserved for open buy orders, and deposited in total."""

    __tablename__ = "balances"

    asset: Mapped[str] = mapped_column(String(16), primary_key=True)
    free: Mapped[Decimal]
    reserved: Mapped[Decimal]
    deposited: Mapped[Decimal]
    fees_paid: Mapped[Decimal]


class Position(Base):
    """Holdings of one symbol, at cost; `reserved` is held back by open sell orders."""

    __tablename__ = "positions"

    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    quantity: Mapped[Decimal]
    reserved: Mapped[Decimal]
    cost: Mapped[Decimal]
    realized_pnl: Mapped[Decimal]


# --- Guard, kill switch, market mode ----------------------------------------------------------


class TradingStateRow(Base):
    """The singleton (id = 1) every write transaction locks first; the latched kill switch."""

    __tablename__ = "trading_state"
    __table_args__ = (
        CheckConstraint("id = 1", name="ck_trading_state_singleton"),
        CheckConstraint("state IN ('ACTIVE', 'REDUCING', 'HALTED')", name="ck_trading_state_state"),
        CheckConstraint("market_mode IN ('NORMAL', 'VOLATILE')", name="ck_trading_state_mode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16))
    market_mode: Mapped[str] = mapped_column(String(16))
    mode_changed_at: Mapped[datetime | None]
    tripped_at: Mapped[datetime | None]
    tripped_by: Mapped[str | None] = mapped_column(String(64))
    trip_reason: Mapped[str | None] = mapped_column(Text)
    reset_at: Mapped[datetime | None]
    reset_by: Mapped[str | None] = mapped_column(String(64))
    reset_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class DayOpen(Base):
    """Equity at the start of a UTC day: the daily loss limit's baseline. One row per UTC day.

    The uniqueness is an expression index on the UTC date of `created_at`
    (`(created_at AT TIME ZONE 'UTC')::date` on PostgreSQL: immutable, unlike `created_at::date`);
    it is created by the migration, since it differs per dialect.
    """

    __tablename__ = "day_open"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime]
    equity: Mapped[Decimal]


class Strategy(Base):
    """A strategy instance the loop has run: what `status` lists."""

    __tablename__ = "strategies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    symbols: Mapped[str] = mapped_column(Text)  # comma-separated
    params: Mapped[str] = mapped_column(Text)  # canonical JSON
    started_at: Mapped[datetime]
    last_tick_at: Mapped[datetime | None]
    ticks: Mapped[int] = mapped_column(Integer)


# --- TradeAudit -------------------------------------------------------------------------------


class AuditRecord(Base):
    """One decision. Append-only: no update or delete path; PostgreSQL and SQLite triggers refuse.

    `hash` is SHA-256 over the canonical JSON of every other field, `prev_hash` included, so a
    change anywhere breaks the chain at that record. `mac` is HMAC-SHA256 of the hash under the
    key `key_id` names (kernel/auditkey.py), a key held outside the database; both are null for
    records written without a key.
    """

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_created_at", "created_at"),
        Index("ix_audit_records_actor", "actor"),
        Index("ix_audit_records_action", "action"),
        UniqueConstraint("hash", name="uq_audit_records_hash"),
    )

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str | None] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    inputs: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed byte for byte
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))
    mac: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last sequence and hash (id = 1): verification also catches a cut-off tail."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_head_singleton"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


# --- Alerts -----------------------------------------------------------------------------------


class AlertOutbox(Base):
    """One alert for one channel, written in the same transaction as the event it reports."""

    __tablename__ = "alert_outbox"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel", name="uq_alert_outbox_alert_channel"),
        Index("ix_alert_outbox_status_next", "status", "next_attempt_at"),
        CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_alert_outbox_status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(36))
    channel: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # the channel's native JSON body
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
