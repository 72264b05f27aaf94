"""The book: the rows every decision needs, read once per transaction and kept in memory.

Judging an order touches the same rows each time: the trading-state singleton, the audit head,
the cash balance, the positions, the open orders, the latest quotes, the order count in the rate
window. Through the ORM that cost a dozen statements and a unit-of-work flush per order, most of
an order's CPU (and on PostgreSQL each statement is also a round trip). The book reads them all
with one statement (each part aggregated to JSON by the database), the exchange, the kill switch
and the audit change them in memory, and the book writes back what changed just before the
transaction commits: a few executemany statements. Order ids
are assigned here (the highest id plus one), so new orders are written back with the rest.

This is only correct under the write lock (`Database.write()`): nobody else can change these rows
while the transaction holds it, so what the book read stays true until it commits. Within the
transaction, change these rows only through the book. ORM reads in the same session see the
book's changes: it writes them back before any ORM statement runs. A rollback discards it (the
kernel takes no savepoints), and so does a commit: the next transaction reads afresh.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from itertools import chain
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    event,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ColumnElement

from kernel import prices
from kernel.models import (
    Amount,
    Balance,
    Base,
    Order,
    OrderStatus,
    Position,
    Side,
    TradingStateRow,
    UTCDateTime,
)
from kernel.money import ZERO
from kernel.prices import Quote

KEY = prices.OBSERVER_KEY

_TABLES = Base.metadata.tables
_STATE, _HEAD = _TABLES["trading_state"], _TABLES["audit_head"]
_BALANCES, _POSITIONS, _ORDERS = _TABLES["balances"], _TABLES["positions"], _TABLES["orders"]
_FILLS, _AUDIT, _PRICES = _TABLES["fills"], _TABLES["audit_records"], _TABLES["prices"]
_STATE_COLUMNS = [c for c in _STATE.c if c.name != "id"]
_QUOTE_COLUMNS = [_PRICES.c[name] for name in ("symbol", "ts", "bid", "ask", "last")]

# Built once: constructing a statement costs more than running it on SQLite.
_ORDERS_SINCE = select(func.count()).where(_ORDERS.c.created_at > bindparam("since"))
_ORDER_STATUS = select(_ORDERS.c.status).where(_ORDERS.c.id == bindparam("order_id"))
_INSERT_ORDERS, _INSERT_FILLS = insert(_ORDERS), insert(_FILLS)
_INSERT_AUDIT = insert(_AUDIT)
_INSERT_BALANCES, _INSERT_POSITIONS = insert(_BALANCES), insert(_POSITIONS)
_UPDATE_STATE = update(_STATE).where(_STATE.c.id == 1)
_UPDATE_HEAD = update(_HEAD).where(_HEAD.c.id == 1)
# WHERE parameters get their own names: a column's name is reserved for its SET value.
_UPDATE_BALANCES = update(_BALANCES).where(_BALANCES.c.asset == bindparam("key"))
_UPDATE_POSITIONS = update(_POSITIONS).where(_POSITIONS.c.symbol == bindparam("key"))
_UPDATE_ORDERS = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("key"))
    .values(
        status=bindparam("status"),
        reserved=bindparam("reserved"),
        updated_at=bindparam("updated_at"),
    )
)
# Explicit ids leave the serial's sequence behind; keep it past them for any other inserter.
_ORDERS_SEQUENCE = "SELECT setval(pg_get_serial_sequence('orders', 'id'), %(last_id)s)"


@dataclass(slots=True)
class StateRow:
    """`trading_state` (id 1): the trading state, the latched kill switch, the market mode."""

    state: str
    market_mode: str
    mode_changed_at: datetime | None
    tripped_at: datetime | None
    tripped_by: str | None
    trip_reason: str | None
    reset_at: datetime | None
    reset_by: str | None
    reset_reason: str | None
    updated_at: datetime


@dataclass(slots=True)
class BalanceRow:
    asset: str
    free: Decimal
    reserved: Decimal
    deposited: Decimal
    fees_paid: Decimal


@dataclass(slots=True)
class PositionRow:
    symbol: str
    quantity: Decimal
    reserved: Decimal
    cost: Decimal
    realized_pnl: Decimal


@dataclass(slots=True)
class OrderRow:
    id: int
    actor: str
    symbol: str
    side: str
    kind: str
    quantity: Decimal
    limit_price: Decimal | None
    status: str
    reserved: Decimal
    created_at: datetime
    updated_at: datetime


def _values(row: Any) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in row.__slots__)


def _as_dict(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__slots__}


# --- the one read ---------------------------------------------------------------------------------


def _time(value: str | None) -> datetime | None:
    """A stored time as aware UTC: PostgreSQL's JSON has the zone, SQLite's text is UTC."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _decoder(table: Table) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """JSON of `table`'s columns back to the kernel's types: amounts arrive as exact numbers
    (PostgreSQL's numeric, parsed as Decimal) or text (SQLite), times as ISO text."""
    amounts = [c.name for c in table.c if isinstance(c.type, Amount)]
    times = [c.name for c in table.c if isinstance(c.type, UTCDateTime)]

    def decode(doc: dict[str, Any]) -> dict[str, Any]:
        for name in amounts:
            if doc[name] is not None:
                doc[name] = Decimal(doc[name])
        for name in times:
            doc[name] = _time(doc[name])
        return doc

    return decode


_STATE_DOC, _BALANCE_DOC, _POSITION_DOC = (
    _decoder(_STATE),
    _decoder(_BALANCES),
    _decoder(_POSITIONS),
)
_ORDER_DOC, _QUOTE_DOC = _decoder(_ORDERS), _decoder(_PRICES)


@lru_cache(maxsize=32)
def _load_statement(dialect: str, symbols: tuple[str, ...], count: bool) -> Executable:
    """One SELECT of one row: each part of the book as a JSON text column (plus two counts).

    `symbols` adds each one's latest quote; `count` the orders created after `:since`.
    """
    postgres = dialect == "postgresql"
    as_object = func.json_build_object if postgres else func.json_object
    as_array = func.json_agg if postgres else func.json_group_array

    def document(columns: Iterable[ColumnElement[Any]]) -> ColumnElement[Any]:
        # The keys are the columns' own names, inlined as SQL string literals.
        pairs: list[tuple[ColumnElement[Any], ColumnElement[Any]]] = [
            (literal_column(f"'{c.key}'"), c) for c in columns
        ]
        return as_object(*chain.from_iterable(pairs))

    def rows(table: Any) -> Select[Any]:
        return select(as_array(document(table.c))).select_from(table)

    open_orders = select(_ORDERS).where(_ORDERS.c.status == OrderStatus.OPEN).subquery()
    parts: dict[str, Select[Any]] = {
        "state": select(document([*_STATE_COLUMNS, _HEAD.c.sequence, _HEAD.c.hash]))
        .join_from(_STATE, _HEAD, _HEAD.c.id == _STATE.c.id)
        .where(_STATE.c.id == 1),
        "balances": rows(_BALANCES),
        "positions": rows(_POSITIONS),
        "open_orders": rows(open_orders),
    }
    for symbol in symbols:
        parts[f"quote {symbol}"] = (
            select(document(_QUOTE_COLUMNS))
            .where(_PRICES.c.symbol == symbol)
            .order_by(_PRICES.c.ts.desc(), _PRICES.c.id.desc())
            .limit(1)
        )
    columns = [cast(part.scalar_subquery(), Text).label(name) for name, part in parts.items()]
    columns.append(select(func.max(_ORDERS.c.id)).scalar_subquery().label("last_order_id"))
    if count:
        columns.append(_ORDERS_SINCE.scalar_subquery().label("orders_since"))
    return select(*columns)


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value, parse_float=Decimal)


