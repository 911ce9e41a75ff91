"""The numba engine against the plain-Python reference in ``reference.py``, on real bars.

Random signals (fixed seed) on two months of real EURUSD 1m bars give more than 25,000 trades
with per-bar spreads, commission, slippage, swaps (Wednesday tripled), stops, three take-profit
levels with partial closes, exit signals, reversals and time exits; a second run on 8 years of
1h bars sizes by risk % on a EUR account (quote USD converted at 1 / price) with ATR stops and
swaps in points. Every close and every bar's equity must agree to the cent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from noxfx.backtest import BacktestConfig, Distance, Signals, Target, simulate

from .reference import Setup, reference_simulate

CENT = 0.005


def _random_signals(n: int, seed: int, p_entry: float, p_exit: float) -> dict[str, np.ndarray]:
    """Long with probability p_entry, else short with p_entry (never both), plus random exits."""
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    return {
        "long_entry": u < p_entry,
        "short_entry": u > 1.0 - p_entry,
        "long_exit": rng.random(n) < p_exit,
        "short_exit": rng.random(n) < p_exit,
    }


def _compare(result, closes: list[dict], ref_equity: list[float]) -> None:
    trades = result.trades
    ref = pd.DataFrame(closes)
    assert len(trades) == len(ref)
    for col in ("trade_id", "entry_bar", "exit_bar", "direction"):
        np.testing.assert_array_equal(
            trades[col].to_numpy() if col != "direction" else result.records["direction"],
            ref[col].to_numpy(),
            err_msg=col,
        )
    np.testing.assert_array_equal(trades["exit_reason"].astype(str).to_numpy(), ref["reason"])
    np.testing.assert_allclose(trades["lots"], ref["lots"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(trades["entry_price"], ref["entry_price"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(trades["exit_price"], ref["exit_price"], rtol=0, atol=1e-9)
    for col in ("pnl", "swap", "commission"):
        np.testing.assert_allclose(trades[col], ref[col], rtol=0, atol=CENT, err_msg=col)
    assert abs(trades["pnl"].sum() - ref["pnl"].sum()) < 0.01
    np.testing.assert_allclose(result.equity.to_numpy(), ref_equity, rtol=0, atol=0.01)


def test_reference_agrees_on_25k_trades_1m(m1_bars: pd.DataFrame) -> None:
    bars = m1_bars.copy()
    n = len(bars)
    rng = np.random.default_rng(11)
    bars["spread"] = rng.integers(1, 16, n).astype(np.float64)  # points, 0.1 to 1.5 pips
    signals = _random_signals(n, seed=3, p_entry=0.4, p_exit=0.03)
    override = np.where(rng.random(n) < 0.3, rng.uniform(2, 9, n) * 1e-4, np.nan)
    config = BacktestConfig(
        symbol="EURUSD",
        initial_balance=1_000_000.0,
        lots=0.37,
        commission_per_lot=3.5,
        slippage_pips=0.2,
        swap_long=-7.1,
        swap_short=2.3,
        stop_loss=Distance.pips(4),
        partial_targets=(Target(Distance.pips(3), 0.5), Target(Distance.pips(5), 0.3)),
        take_profit=Distance.pips(8),
        max_bars_in_trade=3,
    )
    result = simulate(bars, Signals(**signals, stop_distance=override), config)

    stop = np.where(np.isfinite(override), override, 4e-4)
    targets = [np.full(n, 3e-4), np.full(n, 5e-4), np.full(n, 8e-4)]
    setup = Setup(
        pip=1e-4, contract=100_000, lots=0.37, risk=0.0, commission=3.5, slippage=0.2e-4,
        swap_long=-7.1, swap_short=2.3, swap_points_value=0.0, max_bars=3, balance=1_000_000.0,
        target_fractions=[0.5, 0.3, 1.0],
    )  # fmt: skip
    closes, equity = reference_simulate(
        bars, bars["spread"].to_numpy() * 1e-5, np.ones(n), signals, stop, targets, setup
    )
    positions = result.trades["trade_id"].nunique()
    assert positions >= 25_000, positions
    reasons = set(result.trades["exit_reason"].astype(str))
    assert {"stop_loss", "take_profit", "take_profit_2", "take_profit_3", "reversal"} <= reasons
    assert {"exit_signal", "time_exit"} <= reasons
    assert result.trades["partial"].sum() > 1_000
    nights = (result.trades["swap"] / result.trades["lots"]).abs().round(6)
    assert (nights > 0).sum() >= 20  # about one position in the market per rollover
    assert {7.1, 2.3, 21.3, 6.9} <= set(nights)  # ordinary and Wednesday (x3) rollovers
    _compare(result, closes, equity)


def test_reference_agrees_risk_sizing_base_account_1h(h1_bars: pd.DataFrame) -> None:
    bars = h1_bars
    n = len(bars)
    signals = _random_signals(n, seed=5, p_entry=0.08, p_exit=0.02)
    high, low, close = (bars[c].to_numpy() for c in ("high", "low", "close"))
    stop = 1.5 * talib.ATR(high, low, close, timeperiod=14)
    final = 3.0 * talib.ATR(high, low, close, timeperiod=14)
    config = BacktestConfig(
        symbol="EURUSD",
        account_currency="EUR",
        risk_percent=1.5,
        spread_pips=0.8,
        commission_per_lot=2.5,
        swap_long=-5.2,
        swap_short=1.1,
        swap_unit="points",
        partial_targets=(Target(Distance.pips(15), 0.4),),
        max_bars_in_trade=24,
    )
    result = simulate(bars, Signals(**signals, stop_distance=stop, target_distance=final), config)

    rate = 1.0 / bars["open"].to_numpy()
    setup = Setup(
        pip=1e-4, contract=100_000, lots=0.0, risk=0.015, commission=2.5, slippage=0.0,
        swap_long=-5.2, swap_short=1.1, swap_points_value=1e-5 * 100_000, max_bars=24,
        balance=10_000.0, target_fractions=[0.4, 1.0],
    )  # fmt: skip
    closes, equity = reference_simulate(
        bars, np.full(n, 0.8e-4), rate, signals, stop, [np.full(n, 15e-4), final], setup
    )
    assert result.trades["trade_id"].nunique() > 2_000
    assert len(set(np.round(result.trades["lots"], 2))) > 20  # sizes really vary
    _compare(result, closes, equity)


@pytest.mark.parametrize("seed", [1, 2])
def test_batch_matches_single_runs(m1_bars: pd.DataFrame, seed: int) -> None:
    from noxfx.backtest import simulate_batch

    bars = m1_bars.iloc[:20_000]
    n = len(bars)
    sig = _random_signals(n * 3, seed=seed, p_entry=0.05, p_exit=0.01)
    mats = {k: v.reshape(3, n).T for k, v in sig.items()}
    config = BacktestConfig(
        symbol="EURUSD", stop_loss=Distance.pips(5), take_profit=Distance.pips(10),
        commission_per_lot=3.0, swap_long=-3.0,
    )  # fmt: skip
    scales = np.array([1.0, 2.0, 0.5])
    batch = simulate_batch(bars, Signals(**mats), config, stop_scale=scales, target_scale=scales)
    for col in range(3):
        single_cfg = BacktestConfig(
            symbol="EURUSD", stop_loss=Distance.pips(5 * scales[col]),
            take_profit=Distance.pips(10 * scales[col]), commission_per_lot=3.0, swap_long=-3.0,
        )  # fmt: skip
        one = simulate(bars, Signals(**{k: v[:, col] for k, v in mats.items()}), single_cfg)
        row = batch.iloc[col]
        assert row["trades"] == one.trades["trade_id"].nunique()
        assert row["closes"] == len(one.trades)
        assert row["final_equity"] == pytest.approx(one.equity.iloc[-1], abs=0.01)
        assert row["max_drawdown"] == pytest.approx(-one.drawdown.min(), abs=1e-9)
