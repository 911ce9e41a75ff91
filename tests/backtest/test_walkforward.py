"""Walk-forward analysis on real EURUSD bars: window layout, stitching, efficiency."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from noxfx.backtest import BacktestConfig
from noxfx.backtest.optimize import optimize, parse_ranges
from noxfx.backtest.strategy_spec import load_strategy
from noxfx.backtest.walkforward import walk_forward, window_bounds
from noxfx.errors import InsufficientData, InvalidInput

CONFIG = BacktestConfig(symbol="EURUSD", risk_percent=1.0)


@pytest.fixture(scope="module")
def bars(h1_bars: pd.DataFrame) -> pd.DataFrame:
    return h1_bars.loc["2016-01-01":"2019-12-31"]


@pytest.mark.parametrize("anchored", [False, True])
def test_window_layout_never_overlaps(anchored: bool) -> None:
    bounds = window_bounds(10_000, 4, 3.0, anchored)
    assert len(bounds) == 4
    oos = 10_000 // 7
    for k, b in enumerate(bounds):
        assert b.is_start < b.is_end == b.oos_start < b.oos_end
        assert b.oos_end - b.oos_start == oos
        assert b.is_start == (0 if anchored else k * oos)
        if k:
            assert b.oos_start == bounds[k - 1].oos_end  # OOS windows tile without gaps
        later = bounds[k + 1 :]
        assert all(b.oos_end <= c.oos_start for c in later)
    assert bounds[-1].oos_end == 10_000
    assert bounds[0].is_end - bounds[0].is_start == 10_000 - 4 * oos
    with pytest.raises(InvalidInput):
        window_bounds(100, 0)
    with pytest.raises(InsufficientData):
        window_bounds(10, 5)


def test_stitched_oos_equity_equals_separate_runs(bars: pd.DataFrame) -> None:
    strategy = load_strategy("sma_cross")
    space = parse_ranges(["fast=5:15:5", "slow=30:90:30"], strategy)
    wf = walk_forward(strategy, bars, space, CONFIG, windows=3, in_sample_ratio=2.0)
    bounds = window_bounds(len(bars), 3, 2.0)
    assert len(wf.windows) == 3 and len(wf.params) == 3
    balance = CONFIG.initial_balance
    parts = []
    for k, b in enumerate(bounds):
        row = wf.windows.iloc[k]
        assert row["is_end"] < row["oos_start"] == bars.index[b.oos_start]
        # the IS optimisation alone picks the same parameters
        opt = optimize(strategy, bars.iloc[: b.is_end], space, CONFIG,
                       trade_from=bars.index[b.is_start])  # fmt: skip
        assert opt.best_params == wf.params[k] == row["params"]
        config = BacktestConfig(symbol="EURUSD", risk_percent=1.0, initial_balance=balance)
        run = strategy.backtest(bars.iloc[: b.oos_end], wf.params[k], config,
                                trade_from=bars.index[b.oos_start])  # fmt: skip
        assert run.equity.index[0] == bars.index[b.oos_start]
        assert run.equity.index[-1] == bars.index[b.oos_end - 1]
        parts.append(run.equity)
        balance = float(run.equity.iloc[-1])
        assert row["oos_trades"] == run.metrics.trades
        assert row["efficiency"] == pytest.approx(run.metrics.cagr / row["is_cagr"]) or (
            row["is_cagr"] <= 0 and math.isnan(row["efficiency"]))  # fmt: skip
    pd.testing.assert_series_equal(wf.equity, pd.concat(parts).rename("equity"))
    assert wf.equity.index.is_unique and wf.equity.index.is_monotonic_increasing
    # every OOS trade opens and closes inside its window
    for k, b in enumerate(bounds):
        trades = wf.trades[wf.trades["window"] == k + 1]
        assert (trades["entry_time"] >= bars.index[b.oos_start]).all()
        assert (trades["exit_time"] <= bars.index[b.oos_end - 1]).all()
    mean_is = float(np.nanmean(wf.windows["is_cagr"]))
    expected = wf.metrics.cagr / mean_is if mean_is > 0 else math.nan
    assert wf.efficiency == pytest.approx(expected, nan_ok=True)
    assert wf.metrics.final_equity == pytest.approx(balance)
    assert wf.as_dict()["windows"][0]["window"] == 1
    # the stitched run counts every window's trades (ids restart per window; issue 13)
    assert wf.metrics.trades == int(wf.windows["oos_trades"].sum()) > 0
    assert wf.trades.groupby("trade_id")["window"].nunique().max() == 1


def test_anchored_walk_forward_grows_the_in_sample(bars: pd.DataFrame) -> None:
    strategy = load_strategy("ema_cross")
    space = parse_ranges(["fast=8,12", "slow=26,40", "stop_atr=2"], strategy)
    wf = walk_forward(strategy, bars, space, CONFIG, windows=2, anchored=True,
                      method="random", trials=3)  # fmt: skip
    assert (wf.windows["is_start"] == bars.index[0]).all()
    assert wf.windows["n_trials"].tolist() == [3, 3]
    assert wf.windows["is_end"].iloc[1] > wf.windows["is_end"].iloc[0]
