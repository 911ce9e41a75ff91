"""Metrics on hand-made equity curves and trades, and on a real run."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from noxfx.backtest import BacktestConfig, Distance, Signals, Target, compute_metrics, simulate


def _trades(pnl: list[float], r: list[float], ids: list[int] | None = None) -> pd.DataFrame:
    n = len(pnl)
    return pd.DataFrame(
        {
            "trade_id": ids if ids is not None else list(range(n)),
            "pnl": pnl,
            "r_multiple": r,
            "commission": [1.0] * n,
            "spread_cost": [2.0] * n,
            "slippage_cost": [0.5] * n,
            "swap": [-0.25] * n,
        }
    )


def test_hand_computed_metrics() -> None:
    # one bar per FX day (22:00 UTC open in January = 17:00 New York)
    index = pd.date_range("2024-01-08 23:00", periods=6, freq="1D", tz="UTC")
    equity = pd.Series([10_000, 10_200, 9_690, 9_900, 10_300, 10_250], index=index, dtype=float)
    trades = _trades([200, -510, 210, 400, -50], [1.0, -2.55, 1.05, 2.0, -0.25])
    m = compute_metrics(equity, trades, 10_000.0)
    assert m.net_profit == pytest.approx(250.0)
    assert m.net_profit_frac == pytest.approx(0.025)
    # peak 10,200 -> trough 9,690: 5 %, from the peak bar (day 2) to recovery (day 5) = 3 days
    assert m.max_drawdown == pytest.approx(0.05)
    assert m.max_drawdown_duration == pd.Timedelta(days=3)
    assert m.trades == 5
    assert m.win_rate == pytest.approx(0.6)
    assert m.profit_factor == pytest.approx(810 / 560)
    assert m.expectancy == pytest.approx(50.0)
    assert m.expectancy_r == pytest.approx(0.25)
    assert m.average_win == pytest.approx(270.0)
    assert m.average_loss == pytest.approx(-280.0)
    r = np.array([1.0, -2.55, 1.05, 2.0, -0.25])
    assert m.sqn == pytest.approx(math.sqrt(5) * r.mean() / r.std(ddof=1))
    daily = np.r_[10_000.0, equity.to_numpy()]  # the first day's return is from the balance
    rets = np.diff(daily) / daily[:-1]
    assert m.sharpe == pytest.approx(rets.mean() / rets.std(ddof=1) * math.sqrt(260))
    downside = math.sqrt(np.mean(np.minimum(rets, 0) ** 2))
    assert m.sortino == pytest.approx(rets.mean() / downside * math.sqrt(260))
    years = 5 / 365.25
    assert m.cagr == pytest.approx(1.025 ** (1 / years) - 1)
    assert m.calmar == pytest.approx(m.cagr / 0.05)
    assert m.total_costs == pytest.approx(5 * 3.5)
    assert m.swap == pytest.approx(-1.25)
    json.dumps(m.as_dict())  # plain JSON


def test_partial_closes_count_as_one_trade() -> None:
    index = pd.date_range("2024-01-08 23:00", periods=2, freq="1D", tz="UTC")
    equity = pd.Series([10_000.0, 10_050.0], index=index)
    # a position closed in two parts: +100 (risk 100 -> 1R) and -50 (risk 100 -> -0.5R)
    m = compute_metrics(equity, _trades([100, -50], [1.0, -0.5], ids=[0, 0]), 10_000.0)
    assert m.trades == 1
    assert m.win_rate == 1.0
    assert m.expectancy_r == pytest.approx(50 / 200)


def test_metrics_of_a_real_run_are_consistent(h1_bars: pd.DataFrame) -> None:
    bars = h1_bars.iloc[:10_000]
    close = bars["close"]
    fast, slow = close.rolling(10).mean(), close.rolling(30).mean()
    up = (fast > slow) & (fast.shift() <= slow.shift())
    down = (fast < slow) & (fast.shift() >= slow.shift())
    config = BacktestConfig(
        symbol="EURUSD", risk_percent=1.0, stop_loss=Distance.atr(2.0),
        partial_targets=(Target(Distance.atr(1.0), 0.5),), take_profit=Distance.atr(4.0),
        commission_per_lot=3.5, swap_long=-6.0, swap_short=1.5,
    )  # fmt: skip
    result = simulate(bars, Signals(long_entry=up, short_entry=down), config)
    m = result.metrics
    trades = result.trades
    assert m.trades == trades["trade_id"].nunique() > 50
    assert m.net_profit == pytest.approx(trades["pnl"].sum(), abs=0.01)
    assert m.final_equity == pytest.approx(result.equity.iloc[-1])
    assert m.max_drawdown == pytest.approx(-result.drawdown.min())
    assert 0 < m.exposure < 1
    assert m.commission == pytest.approx(trades["commission"].sum())
    assert np.isfinite([m.sharpe, m.sortino, m.sqn, m.expectancy_r, m.profit_factor]).all()
    # every position risked about 1 % at its stop: the stop-loss closes are about -1 R
    stops = trades[trades["exit_reason"] == "stop_loss"]
    assert stops["r_multiple"].between(-1.2, -0.95).mean() > 0.9
