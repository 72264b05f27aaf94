"""The kernel's settings: limits, strategy, alerts. Defaults, then files, then the environment.

Precedence, lowest first: the defaults below; `[tool.omc-dev.kernel]` in the project's
pyproject.toml; the TOML file named by `OMC_KERNEL_CONFIG` (its top level, or its own
`[tool.omc-dev.kernel]` table); environment variables `OMC_KERNEL_<KEY>` (sub-tables prefix their
name: `OMC_KERNEL_STRATEGY_FAST_WINDOW`, `OMC_KERNEL_ALERTS_SLACK_WEBHOOK`). A bad value is one
line naming where it came from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from kernel.errors import UnusableInput
from kernel.money import parse_decimal
from kernel.project import kernel_table, project_root, read_toml, table_at
from kernel.webhooks import BadWebhookURL, parse_url

ENV_PREFIX = "OMC_KERNEL_"
CONFIG_FILE_ENV = "OMC_KERNEL_CONFIG"


@dataclass(frozen=True)
class Limits:
    """What the Guard enforces. Notional limits are in the quote currency (AUD)."""

    max_order_notional: Decimal
    max_position_notional: Decimal  # per symbol
    max_gross_exposure: Decimal  # sum of |position notional|
    max_net_exposure: Decimal  # |sum of signed position notional|
    daily_loss_limit: Decimal  # from start-of-UTC-day equity; a breach trips the kill switch
    reduce_only_at: Decimal  # fraction of the daily loss limit at which trading turns REDUCING
    order_rate_limit: int  # orders accepted per window
    order_rate_window: float  # seconds
    max_price_age: float  # seconds; older prices deny (fail closed)

    def tightened(self, factor: Decimal) -> Limits:
        """Every notional limit scaled by `factor` (volatile-market mode)."""
        return replace(
            self,
            max_order_notional=self.max_order_notional * factor,
            max_position_notional=self.max_position_notional * factor,
            max_gross_exposure=self.max_gross_exposure * factor,
            max_net_exposure=self.max_net_exposure * factor,
        )


@dataclass(frozen=True)
class VolatilitySettings:
    window: int  # bars of Glass prices the realised volatility is measured over
    enter: float  # annualised realised volatility above which the market turns VOLATILE
    exit: float  # ... and below which it turns NORMAL again (hysteresis: exit < enter)
    factor: Decimal  # notional limits are multiplied by this while VOLATILE


@dataclass(frozen=True)
class StrategySettings:
    fast_window: int
    slow_window: int
    order_notional: Decimal  # quote currency spent per buy signal


@dataclass(frozen=True)
class AlertSettings:
    slack_webhook: str | None
    discord_webhook: str | None
    timeout: float  # seconds per delivery attempt, wall clock, whatever the server does
    max_attempts: int
    backoff: float  # seconds before the first retry; doubles each attempt
    backoff_max: float

    @property
    def channels(self) -> dict[str, str]:
        found = {"slack": self.slack_webhook, "discord": self.discord_webhook}
        return {name: url for name, url in found.items() if url}


@dataclass(frozen=True)
class KernelSettings:
    symbols: tuple[str, ...]  # the markets the paper exchange knows
    quote: str
    initial_cash: Decimal
    fee_rate: Decimal
    bar_seconds: float  # the synthetic feed's bar length, and --realtime pacing
    limits: Limits
    volatility: VolatilitySettings
    strategy: StrategySettings
    alerts: AlertSettings


# --- value parsers: each takes what TOML or the environment gave, returns the typed value -------

Parser = Callable[[Any], Any]


class _Bad(ValueError):
    """A value that does not fit; the message says what was expected."""


def _decimal(value: Any, *, minimum: Decimal, inclusive: bool, maximum: Decimal | None) -> Decimal:
    number = parse_decimal(value)
    bounds = f"{'>=' if inclusive else '>'} {minimum}" + (
        f" and <= {maximum}" if maximum is not None else ""
    )
    if number is None or not number.is_finite():
        raise _Bad(f"expected a finite number {bounds}")
    if number < minimum or (number == minimum and not inclusive):
        raise _Bad(f"expected a number {bounds}")
    if maximum is not None and number > maximum:
        raise _Bad(f"expected a number {bounds}")
    return number


def positive_decimal(value: Any) -> Decimal:
    return _decimal(value, minimum=Decimal(0), inclusive=False, maximum=None)


def fraction(value: Any) -> Decimal:
    return _decimal(value, minimum=Decimal(0), inclusive=False, maximum=Decimal(1))


def fee_rate(value: Any) -> Decimal:
    return _decimal(value, minimum=Decimal(0), inclusive=True, maximum=Decimal("0.1"))


def positive_float(value: Any) -> float:
    return float(positive_decimal(value))


def positive_int(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _Bad("expected a whole number >= 1")
    return value


SYMBOL = re.compile(r"^[a-z0-9]{1,16}$")


def symbol_list(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise _Bad('expected a list of symbols such as ["btc", "eth"]')
    symbols = tuple(str(item).strip().lower() for item in items)
    bad = [s for s in symbols if not SYMBOL.match(s)]
    if bad:
        raise _Bad(f"symbols are 1-16 letters or digits, got {bad[0]!r}")
    if len(set(symbols)) != len(symbols):
        raise _Bad("symbols are listed twice")
    return symbols


def currency(value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^[A-Za-z]{3,8}$", value):
        raise _Bad("expected a currency code such as AUD")
    return value.upper()


class _BadSecret(_Bad):
    """A bad value that is a secret (a webhook URL holds its token): the message is not followed
    by the value."""


def webhook_url(value: Any) -> str | None:
    """Checked by the parser the alerts are sent with: what passes here can be sent."""
    if value in ("", None):
        return None
    if not isinstance(value, str):
        raise _Bad("expected an http(s) URL")
    try:
        parse_url(value)
    except BadWebhookURL as exc:
        raise _BadSecret(
            f"not a usable webhook URL: {exc}; correct it, or set it empty for no alerts there"
        ) from None
    return value


# section -> key -> (parser, default)
SPEC: dict[str, dict[str, tuple[Parser, Any]]] = {
    "": {
        "symbols": (symbol_list, ("btc", "eth", "sol")),
        "quote": (currency, "AUD"),
        "initial-cash": (positive_decimal, "100000"),
        "fee-rate": (fee_rate, "0.001"),  # CoinSpot's market-order rate
        "bar-seconds": (positive_float, 60),
        "max-price-age": (positive_float, 180),
        "max-order-notional": (positive_decimal, "5000"),
        "max-position-notional": (positive_decimal, "20000"),
        "max-gross-exposure": (positive_decimal, "45000"),
        "max-net-exposure": (positive_decimal, "40000"),
        "daily-loss-limit": (positive_decimal, "3000"),
        "reduce-only-at": (fraction, "0.8"),
        "order-rate-limit": (positive_int, 30),
        "order-rate-window": (positive_float, 60),
        "volatility-window": (positive_int, 30),
        "volatile-enter": (positive_float, 1.5),
        "volatile-exit": (positive_float, 1.0),
        "volatile-factor": (fraction, "0.5"),
    },
    "strategy": {
        "fast-window": (positive_int, 5),
        "slow-window": (positive_int, 20),
        "order-notional": (positive_decimal, "3000"),
    },
    "alerts": {
        "slack-webhook": (webhook_url, None),
        "discord-webhook": (webhook_url, None),
        "timeout": (positive_float, 5),
        "max-attempts": (positive_int, 10),
        "backoff": (positive_float, 1),
        "backoff-max": (positive_float, 300),
    },
}


def env_name(section: str, key: str) -> str:
    return ENV_PREFIX + "_".join(filter(None, [section, key])).upper().replace("-", "_")


def _merge_table(
    values: dict[tuple[str, str], tuple[Any, str]], table: Mapping[str, Any], where: str
) -> None:
    for section, keys in SPEC.items():
        node: Any = table.get(section, {}) if section else table
        label = f"{where} [{'.'.join(filter(None, ['tool.omc-dev.kernel', section]))}]"
        if not isinstance(node, Mapping):
            raise UnusableInput(f"{label} must be a table")
        for key, value in node.items():
            if key in SPEC and not section:
                continue  # a sub-table, handled in its own round
            if key not in keys:
                known = ", ".join(sorted(keys))
                raise UnusableInput(f"{label}: unknown key {key!r} (known: {known})")
            values[(section, key)] = (value, f"{label} {key}")


def _file_table(path: Path) -> Mapping[str, Any]:
    """The kernel table of a settings file: a pyproject's `[tool.omc-dev.kernel]`, or the file."""
    doc = read_toml(path, f"file (named by {CONFIG_FILE_ENV})")
    nested = (table_at(doc, ("tool", "omc-dev"), path) or {}).get("kernel")
    return nested if isinstance(nested, Mapping) else doc


