"""Kernel settings: defaults, [tool.omc-dev.kernel], a file, environment overrides, bad values."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from kernel.errors import UnusableInput
from kernel.settings import SPEC, env_name, load_settings
from tests.fixtures.cli import omc


def test_defaults() -> None:
    s = load_settings({}, environ={})
    assert s.symbols == ("btc", "eth", "sol")
    assert (s.quote, s.fee_rate, s.initial_cash) == ("AUD", D("0.001"), D(100000))
    assert s.limits.daily_loss_limit == D(3000)
    assert s.alerts.channels == {}


def test_table_then_file_then_environment(tmp_path: Path) -> None:
    table = {
        "max-order-notional": 1000,
        "symbols": ["BTC", "eth"],
        "strategy": {"fast-window": 3},
        "alerts": {"slack-webhook": "https://hooks.slack.test/a"},
    }
    file = tmp_path / "limits.toml"
    file.write_text("max-order-notional = 2000\n[strategy]\nslow-window = 30\n")
    env = {
        "OMC_KERNEL_CONFIG": str(file),
        "OMC_KERNEL_MAX_GROSS_EXPOSURE": "12345.5",
        "OMC_KERNEL_STRATEGY_FAST_WINDOW": "4",
        "OMC_KERNEL_ALERTS_DISCORD_WEBHOOK": "http://127.0.0.1:9/d",
    }
    s = load_settings(table, environ=env)
    assert s.symbols == ("btc", "eth")
    assert s.limits.max_order_notional == D(2000)  # the file beats the table
    assert s.limits.max_gross_exposure == D("12345.5")  # the environment beats both
    assert (s.strategy.fast_window, s.strategy.slow_window) == (4, 30)
    assert s.alerts.channels == {
        "slack": "https://hooks.slack.test/a",
        "discord": "http://127.0.0.1:9/d",
    }


def test_a_file_may_hold_the_pyproject_shape(tmp_path: Path) -> None:
    file = tmp_path / "kernel.toml"
    file.write_text("[tool.omc-dev.kernel]\nfee-rate = 0.002\n")
    assert load_settings({}, environ={"OMC_KERNEL_CONFIG": str(file)}).fee_rate == D("0.002")


def test_environment_names() -> None:
    assert env_name("", "max-order-notional") == "OMC_KERNEL_MAX_ORDER_NOTIONAL"
    assert env_name("alerts", "slack-webhook") == "OMC_KERNEL_ALERTS_SLACK_WEBHOOK"


@pytest.mark.parametrize(
    ("table", "env", "message"),
    [
        ({"max-oder-notional": 1}, {}, "unknown key 'max-oder-notional'"),
        ({"strategy": 3}, {}, r"\[tool.omc-dev.kernel.strategy\] must be a table"),
        (
            {},
            {"OMC_KERNEL_MAX_ORDER_NOTIONAL": "nan"},
            "OMC_KERNEL_MAX_ORDER_NOTIONAL: expected a finite",
        ),
        ({}, {"OMC_KERNEL_DAILY_LOSS_LIMIT": "-5"}, "expected a number > 0"),
        ({"fee-rate": 0.5}, {}, "fee-rate: expected a number >= 0 and <= 0.1"),
        ({"reduce-only-at": 0}, {}, "reduce-only-at"),
        ({"order-rate-limit": 2.5}, {}, "expected a whole number"),
        ({"order-rate-limit": True}, {}, "expected a whole number"),
        ({"symbols": []}, {}, "expected a list of symbols"),
        ({"symbols": ["btc", "BTC"]}, {}, "listed twice"),
        ({"symbols": ["b-t-c"]}, {}, "letters or digits"),
        ({"quote": "A"}, {}, "currency code"),
        ({"alerts": {"slack-webhook": "ftp://x"}}, {}, "http"),
        ({"volatile-exit": 2, "volatile-enter": 1.5}, {}, "must be below volatile-enter"),
        ({"volatility-window": 1}, {}, "at least 2 bars"),
        ({"strategy": {"fast-window": 20, "slow-window": 20}}, {}, "must be shorter"),
        ({"strategy": {"order-notional": "Infinity"}}, {}, "finite"),
    ],
)
def test_bad_values_are_one_clear_error(
    table: dict[str, object], env: dict[str, str], message: str
) -> None:
    with pytest.raises(UnusableInput, match=message):
        load_settings(table, environ=env)


def test_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(UnusableInput, match="cannot read"):
        load_settings({}, environ={"OMC_KERNEL_CONFIG": str(tmp_path / "nope.toml")})
    bad = tmp_path / "bad.toml"
    bad.write_text("max-order-notional = \n")
    with pytest.raises(UnusableInput, match="invalid TOML"):
        load_settings({}, environ={"OMC_KERNEL_CONFIG": str(bad)})
    for shape, table in (
        ("tool = 1\n", r"\[tool\]"),
        ("[tool]\nomc-dev = 1\n", r"\[tool.omc-dev\]"),
    ):
        bad.write_text(shape)
        with pytest.raises(UnusableInput, match=table + " must be a table"):
            load_settings({}, environ={"OMC_KERNEL_CONFIG": str(bad)})


def test_the_cli_reads_pyproject_and_reports_a_bad_value_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.omc-dev.kernel]\nfee-rate = 'lots'\n")
    proc = omc("kernel", "run", "--db", f"sqlite:///{tmp_path / 'k.db'}", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "pyproject.toml [tool.omc-dev.kernel] fee-rate: expected a finite number" in proc.stderr
    assert not (tmp_path / "k.db").exists()  # nothing written


def test_the_kernel_doc_lists_the_real_defaults() -> None:
    import tomllib

    from tests.fixtures.cli import REPO_ROOT

    doc = (REPO_ROOT / "docs" / "kernel.md").read_text()
    block = doc.split("The defaults:\n\n```toml\n", 1)[1].split("```", 1)[0]
    table = tomllib.loads(block)["tool"]["omc-dev"]["kernel"]
    assert load_settings(table, environ={}) == load_settings({}, environ={})
    for section, keys in SPEC.items():
        listed = table.get(section, {}) if section else table
        assert set(keys) <= set(listed), f"docs/kernel.md lacks {section or 'kernel'} keys"
