"""Pip values and margin in the account currency, with real prices from the same moment."""

from __future__ import annotations

import pandas as pd
import pytest

from noxfx.data.formats import read_file
from noxfx.errors import InsufficientData
from noxfx.risk.conversion import conversion_rate, margin_required, pip_value_per_lot
from tests.conftest import shared


@pytest.fixture(scope="module")
def prices() -> dict[str, float]:
    """Closes of 2019-06-03 20:00 UTC (1h GBPUSD/EURUSD/USDCAD, 4h USDJPY from MT5)."""
    t = pd.Timestamp("2019-06-03 20:00", tz="UTC")
    out = {}
    for sym, rel in (("EURUSD", "generic/EURUSD_H1.csv.gz"), ("GBPUSD", "generic/GBPUSD_H1.csv.gz"),
                     ("USDCAD", "generic/USDCAD_H1.csv.gz")):  # fmt: skip
        out[sym] = float(read_file(shared(rel)).frame.loc[t, "close"])
    jpy = read_file(shared("mt5/USDJPY_H4.csv.gz")).frame
    out["USDJPY"] = float(jpy.loc[:t, "close"].iloc[-1])
    return out


def test_quote_equals_account(prices: dict[str, float]) -> None:
    assert pip_value_per_lot("EURUSD", "USD", prices) == pytest.approx(10.0)
    assert pip_value_per_lot("XAUUSD", "USD", prices) == pytest.approx(1.0)
    assert pip_value_per_lot("XAGUSD", "USD", prices) == pytest.approx(5.0)


def test_jpy_quote_on_usd_account(prices: dict[str, float]) -> None:
    # 1,000 JPY per pip per lot, divided by USDJPY
    assert pip_value_per_lot("USDJPY", "USD", prices) == pytest.approx(1000 / prices["USDJPY"])


def test_cross_on_usd_account_uses_the_quote_usd_pair(prices: dict[str, float]) -> None:
    p = {**prices, "EURGBP": prices["EURUSD"] / prices["GBPUSD"]}
    assert pip_value_per_lot("EURGBP", "USD", p) == pytest.approx(10 * prices["GBPUSD"])


@pytest.mark.parametrize("account", ["USD", "EUR", "GBP", "JPY"])
def test_every_account_currency(prices: dict[str, float], account: str) -> None:
    p = dict(prices)
    p["EURJPY"] = p["EURUSD"] * p["USDJPY"]
    p["GBPJPY"] = p["GBPUSD"] * p["USDJPY"]
    usd_value = {"USD": 1.0, "EUR": 1 / p["EURUSD"], "GBP": 1 / p["GBPUSD"], "JPY": p["USDJPY"]}
    # the same 10 USD pip of EURUSD, expressed in each account currency
    assert pip_value_per_lot("EURUSD", account, p) == pytest.approx(10 * usd_value[account])
    assert pip_value_per_lot("USDJPY", account, p) == pytest.approx(
        1000 / p["USDJPY"] * usd_value[account]
    )
    assert pip_value_per_lot("XAUUSD", account, p) == pytest.approx(usd_value[account])


def test_route_through_usd(prices: dict[str, float]) -> None:
    rate = conversion_rate("CAD", "JPY", prices)
    assert rate == pytest.approx(prices["USDJPY"] / prices["USDCAD"])


def test_missing_route_is_a_clear_error(prices: dict[str, float]) -> None:
    with pytest.raises(InsufficientData, match="Cannot convert ZAR to USD"):
        pip_value_per_lot("EURZAR", "USD", prices)


def test_margin(prices: dict[str, float]) -> None:
    # 1 lot EURUSD at 1:30 on a USD account: 100,000 x price / 30
    assert margin_required("EURUSD", 100_000, "USD", prices, 30) == pytest.approx(
        100_000 * prices["EURUSD"] / 30
    )
    # USDJPY on a USD account: the base is the account currency
    assert margin_required("USDJPY", 100_000, "USD", prices, 30) == pytest.approx(100_000 / 30)
