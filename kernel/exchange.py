"""PaperExchange: a venue simulated on the kernel's own tables. No network code path at all.

Market orders fill at the stored ask (buy) or bid (sell). Limit orders that do not cross rest,
holding back what they could spend (quote currency plus fee for buys, the base asset for sells),
and fill at their limit when a later quote crosses. Orders fill whole (no partial fills). Every
method works inside the caller's transaction, on its book (`kernel.book`): the caller (the
desk) holds the write lock, and the book writes balances, positions, orders and fills back
before the transaction commits.

Accounting, kept exact by quantizing every amount to 8 places once:
    cash free + cash reserved + sum(position cost) + fees paid - realized PnL == deposited
where realized PnL is sell proceeds minus the average cost released (fees are counted apart).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from kernel.book import BalanceRow, Book, OrderRow, PositionRow
from kernel.guard import OrderIntent
from kernel.models import OrderKind, OrderStatus, Side
from kernel.money import ZERO, is_positive_finite, q8
from kernel.prices import Quote

# Why an order was rejected: stable codes, recorded in the audit.
UNKNOWN_SYMBOL = "unknown_symbol"
INVALID_SIDE = "invalid_side"
INVALID_KIND = "invalid_kind"
INVALID_QUANTITY = "invalid_quantity"
INVALID_PRICE = "invalid_price"
NO_PRICE = "no_price"
INSUFFICIENT_FUNDS = "insufficient_funds"
INSUFFICIENT_HOLDINGS = "insufficient_holdings"
NOT_OPEN = "not_open"


@dataclass(frozen=True)
class OrderRequest(OrderIntent):
    """An order as submitted: what the Guard judges, and who asked."""

    actor: str = "operator"


@dataclass(frozen=True)
class FillResult:
    order_id: int
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    notional: Decimal
    fee: Decimal


@dataclass(frozen=True)
class ExchangeResult:
    accepted: bool
    detail: str
    reason: str | None = None  # the rejection code
    order_id: int | None = None
    status: str | None = None  # filled | open | cancelled
    fills: tuple[FillResult, ...] = ()


def holding_value(quantity: Decimal, cost: Decimal, mark: Decimal | None) -> Decimal:
    """A holding at its mark, or at cost where there is no usable mark."""
    return quantity * mark if mark is not None and mark.is_finite() else cost


@dataclass(frozen=True)
class Holding:
    symbol: str
    quantity: Decimal
    reserved: Decimal
    cost: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True)
class Account:
    """Balances and holdings at one moment, plus what open buy orders would add."""

    cash_free: Decimal
    cash_reserved: Decimal
    deposited: Decimal
    fees_paid: Decimal
    holdings: Mapping[str, Holding] = field(default_factory=dict)
    open_buys: Mapping[str, Decimal] = field(default_factory=dict)  # symbol -> quantity

    def equity(self, marks: Mapping[str, Decimal]) -> Decimal:
        """Cash (free and reserved) plus holdings at `marks`, or at cost where no mark exists."""
        total = self.cash_free + self.cash_reserved
        for h in self.holdings.values():
            total += holding_value(h.quantity, h.cost, marks.get(h.symbol))
        return total

    @property
    def realized_pnl(self) -> Decimal:
        return sum((h.realized_pnl for h in self.holdings.values()), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((h.cost for h in self.holdings.values()), ZERO)


def _reject(reason: str, detail: str) -> ExchangeResult:
    return ExchangeResult(False, detail, reason=reason)


class PaperExchange:
    def __init__(self, symbols: Sequence[str], *, quote: str = "AUD", fee_rate: Decimal) -> None:
        self.symbols = frozenset(symbols)
        self.quote = quote
        self.fee_rate = fee_rate

    # --- funding and state ----------------------------------------------------------------

    def deposit(self, session: Session, amount: Decimal) -> None:
        if not is_positive_finite(amount) or q8(amount) != amount:
            raise ValueError(f"a deposit must be positive with at most 8 decimals, got {amount}")
        cash = self._cash(Book.of(session))
        cash.free += amount
        cash.deposited += amount

    def ensure_funded(self, session: Session, initial_cash: Decimal) -> bool:
        """Deposit `initial_cash` once, when the account has never been funded."""
        if self.quote in Book.of(session).balances:
            return False
        self.deposit(session, initial_cash)
        return True

    def account(self, session: Session) -> Account:
        book = Book.of(session)
        holdings = {
            p.symbol: Holding(p.symbol, p.quantity, p.reserved, p.cost, p.realized_pnl)
            for p in book.positions.values()
        }
        open_buys = book.open_buys()
        cash = book.balances.get(self.quote)
        if cash is None:
            return Account(ZERO, ZERO, ZERO, ZERO, holdings, open_buys)
        return Account(
            cash.free, cash.reserved, cash.deposited, cash.fees_paid, holdings, open_buys
        )

    def open_orders(self, session: Session, symbol: str | None = None) -> list[OrderRow]:
        """Open orders, oldest first."""
        orders = Book.of(session).open_orders.values()
        return [o for o in orders if symbol is None or o.symbol == symbol]

    # --- orders ---------------------------------------------------------------------------

    def validate(self, request: OrderRequest) -> ExchangeResult | None:
        """The rejection for a malformed request, or None when it is well-formed."""
        if request.symbol not in self.symbols:
            known = ", ".join(sorted(self.symbols))
            return _reject(UNKNOWN_SYMBOL, f"unknown symbol {request.symbol!r} (known: {known})")
        if request.side not in (Side.BUY, Side.SELL):
            return _reject(INVALID_SIDE, f"side must be buy or sell, got {request.side!r}")
        if request.kind not in (OrderKind.MARKET, OrderKind.LIMIT):
            return _reject(INVALID_KIND, f"kind must be market or limit, got {request.kind!r}")
        if not is_positive_finite(request.quantity) or q8(request.quantity) != request.quantity:
            return _reject(
                INVALID_QUANTITY,
                f"quantity must be positive and finite with at most 8 decimals, got {request.quantity}",
            )
        if request.kind == OrderKind.LIMIT and (
            not is_positive_finite(request.limit_price)
            or q8(request.limit_price or ZERO) != request.limit_price
        ):
            return _reject(
                INVALID_PRICE,
                "a limit price must be positive and finite with at most 8 decimals, "
                f"got {request.limit_price}",
            )
        if request.kind == OrderKind.MARKET and request.limit_price is not None:
            return _reject(INVALID_PRICE, "a market order takes no limit price")
        return None

    def submit(
        self, session: Session, request: OrderRequest, now: datetime, quote: Quote | None = None
    ) -> ExchangeResult:
        """Accept (fill now or rest) or reject `request`; `quote` defaults to the Glass's latest."""
        rejected = self.validate(request)
        if rejected is not None:
            return rejected
        book = Book.of(session)
        if quote is None:
            quote = book.latest_quotes([request.symbol]).get(request.symbol)
        if quote is None or not (is_positive_finite(quote.bid) and is_positive_finite(quote.ask)):
            return _reject(NO_PRICE, f"no usable price for {request.symbol}")
        if request.side == Side.BUY:
            return self._buy(book, request, quote, now)
        return self._sell(book, request, quote, now)

    def _buy(
        self, book: Book, request: OrderRequest, quote: Quote, now: datetime
    ) -> ExchangeResult:
        cash = self._cash(book)
        limit = request.limit_price
        resting = request.kind == OrderKind.LIMIT and limit is not None and limit < quote.ask
        price = limit if resting and limit is not None else quote.ask
        notional = q8(request.quantity * price)
        fee = self._fee(notional)
        if cash.free < notional + fee:
            return _reject(
                INSUFFICIENT_FUNDS,
                f"buying {request.quantity} {request.symbol} needs {notional + fee} {self.quote} "
                f"with the fee; {cash.free} is free",
            )
        if resting:
            order_id = self._new_order(
                book, request, now, status=OrderStatus.OPEN, reserved=notional + fee
            )
            cash.free -= notional + fee
            cash.reserved += notional + fee
            return ExchangeResult(
                True, f"resting buy at {price}", order_id=order_id, status=OrderStatus.OPEN
            )
        order_id = self._new_order(book, request, now, status=OrderStatus.FILLED)
        fill = self._settle(
            book,
            order_id=order_id,
            symbol=request.symbol,
            side=Side.BUY,
            quantity=request.quantity,
            price=price,
            now=now,
        )
        return ExchangeResult(
            True, f"filled at {price}", order_id=order_id, status=OrderStatus.FILLED, fills=(fill,)
        )

    def _sell(
        self, book: Book, request: OrderRequest, quote: Quote, now: datetime
    ) -> ExchangeResult:
        position = book.position(request.symbol)
        available = position.quantity - position.reserved
        if available < request.quantity:
            return _reject(
                INSUFFICIENT_HOLDINGS,
                f"selling {request.quantity} {request.symbol} but only {available} is available",
            )
        limit = request.limit_price
        resting = request.kind == OrderKind.LIMIT and limit is not None and limit > quote.bid
        if resting:
            order_id = self._new_order(
                book, request, now, status=OrderStatus.OPEN, reserved=request.quantity
            )
            position.reserved += request.quantity
            return ExchangeResult(
                True, f"resting sell at {limit}", order_id=order_id, status=OrderStatus.OPEN
            )
        order_id = self._new_order(book, request, now, status=OrderStatus.FILLED)
        fill = self._settle(
            book,
            order_id=order_id,
            symbol=request.symbol,
            side=Side.SELL,
            quantity=request.quantity,
            price=quote.bid,
            now=now,
        )
        return ExchangeResult(
            True,
            f"filled at {quote.bid}",
            order_id=order_id,
            status=OrderStatus.FILLED,
            fills=(fill,),
        )

    def cancel(self, session: Session, order_id: int, now: datetime) -> ExchangeResult:
        """Cancel an open order and release what it held back. Allowed in every trading state."""
        book = Book.of(session)
        order = book.open_orders.get(order_id)
        if order is None:
            status = book.order_status(order_id)
            state = "does not exist" if status is None else f"is {status}"
            return _reject(NOT_OPEN, f"order {order_id} {state}")
        self._release(book, order)
        book.close_order(order, OrderStatus.CANCELLED, now)
        return ExchangeResult(True, "cancelled", order_id=order.id, status=order.status)

    def match(
        self, session: Session, quotes: Mapping[str, Quote], now: datetime
    ) -> list[tuple[OrderRow, FillResult]]:
        """Fill resting limit orders the new quotes cross, oldest first; returns the fills."""
        book = Book.of(session)
        filled = []
        for order in list(book.open_orders.values()):
            quote = quotes.get(order.symbol)
            if quote is None or order.limit_price is None:
                continue
            crossed = (
                quote.ask <= order.limit_price
                if order.side == Side.BUY
                else quote.bid >= order.limit_price
            )
            if crossed:
                # Release what the order held back, then settle it like any fill.
                self._release(book, order)
                fill = self._settle(
                    book,
                    order_id=order.id,
                    symbol=order.symbol,
                    side=Side(order.side),
                    quantity=order.quantity,
                    price=order.limit_price,
                    now=now,
                )
                book.close_order(order, OrderStatus.FILLED, now)
                filled.append((order, fill))
        return filled

    # --- internals ------------------------------------------------------------------------

    def _fee(self, notional: Decimal) -> Decimal:
        return q8(notional * self.fee_rate)

    def _cash(self, book: Book) -> BalanceRow:
        return book.balances.get(self.quote) or book.new_balance(self.quote)

    def _release(self, book: Book, order: OrderRow) -> None:
        """Give back what an open order held: cash for a buy, the holding for a sell."""
        if order.side == Side.BUY:
            cash = self._cash(book)
            cash.reserved -= order.reserved
            cash.free += order.reserved
        else:
            book.position(order.symbol).reserved -= order.reserved

    def _new_order(
        self,
        book: Book,
        request: OrderRequest,
        now: datetime,
        *,
        status: OrderStatus,
        reserved: Decimal = ZERO,
    ) -> int:
        return book.place_order(
            actor=request.actor,
            symbol=request.symbol,
            side=request.side,
            kind=request.kind,
            quantity=request.quantity,
            limit_price=request.limit_price,
            status=status,
            reserved=reserved,
            now=now,
        ).id

    def _settle(
        self,
        book: Book,
        *,
        order_id: int,
        symbol: str,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        now: datetime,
    ) -> FillResult:
        """Move cash and holdings for a fill (nothing held back any more) and record it."""
        cash = self._cash(book)
        position: PositionRow = book.position(symbol)
        notional = q8(quantity * price)
        fee = self._fee(notional)
        if side == Side.BUY:
            cash.free -= notional + fee
            position.quantity += quantity
            position.cost += notional
        else:
            released = (
                position.cost
                if quantity == position.quantity
                else q8(position.cost * quantity / position.quantity)
            )
            position.quantity -= quantity
            position.cost -= released
            position.realized_pnl += notional - released
            cash.free += notional - fee
        cash.fees_paid += fee
        book.add_fill(
            {
                "order_id": order_id,
                "symbol": symbol,
                "side": side,
                "quantity": quantity,
                "price": price,
                "notional": notional,
                "fee": fee,
                "created_at": now,
            }
        )
        return FillResult(order_id, symbol, side, quantity, price, notional, fee)
