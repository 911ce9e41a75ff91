"""Optimisation on real EURUSD bars: batch results equal single runs, the grid finds the known
best, random/optuna searches, constraints, ranges and the honesty statistics it reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from noxfx.backtest import BacktestConfig
from noxfx.backtest.optimize import (
    OBJECTIVES,
    daily_returns,
    grid_size,
    optimize,
    parse_ranges,
    space_for,
)
from noxfx.backtest.overfitting import deflated_sharpe_from_returns
from noxfx.backtest.strategy_spec import load_strategy, strategy_from_dict
from noxfx.backtest.sweep import METRIC_COLUMNS, evaluate_combinations
from noxfx.errors import InsufficientData, InvalidInput

CONFIG = BacktestConfig(symbol="EURUSD", risk_percent=1.0, commission_per_lot=3.5)
FIELDS = ("trades", "net_profit", "net_profit_frac", "final_equity", "cagr", "sharpe", "sortino",
          "calmar", "max_drawdown", "win_rate", "profit_factor", "expectancy", "expectancy_r",
          "sqn")  # fmt: skip


@pytest.fixture(scope="module")
def bars(h1_bars: pd.DataFrame) -> pd.DataFrame:
    """2017-2019 real EURUSD 1h bars (UTC)."""
    return h1_bars.loc["2017-01-01":"2019-12-31"]


def _assert_same(strategy_name: str, bars: pd.DataFrame, combos: list[dict[str, float]],
                 config: BacktestConfig = CONFIG, strategy: object = None) -> None:  # fmt: skip
    strat = strategy or load_strategy(strategy_name)
    sweep = evaluate_combinations(strat, bars, combos, config)  # type: ignore[arg-type]
    assert list(sweep.metrics.columns) == list(METRIC_COLUMNS)
    for combo, row in zip(combos, sweep.metrics.to_dict("records"), strict=True):
        single = strat.backtest(bars, combo, config).metrics  # type: ignore[attr-defined]
        for name in FIELDS:
            assert row[name] == pytest.approx(getattr(single, name), rel=1e-9, nan_ok=True), (
                combo, name)  # fmt: skip
        assert row["costs"] == pytest.approx(single.total_costs, rel=1e-9)


def test_batch_equals_single_runs_scaled_atr_stops(bars: pd.DataFrame) -> None:
    # ema_cross: stop in ATR multiples (scaled in one kernel call) + a fixed trailing stop
    values = ((5, 20, 1.0), (5, 20, 2.5), (12, 26, 2.0), (12, 40, 4.0))
    combos = [{"fast": f, "slow": s, "stop_atr": a} for f, s, a in values]
    _assert_same("ema_cross", bars, combos)


def test_batch_equals_single_runs_r_targets_time_exits(bars: pd.DataFrame) -> None:
    combos = [{"period": p, "lower": lo, "upper": up}
              for p, lo, up in ((14, 30, 70), (7, 20, 80), (21, 35, 65))]  # fmt: skip
    _assert_same("rsi_reversion", bars, combos)


def test_batch_equals_single_runs_partials_percent_and_per_entry(bars: pd.DataFrame) -> None:
    spec = {
        "parameters": {"n": {"default": 20, "min": 5, "max": 60, "step": 5},
                       "stop_pct": {"default": 0.3, "min": 0.1, "max": 1.0, "step": 0.1}},
        "entry_long": "close > highest(high, n)[1]",
        "entry_short": "close < lowest(low, n)[1]",
        "exits": {"stop": {"percent": "stop_pct"},
                  "targets": [{"r": 1, "close": 0.5}, {"r": 2.5}],
                  "break_even": {"r": 1, "after_first_target": True}},
    }  # fmt: skip
    combos = [{"n": 20, "stop_pct": 0.3}, {"n": 20, "stop_pct": 0.5}, {"n": 40, "stop_pct": 0.2}]
    _assert_same("", bars, combos, strategy=strategy_from_dict(spec))
    # per-entry stops (the range breakout) and a fixed-lot account with slippage
    fixed = BacktestConfig(symbol="EURUSD", lots=0.2, slippage_pips=0.3)
    combos = [{"buffer_pips": b, "target_r": r} for b, r in ((0, 1.0), (2, 1.5), (5, 3.0))]
    _assert_same("london_breakout", bars, combos, config=fixed)


def test_grid_finds_the_known_best(bars: pd.DataFrame) -> None:
    strategy = load_strategy("sma_cross")
    space = parse_ranges(["fast=5:20:5", "slow=20:60:20"], strategy)
    assert grid_size(space) == 12
    seen: list[tuple[int, int]] = []
    result = optimize(strategy, bars, space, CONFIG, objective="net_profit",
                      progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert result.skipped == 1  # fast=20, slow=20 breaks "fast < slow"
    assert result.n_trials == 11 and seen[-1] == (11, 11)
    by_hand = {}
    for fast in (5, 10, 15, 20):
        for slow in (20, 40, 60):
            if fast < slow:
                by_hand[(fast, slow)] = strategy.backtest(bars, {"fast": fast, "slow": slow},
                                                          CONFIG).metrics.net_profit  # fmt: skip
    best = max(by_hand, key=lambda k: by_hand[k])
    assert (result.best_params["fast"], result.best_params["slow"]) == best
    assert result.best_value == pytest.approx(by_hand[best], rel=1e-9)
    assert result.best.metrics.net_profit == pytest.approx(by_hand[best], rel=1e-9)
    top = result.top(3)
    assert top["objective"].is_monotonic_decreasing and len(top) == 3


def test_dsr_and_pbo_are_reported_from_the_trials(bars: pd.DataFrame) -> None:
    strategy = load_strategy("ema_cross")
    space = parse_ranges(["fast=5:15:5", "slow=20:40:10", "stop_atr=2"], strategy)
    result = optimize(strategy, bars, space, CONFIG)
    assert result.n_trials == 9
    sweep = evaluate_combinations(strategy, bars, [dict(p) for p in
                                                   result.trials[["fast", "slow", "stop_atr"]]
                                                   .to_dict("records")], CONFIG)  # fmt: skip
    ref = deflated_sharpe_from_returns(daily_returns(result.best.equity, 10_000.0),
                                       sweep.daily_sharpe)  # fmt: skip
    assert result.deflated_sharpe.dsr == pytest.approx(ref.dsr, rel=1e-9)
    assert result.deflated_sharpe.n_trials == 9
    assert result.pbo is not None and result.pbo.n_splits == 12870 and 0 <= result.pbo.pbo <= 1
    out = result.as_dict()
    assert out["n_trials"] == 9 and out["deflated_sharpe"]["dsr"] == result.deflated_sharpe.dsr
    assert out["pbo"]["pbo"] == result.pbo.pbo and len(out["top_trials"]) == 9


@pytest.mark.parametrize("method", ["random", "optuna"])
def test_random_and_optuna_run_distinct_feasible_trials(method: str, bars: pd.DataFrame) -> None:
    strategy = load_strategy("ema_cross")
    space = parse_ranges(["fast=4:20:2", "slow=10:60:5", "stop_atr=1.5,3"], strategy)
    result = optimize(strategy, bars, space, CONFIG, method=method, trials=24, seed=5,  # type: ignore[arg-type]
                      objective="calmar")  # fmt: skip
    trials = result.trials
    assert result.n_trials == 24
    assert not trials.duplicated(["fast", "slow", "stop_atr"]).any()
    assert (trials["fast"] < trials["slow"]).all()
    assert set(trials["stop_atr"]) <= {1.5, 3.0}
    best = trials.loc[trials["objective"].idxmax()]
    assert result.best_params == {"fast": best["fast"], "slow": best["slow"],
                                  "stop_atr": best["stop_atr"]}  # fmt: skip
    assert result.deflated_sharpe.n_trials == 24


def test_parse_ranges_and_space() -> None:
    strategy = load_strategy("bbands_breakout")
    space = parse_ranges(["period=10:30:10", "nbdev=1.5,2.5"], strategy)
    assert space["period"].values == (10, 20, 30) and space["period"].step == 10
    assert space["nbdev"].values == (1.5, 2.5)
    default = space_for(strategy)
    assert default["period"].values[0] == 5 and default["period"].values[-1] == 100
    fixed = parse_ranges(["period=20"], strategy)
    assert fixed["period"].values == (20,)
    for bad, match in (("period=a:b:c", "lo:hi:step"), ("nope=1", "no parameter 'nope'"),
                       ("period", "name=lo:hi:step"), ("period=1:30:5", "below the minimum"),
                       ("period=10:30:0", "lo:hi:step")):  # fmt: skip
        with pytest.raises(InvalidInput, match=match):
            parse_ranges([bad], strategy)


def test_errors(bars: pd.DataFrame) -> None:
    strategy = load_strategy("sma_cross")
    space = parse_ranges(["fast=5", "slow=20"], strategy)
    with pytest.raises(InvalidInput, match="Unknown objective"):
        optimize(strategy, bars, space, CONFIG, objective="luck")
    with pytest.raises(InsufficientData, match="at least 100000 trades"):
        optimize(strategy, bars, space, CONFIG, min_trades=100_000)
    with pytest.raises(InvalidInput, match="grid has"):
        optimize(strategy, bars, space_for(strategy), CONFIG, max_combinations=100)
    assert set(OBJECTIVES) <= set(METRIC_COLUMNS)


def test_single_trial_reports_dsr_without_pbo(bars: pd.DataFrame) -> None:
    strategy = load_strategy("sma_cross")
    result = optimize(strategy, bars, parse_ranges(["fast=10", "slow=30"], strategy), CONFIG)
    assert result.n_trials == 1 and result.pbo is None
    assert result.deflated_sharpe.expected_max_sharpe == 0.0
    assert any("PBO" in note for note in result.notes)
    assert np.isfinite(result.deflated_sharpe.dsr)
