"""Trade-by-trade parity with backtesting.py (kernc) on its bundled EURUSD 1h bars.

Its semantics with ``trade_on_close=False, exclusive_orders=True``: an order placed in ``next()``
at bar i fills at bar i+1's open, a new order closes the open trade first (our reversal), SL/TP
are checked from the fill bar on, the stop before the target, gaps fill at the open. With zero
spread and commission our engine must produce the same trades: same bars, prices and P&L.
backtesting.py leaves the last trade open (``finalize_trades=False``), so our ``end_of_data``
close is left out of the comparison.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import EURUSD, SMA

from noxfx.backtest import BacktestConfig, Signals, simulate

UNITS = 10_000  # = 0.1 lot
STOP, TARGET = 0.002, 0.004  # fractions of the signal bar's close


class SmaCross(Strategy):
    n1 = 10
    n2 = 30
    with_stops = False

    def init(self) -> None:
        self.ma1 = self.I(SMA, self.data.Close, self.n1)
        self.ma2 = self.I(SMA, self.data.Close, self.n2)

    def next(self) -> None:
        c = self.data.Close[-1]
        if crossover(self.ma1, self.ma2):
            if self.with_stops:
                self.buy(size=UNITS, sl=c * (1 - STOP), tp=c * (1 + TARGET))
            else:
                self.buy(size=UNITS)
        elif crossover(self.ma2, self.ma1):
            if self.with_stops:
                self.sell(size=UNITS, sl=c * (1 + STOP), tp=c * (1 - TARGET))
            else:
                self.sell(size=UNITS)


def _theirs(with_stops: bool) -> pd.DataFrame:
    bt = Backtest(
        EURUSD, SmaCross, cash=100_000, commission=0.0, spread=0.0, trade_on_close=False,
        exclusive_orders=True, finalize_trades=False,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.run(with_stops=with_stops)
    return stats["_trades"]


def _crossings() -> tuple[np.ndarray, np.ndarray]:
    close = EURUSD["Close"]
    fast = close.rolling(10).mean().to_numpy()
    slow = close.rolling(30).mean().to_numpy()
    prev_fast, prev_slow = np.r_[np.nan, fast[:-1]], np.r_[np.nan, slow[:-1]]
    return (fast > slow) & (prev_fast < prev_slow), (fast < slow) & (prev_fast > prev_slow)


@pytest.mark.parametrize("with_stops", [False, True], ids=["plain", "sl_tp"])
def test_sma_cross_matches_backtesting_py(with_stops: bool) -> None:
    theirs = _theirs(with_stops)
    up, down = _crossings()
    bars = EURUSD.rename(columns=str.lower)[["open", "high", "low", "close"]]
    bars.index = pd.DatetimeIndex(bars.index).tz_localize("UTC")
    signals = Signals(long_entry=up, short_entry=down)
    if with_stops:
        # their SL/TP are prices fixed at the signal bar; ours are distances from the fill
        c = bars["close"].to_numpy()
        fill = np.r_[bars["open"].to_numpy()[1:], np.nan]
        stop = np.where(up, fill - c * (1 - STOP), np.where(down, c * (1 + STOP) - fill, np.nan))
        target = np.where(
            up, c * (1 + TARGET) - fill, np.where(down, fill - c * (1 - TARGET), np.nan)
        )
        signals = Signals(
            long_entry=up, short_entry=down, stop_distance=stop, target_distance=target
        )
    config = BacktestConfig(symbol="EURUSD", spread_pips=0.0, lots=0.1, initial_balance=100_000)
    ours = simulate(bars, signals, config).trades
    ours = ours[ours["exit_reason"] != "end_of_data"]

    assert len(ours) == len(theirs) > 100
    np.testing.assert_array_equal(ours["entry_bar"], theirs["EntryBar"])
    np.testing.assert_array_equal(ours["exit_bar"], theirs["ExitBar"])
    np.testing.assert_array_equal(
        np.where(ours["direction"] == "long", UNITS, -UNITS), theirs["Size"]
    )
    np.testing.assert_allclose(ours["entry_price"], theirs["EntryPrice"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["exit_price"], theirs["ExitPrice"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["pnl"], theirs["PnL"], rtol=0, atol=1e-6)
    if with_stops:
        reasons = set(ours["exit_reason"].astype(str))
        assert {"stop_loss", "take_profit", "reversal"} <= reasons