# --- the book ---------------------------------------------------------------------------------------


class Book:
    """One transaction's view of the kernel's hot rows. Get it with `Book.of(session)`."""

    def __init__(
        self, session: Session, symbols: Sequence[str], orders_since: datetime | None
    ) -> None:
        self.conn: Connection = session.connection()
        wanted = tuple(sorted(set(symbols)))
        statement = _load_statement(self.conn.dialect.name, wanted, orders_since is not None)
        row = self.conn.execute(statement, {"since": orders_since}).one()._mapping

        state = _json(row["state"])
        assert state is not None, "trading_state and audit_head singletons missing (migrate)"
        self._head = self._saved_head = (state.pop("sequence"), state.pop("hash"))
        self.state = StateRow(**_STATE_DOC(state))
        self._saved_state = _values(self.state)
        self.balances = {
            d["asset"]: BalanceRow(**_BALANCE_DOC(d)) for d in _json(row["balances"]) or ()
        }
        self.positions = {
            d["symbol"]: PositionRow(**_POSITION_DOC(d)) for d in _json(row["positions"]) or ()
        }
        orders = [OrderRow(**_ORDER_DOC(d)) for d in _json(row["open_orders"]) or ()]
        self.open_orders = {o.id: o for o in sorted(orders, key=lambda o: o.id)}  # oldest first
        self._quotes: dict[str, Quote] = {}
        for symbol in wanted:
            quote = _json(row[f"quote {symbol}"])
            if quote is not None:
                self._quotes[symbol] = Quote(**_QUOTE_DOC(quote))
        self._recent: tuple[datetime, int] | None = (
            (orders_since, row["orders_since"]) if orders_since is not None else None
        )
        self._next_order_id = (row["last_order_id"] or 0) + 1

        # What the database holds for each row, as of the read or the last write-back.
        self._saved: dict[tuple[str, str], tuple[Any, ...]] = {}
        for b in self.balances.values():
            self._saved[("balance", b.asset)] = _values(b)
        for p in self.positions.values():
            self._saved[("position", p.symbol)] = _values(p)
        self._new_orders: list[OrderRow] = []
        self._closed: list[OrderRow] = []  # left the open set; their new status is not written yet
        self._fills: list[dict[str, Any]] = []
        self._audit: list[dict[str, Any]] = []
        self.day_opens: dict[date, Decimal] = {}  # baselines this transaction read or wrote

    @staticmethod
    def of(
        session: Session, *, symbols: Sequence[str] = (), orders_since: datetime | None = None
    ) -> Book:
        """The session's book, read on first use. `symbols` and `orders_since` (the desk's) add
        their latest quotes and the order count to that one read; later asks cost a statement."""
        book: Book | None = session.info.get(KEY)
        if book is None:
            session.flush()  # pending ORM changes first: the book reads through Core
            book = session.info[KEY] = Book(session, symbols, orders_since)
        return book

    # --- audit head ------------------------------------------------------------------------

    @property
    def audit_head(self) -> tuple[int, str]:
        """(sequence, hash) of the chain's last record, including this transaction's."""
        return self._head

    def add_audit(self, row: dict[str, Any]) -> None:
        """Buffer the chain's next record (the audit module computed `row`, hash included)."""
        self._audit.append(row)
        self._head = (row["sequence"], row["hash"])

    # --- account ---------------------------------------------------------------------------

    def new_balance(self, asset: str) -> BalanceRow:
        row = self.balances[asset] = BalanceRow(asset, ZERO, ZERO, ZERO, ZERO)
        return row

    def position(self, symbol: str) -> PositionRow:
        """The symbol's position, created empty (and inserted on write-back) if there is none."""
        found = self.positions.get(symbol)
        if found is None:
            found = self.positions[symbol] = PositionRow(symbol, ZERO, ZERO, ZERO, ZERO)
        return found

    def open_buys(self) -> dict[str, Decimal]:
        """Quantity on resting buy orders, per symbol."""
        totals: dict[str, Decimal] = {}
        for o in self.open_orders.values():
            if o.side == Side.BUY:
                totals[o.symbol] = totals.get(o.symbol, ZERO) + o.quantity
        return totals

    def place_order(
        self,
        *,
        actor: str,
        symbol: str,
        side: str,
        kind: str,
        quantity: Decimal,
        limit_price: Decimal | None,
        status: str,
        reserved: Decimal,
        now: datetime,
    ) -> OrderRow:
        """A new order with the next id (safe: the write lock is held); an open one joins the
        open orders. It is inserted on write-back."""
        order = OrderRow(
            self._next_order_id,
            actor,
            symbol,
            side,
            kind,
            quantity,
            limit_price,
            status,
            reserved,
            now,
            now,
        )
        self._next_order_id += 1
        self._new_orders.append(order)
        if status == OrderStatus.OPEN:
            self.open_orders[order.id] = order
        if self._recent is not None and now > self._recent[0]:
            self._recent = (self._recent[0], self._recent[1] + 1)
        return order

    def close_order(self, order: OrderRow, status: str, now: datetime) -> None:
        """An open order filled or cancelled: it holds nothing back any more."""
        del self.open_orders[order.id]
        order.status, order.reserved, order.updated_at = status, ZERO, now
        self._closed.append(order)

    def order_status(self, order_id: int) -> str | None:
        """The status of an order that is not open (None: no such order)."""
        for order in chain(self._new_orders, self._closed):
            if order.id == order_id:
                return order.status
        found: str | None = self.conn.execute(_ORDER_STATUS, {"order_id": order_id}).scalar()
        return found

    def add_fill(self, row: dict[str, Any]) -> None:
        self._fills.append(row)

    def orders_since(self, since: datetime) -> int:
        """Orders created after `since` (counted once, then kept up to date by `place_order`)."""
        if self._recent is None or self._recent[0] != since:
            stored = self.conn.execute(_ORDERS_SINCE, {"since": since}).scalar_one()
            pending = sum(1 for o in self._new_orders if o.created_at > since)
            self._recent = (since, stored + pending)
        return self._recent[1]

    # --- the Glass ledger's latest quotes -----------------------------------------------------

    def latest_quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        """The latest quote per symbol (symbols never priced are absent), read once."""
        missing = [s for s in symbols if s not in self._quotes]
        if missing:
            self._quotes.update(prices.latest(self.conn, missing))
        return self._quotes

    def saw(self, quotes: Iterable[Quote]) -> None:
        """Quotes this transaction recorded: the latest from now on, like the ledger's order."""
        for q in quotes:
            known = self._quotes.get(q.symbol)
            if known is None or q.ts >= known.ts:
                self._quotes[q.symbol] = q

    # --- writing back -----------------------------------------------------------------------

    def write_back(self, session: Session) -> None:
        """Write what changed since the read or the last write-back."""
        conn = self.conn
        if self._new_orders:  # first: fills refer to them
            conn.execute(_INSERT_ORDERS, [_as_dict(o) for o in self._new_orders])
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(_ORDERS_SEQUENCE, {"last_id": self._new_orders[-1].id})
            self._new_orders = []
        if self._closed:
            conn.execute(
                _UPDATE_ORDERS,
                [
                    {
                        "key": o.id,
                        "status": o.status,
                        "reserved": o.reserved,
                        "updated_at": o.updated_at,
                    }
                    for o in self._closed
                ],
            )
            _expire(session, Order, (o.id for o in self._closed))
            self._closed = []
        if self._fills:
            conn.execute(_INSERT_FILLS, self._fills)
            self._fills = []
        self._write_rows("balance", self.balances, _INSERT_BALANCES, _UPDATE_BALANCES)
        _expire(session, Balance, self.balances)
        self._write_rows("position", self.positions, _INSERT_POSITIONS, _UPDATE_POSITIONS)
        _expire(session, Position, self.positions)
        state = _values(self.state)
        if state != self._saved_state:
            conn.execute(_UPDATE_STATE, _as_dict(self.state))
            self._saved_state = state
            _expire(session, TradingStateRow, (1,))
        if self._audit:
            conn.execute(_INSERT_AUDIT, self._audit)
            self._audit = []
        if self._head != self._saved_head:
            sequence, head_hash = self._head
            conn.execute(_UPDATE_HEAD, {"sequence": sequence, "hash": head_hash})
            self._saved_head = self._head

    def _write_rows(
        self, kind: str, rows: Mapping[str, Any], insert_stmt: Any, update_stmt: Any
    ) -> None:
        inserts, updates = [], []
        for key, row in rows.items():
            values = _values(row)
            saved = self._saved.get((kind, key))
            if saved == values:
                continue
            if saved is None:
                inserts.append(_as_dict(row))
            else:
                updates.append({**_as_dict(row), "key": key})
            self._saved[(kind, key)] = values
        if inserts:
            self.conn.execute(insert_stmt, inserts)
        if updates:
            self.conn.execute(update_stmt, updates)


def _expire(session: Session, model: type[Any], keys: Iterable[Any]) -> None:
    """ORM objects of rows the book just wrote, if the session holds any, reload on next use."""
    identity_map = session.identity_map
    if not len(identity_map):
        return
    for key in keys:
        found = identity_map.get(identity_key(model, key))
        if found is not None:
            session.expire(found)


@event.listens_for(Session, "do_orm_execute")
def _before_orm_statement(orm_execute_state: ORMExecuteState) -> None:
    book: Book | None = orm_execute_state.session.info.get(KEY)
    if book is not None:
        book.write_back(orm_execute_state.session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    book: Book | None = session.info.get(KEY)
    if book is not None:
        book.write_back(session)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(KEY, None)
