"""Use cases over a real store: the quote -> account conversion a cross needs, from stored pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from noxfx.backtest.config import BacktestConfig, Signals
from noxfx.backtest.engine import simulate
from noxfx.data.importer import import_files
from noxfx.data.store import BarStore
from noxfx.errors import InsufficientData
from noxfx.workflows import with_conversion
from tests.conftest import shared


@pytest.fixture
def daily(store: BarStore) -> BarStore:
    """USDCHF, EURUSD and GBPNZD (4h) from MetaTrader exports, as a trader imports them."""
    import_files(store, [shared("metatrader/USDCHF1440.csv.gz"),
                         shared("metatrader/EURUSD1440.csv.gz"),
                         shared("metatrader/GBPNZD240.csv.gz")], repair_defects=True)  # fmt: skip
    return store


def test_cross_on_a_third_currency_goes_through_usd_without_lookahead(daily: BarStore) -> None:
    bars = daily.read("USDCHF", "1d", "2016-01-01", "2019-12-31")
    out = with_conversion(daily, bars, "USDCHF", "EUR", "1d")
    eurusd = daily.read("EURUSD", "1d")["open"]
    # CHF -> USD is 1 / USDCHF, USD -> EUR is 1 / EURUSD, both at the bar's own open
    expected = 1.0 / bars["open"] / eurusd.reindex(bars.index, method="ffill")
    pd.testing.assert_series_equal(out["conversion"], expected, check_names=False)
    # no lookahead: a run cut at a date sees the same rates up to it as the full run
    cut = with_conversion(daily, bars.loc[:"2017-06-30"], "USDCHF", "EUR", "1d")
    pd.testing.assert_series_equal(cut["conversion"], out["conversion"].loc[:"2017-06-30"])


def test_no_conversion_needed_when_the_account_is_quote_or_base(daily: BarStore) -> None:
    bars = daily.read("USDCHF", "1d", "2016-01-01", "2016-12-31")
    assert "conversion" not in with_conversion(daily, bars, "USDCHF", "USD", "1d")
    assert "conversion" not in with_conversion(daily, bars, "USDCHF", "CHF", "1d")


def test_missing_pair_is_named(daily: BarStore) -> None:
    bars = daily.read("GBPNZD", "4h", "2019-01-01", "2019-06-30")
    with pytest.raises(InsufficientData, match="import NZDUSD"):
        with_conversion(daily, bars, "GBPNZD", "USD", "4h")


def test_engine_reads_the_conversion_column_as_the_argument(daily: BarStore) -> None:
    bars = with_conversion(daily, daily.read("USDCHF", "1d", "2016-01-01", "2019-12-31"),
                           "USDCHF", "EUR", "1d")  # fmt: skip
    fast, slow = bars["close"].rolling(10).mean(), bars["close"].rolling(30).mean()
    cross = (fast > slow) & (fast.shift() <= slow.shift())
    sig = Signals(long_entry=cross.to_numpy(), long_exit=(fast < slow).to_numpy())
    cfg = BacktestConfig(symbol="USDCHF", account_currency="EUR", lots=1.0)
    by_column = simulate(bars, sig, cfg)
    by_argument = simulate(bars.drop(columns="conversion"), sig, cfg,
                           conversion=bars["conversion"])  # fmt: skip
    assert len(by_column.trades) > 5
    np.testing.assert_allclose(by_column.trades["pnl"], by_argument.trades["pnl"])
    with pytest.raises(Exception, match="import CHFEUR"):
        simulate(bars.drop(columns="conversion"), sig, cfg)