def load_settings(
    table: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    where: str = "pyproject.toml",
) -> KernelSettings:
    """Settings from `table` (default: the project's `[tool.omc-dev.kernel]`), a file, the env."""
    env = os.environ if environ is None else environ
    if table is None:
        table, where = kernel_table(project_root(env))
    values: dict[tuple[str, str], tuple[Any, str]] = {
        (section, key): (default, "default")
        for section, keys in SPEC.items()
        for key, (_parser, default) in keys.items()
    }
    _merge_table(values, table, where)
    if env.get(CONFIG_FILE_ENV):
        path = Path(env[CONFIG_FILE_ENV])
        _merge_table(values, _file_table(path), str(path))
    for section, keys in SPEC.items():
        for key in keys:
            name = env_name(section, key)
            if name in env:
                values[(section, key)] = (env[name], name)

    parsed: dict[tuple[str, str], Any] = {}
    for (section, key), (value, origin) in values.items():
        parser = SPEC[section][key][0]
        try:
            parsed[(section, key)] = parser(value)
        except _BadSecret as exc:
            raise UnusableInput(f"{origin}: {exc}") from None
        except _Bad as exc:
            raise UnusableInput(f"{origin}: {exc}, got {value!r}") from None
    return _build(parsed)


def _build(v: Mapping[tuple[str, str], Any]) -> KernelSettings:
    def top(key: str) -> Any:
        return v[("", key)]

    volatility = VolatilitySettings(
        window=top("volatility-window"),
        enter=top("volatile-enter"),
        exit=top("volatile-exit"),
        factor=top("volatile-factor"),
    )
    if volatility.exit >= volatility.enter:
        raise UnusableInput(
            f"volatile-exit ({volatility.exit}) must be below volatile-enter ({volatility.enter}): "
            "the gap is the hysteresis that stops the mode flapping"
        )
    if volatility.window < 2:
        raise UnusableInput("volatility-window must be at least 2 bars")
    strategy = StrategySettings(
        fast_window=v[("strategy", "fast-window")],
        slow_window=v[("strategy", "slow-window")],
        order_notional=v[("strategy", "order-notional")],
    )
    if strategy.fast_window >= strategy.slow_window:
        raise UnusableInput(
            f"strategy fast-window ({strategy.fast_window}) must be shorter than "
            f"slow-window ({strategy.slow_window})"
        )
    return KernelSettings(
        symbols=top("symbols"),
        quote=top("quote"),
        initial_cash=top("initial-cash"),
        fee_rate=top("fee-rate"),
        bar_seconds=top("bar-seconds"),
        limits=Limits(
            max_order_notional=top("max-order-notional"),
            max_position_notional=top("max-position-notional"),
            max_gross_exposure=top("max-gross-exposure"),
            max_net_exposure=top("max-net-exposure"),
            daily_loss_limit=top("daily-loss-limit"),
            reduce_only_at=top("reduce-only-at"),
            order_rate_limit=top("order-rate-limit"),
            order_rate_window=top("order-rate-window"),
            max_price_age=top("max-price-age"),
        ),
        volatility=volatility,
        strategy=strategy,
        alerts=AlertSettings(
            slack_webhook=v[("alerts", "slack-webhook")],
            discord_webhook=v[("alerts", "discord-webhook")],
            timeout=v[("alerts", "timeout")],
            max_attempts=v[("alerts", "max-attempts")],
            backoff=v[("alerts", "backoff")],
            backoff_max=v[("alerts", "backoff-max")],
        ),
    )
