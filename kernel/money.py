"""Decimal conventions: every stored amount is quantized to 8 places, half-even, exactly once."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

STEP = Decimal("1e-8")
ZERO = Decimal(0)


def q8(value: Decimal) -> Decimal:
    """`value` rounded to 8 decimal places (prices, quantities, cash, fees)."""
    return value.quantize(STEP, rounding=ROUND_HALF_EVEN)


def plain(value: Decimal) -> str:
    """A stable text form without exponent or trailing zeros: JSON and the audit use it."""
    if not value.is_finite():
        return str(value)
    if value == 0:
        return "0"
    text = f"{value.normalize():f}"
    return text


def parse_decimal(text: object) -> Decimal | None:
    """A Decimal from a number or numeric text; None when it is not a number at all."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | Decimal):
        return Decimal(text)
    if isinstance(text, float):
        return Decimal(repr(text))
    if isinstance(text, str):
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            return None
        return None if value.is_snan() else value
    return None


def is_positive_finite(value: Decimal | None) -> bool:
    return value is not None and value.is_finite() and value > 0
