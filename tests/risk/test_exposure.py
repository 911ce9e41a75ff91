from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from noxfx.data.formats import read_file
from noxfx.risk.drawdown import AccountState, protection
from noxfx.risk.exposure import (
    Position,
    correlated_exposure_warnings,
    correlation_matrix,
    currency_exposure,
    value_at_risk,
)
from tests.conftest import shared


@pytest.fixture(scope="module")
def closes() -> dict[str, pd.Series]:
    out = {}
    for sym in ("EURUSD", "GBPUSD", "USDCAD"):
        frame = read_file(shared(f"generic/{sym}_H1.csv.gz")).frame
        out[sym] = frame.loc["2019-01-01":"2019-12-31", "close"]
    return out


def test_exposure_nets_per_currency() -> None:
    prices = {"EURUSD": 1.10, "EURGBP": 0.85, "GBPUSD": 1.10 / 0.85}
    exp = currency_exposure([Position("EURUSD", 100_000), Position("EURGBP", 100_000)], prices)
    assert exp["EUR"] == pytest.approx(2 * 100_000 * 1.10)  # long EUR twice, in USD
    assert exp["USD"] == pytest.approx(-110_000)
    assert exp["GBP"] == pytest.approx(-85_000 * prices["GBPUSD"])


def test_correlation_of_real_pairs(closes: dict[str, pd.Series]) -> None:
    corr = correlation_matrix(closes)
    assert corr.loc["EURUSD", "GBPUSD"] > 0.3  # both against the dollar
    assert corr.loc["EURUSD", "USDCAD"] < 0  # dollar on the other side
    warn = correlated_exposure_warnings("GBPUSD", +1, [Position("EURUSD", 50_000)], corr, 0.3)
    assert warn and "EURUSD" in warn[0]
    assert not correlated_exposure_warnings("GBPUSD", -1, [Position("EURUSD", 50_000)], corr, 0.3)


def test_var_historical_and_parametric(closes: dict[str, pd.Series]) -> None:
    pos = [Position("EURUSD", 100_000)]
    hist = value_at_risk(pos, closes, level=0.99)
    para = value_at_risk(pos, closes, level=0.99, method="parametric")
    pnl = closes["EURUSD"].diff().dropna() * 100_000
    assert hist.var == pytest.approx(-np.quantile(pnl, 0.01))
    assert hist.cvar >= hist.var > 0
    # fat tails: the empirical 99 % tail is at least as deep as the normal one
    assert para.var == pytest.approx(hist.var, rel=0.5)
    assert hist.observations == len(pnl)


def test_drawdown_protection_steps() -> None:
    assert protection(AccountState(10_000, 10_000)).multiplier == 1.0
    assert protection(AccountState(9_400, 10_000)).multiplier == 0.75
    assert protection(AccountState(8_900, 10_000)).multiplier == 0.5
    halted = protection(AccountState(8_400, 10_000))
    assert not halted.allowed and "halted" in halted.reasons[0]
    daily = protection(AccountState(9_650, 10_000, day_start_equity=9_990))
    assert not daily.allowed and "daily loss" in daily.reasons[-1]
    cool = protection(AccountState(9_900, 10_000, consecutive_losses=4, hours_since_last_loss=2))
    assert not cool.allowed
    assert protection(AccountState(9_900, 10_000, consecutive_losses=4,
                                   hours_since_last_loss=30)).allowed  # fmt: skip
