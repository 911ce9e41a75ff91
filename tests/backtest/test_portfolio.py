"""The portfolio runner: one symbol equals a single run; independent symbols add up; risk-%
sizing shares one balance."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from noxfx.backtest import BacktestConfig, Distance, Signals, Target, simulate, simulate_portfolio
from noxfx.data.formats import read_file

from .conftest import _shared

CONFIG = BacktestConfig(
    lots=0.2, commission_per_lot=3.0, swap_long=-6.0, swap_short=1.5,
    stop_loss=Distance.atr(2.0), partial_targets=(Target(Distance.atr(1.5), 0.5),),
    take_profit=Distance.atr(3.0), max_bars_in_trade=30, initial_balance=100_000,
)  # fmt: skip
COLUMNS = ["entry_time", "exit_time", "direction", "entry_price", "exit_price", "lots", "pnl",
           "swap", "exit_reason"]  # fmt: skip


def _sma_signals(bars: pd.DataFrame) -> Signals:
    close = bars["close"]
    fast, slow = close.rolling(10).mean(), close.rolling(30).mean()
    up = (fast > slow) & (fast.shift() <= slow.shift())
    down = (fast < slow) & (fast.shift() >= slow.shift())
    return Signals(long_entry=up, short_entry=down)


@pytest.fixture(scope="module")
def gbpusd_h1() -> pd.DataFrame:
    frame = read_file(_shared("generic/GBPUSD_H1.csv.gz")).frame.drop(columns="line")
    return frame[frame["close"] > 0][["open", "high", "low", "close"]]


def test_one_symbol_portfolio_is_a_single_run(h1_bars: pd.DataFrame) -> None:
    bars = h1_bars.iloc[:20_000]
    single = simulate(bars, _sma_signals(bars), CONFIG)
    port = simulate_portfolio({"EURUSD": bars}, {"EURUSD": _sma_signals(bars)}, CONFIG)
    pd.testing.assert_frame_equal(
        port.trades.drop(columns="symbol"), single.trades, check_exact=False, rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(port.equity, single.equity, rtol=0, atol=1e-6)
    assert (port.trades["symbol"] == "EURUSD").all()


def test_independent_symbols_add_up(h1_bars: pd.DataFrame, gbpusd_h1: pd.DataFrame) -> None:
    data = {"EURUSD": h1_bars.iloc[:15_000], "GBPUSD": gbpusd_h1.iloc[:15_000]}
    signals = {s: _sma_signals(b) for s, b in data.items()}
    port = simulate_portfolio(data, signals, CONFIG)
    singles = {s: simulate(data[s], signals[s], replace(CONFIG, symbol=s)) for s in data}
    assert not data["EURUSD"].index.equals(data["GBPUSD"].index)  # a real union of times
    for s, single in singles.items():
        mine = port.trades[port.trades["symbol"] == s].reset_index(drop=True)
        assert len(mine) == len(single.trades) > 100
        pd.testing.assert_frame_equal(
            mine[COLUMNS], single.trades[COLUMNS], check_exact=False, rtol=0, atol=1e-9
        )
    total = sum(r.trades["pnl"].sum() for r in singles.values())
    assert port.equity.iloc[-1] == pytest.approx(100_000 + total, abs=0.01)
    # where both have a bar, the account's equity is the sum of the two accounts' gains
    common = data["EURUSD"].index.intersection(data["GBPUSD"].index)
    gains = sum(r.equity.reindex(common) - 100_000 for r in singles.values())
    np.testing.assert_allclose(port.equity.reindex(common), 100_000 + gains, rtol=0, atol=1e-6)
    assert port.metrics.trades == sum(r.metrics.trades for r in singles.values())


def test_risk_sizing_shares_the_balance() -> None:
    index = pd.date_range("2024-01-08 10:00", periods=4, freq="1h", tz="UTC")
    flat = pd.DataFrame(1.1, index=index, columns=["open", "high", "low", "close"])
    crash = flat.copy()
    crash.iloc[1] = [1.1, 1.1, 1.0, 1.0]  # A's stop (30 pips) is hit on its entry bar
    entry = np.array([True, False, False, False])
    later = np.array([False, True, False, False])
    config = BacktestConfig(spread_pips=0, risk_percent=1.0, stop_loss=Distance.pips(30))
    port = simulate_portfolio(
        {"EURUSD": crash, "GBPUSD": flat},
        {"EURUSD": Signals(long_entry=entry), "GBPUSD": Signals(long_entry=later)},
        config,
    )
    t = port.trades.set_index("symbol")
    # A: 1 % of 10,000 over 30 pips x 10 USD = 0.33 lot, loses 0.33 x 300 = 99 USD
    assert t.loc["EURUSD", "lots"] == pytest.approx(0.33)
    assert t.loc["EURUSD", "pnl"] == pytest.approx(-99.0)
    # B enters a bar later on the shared balance 9,901: 99.01 / 300 = 0.33 lot (not 0.3333)
    assert t.loc["GBPUSD", "lots"] == pytest.approx(0.33)
    assert port.equity.iloc[-1] == pytest.approx(10_000 - 99.0)
