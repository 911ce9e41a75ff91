"""Labels against slow, obvious Python references on real bars."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import talib

from noxfx.errors import InvalidInput
from noxfx.ml.labels import (
    BarrierConfig,
    direction_labels,
    meta_labels,
    triple_barrier_labels,
)


def reference_triple_barrier(
    bars: pd.DataFrame, cfg: BarrierConfig, side: str, pip_size: float | None = None
) -> list[tuple[float, int, int, float]]:
    """Per bar: (label, outcome, exit position, exit R), written as plainly as possible."""
    o, h, lo, c = (bars[k].tolist() for k in ("open", "high", "low", "close"))
    if cfg.tp_pips is not None:
        tp_d = [cfg.tp_pips * pip_size] * len(c)  # type: ignore[operator]
        sl_d = [cfg.sl_pips * pip_size] * len(c)  # type: ignore[operator]
    else:
        atr = talib.ATR(*(bars[k].to_numpy() for k in ("high", "low", "close")), cfg.atr_period)
        tp_d = [cfg.tp_atr * a for a in atr]
        sl_d = [cfg.sl_atr * a for a in atr]
    out = []
    n = len(c)
    for t in range(n):
        if t + cfg.horizon_bars > n - 1 or math.isnan(tp_d[t]):
            out.append((math.nan, -2, -1, math.nan))
            continue
        entry = o[t + 1]
        if side == "long":
            target, stop = entry + tp_d[t], entry - sl_d[t]
        else:
            target, stop = entry - tp_d[t], entry + sl_d[t]
        result = None
        for j in range(t + 1, t + cfg.horizon_bars + 1):
            stop_hit = lo[j] <= stop if side == "long" else h[j] >= stop
            target_hit = h[j] >= target if side == "long" else lo[j] <= target
            if stop_hit:  # also when both are touched: stop first
                result = (0.0, -1, j, -1.0)
                break
            if target_hit:
                result = (1.0, 1, j, tp_d[t] / sl_d[t])
                break
        if result is None:
            last = t + cfg.horizon_bars
            move = (c[last] - entry) if side == "long" else (entry - c[last])
            label = 0.0 if cfg.timeout == "zero" else math.nan
            result = (label, 0, last, move / sl_d[t])
        out.append(result)
    return out


def _compare(bars: pd.DataFrame, cfg: BarrierConfig, pip_size: float | None = None) -> None:
    got = triple_barrier_labels(bars, cfg, pip_size=pip_size)
    for side in ("long", "short"):
        ref = reference_triple_barrier(bars, cfg, side, pip_size)
        label, outcome, exit_pos, exit_r = (np.array(x) for x in zip(*ref, strict=True))
        np.testing.assert_array_equal(got[side].to_numpy(), label)
        np.testing.assert_array_equal(got[f"{side}_outcome"].to_numpy(), outcome)
        np.testing.assert_allclose(got[f"{side}_exit_r"].to_numpy(), exit_r, rtol=1e-12)
        t1 = got[f"{side}_t1"]
        has = exit_pos >= 0
        assert (t1[has].to_numpy() == bars.index[exit_pos[has]].to_numpy()).all()
        assert t1[~has].isna().all()


@pytest.mark.parametrize(
    "cfg",
    [
        BarrierConfig(),
        BarrierConfig(horizon_bars=12, tp_atr=2.0, sl_atr=1.0, timeout="drop"),
        BarrierConfig(horizon_bars=48, tp_atr=0.5, sl_atr=1.5, atr_period=20),
    ],
)
def test_triple_barrier_matches_reference_eurusd(
    h1_recent: pd.DataFrame, cfg: BarrierConfig
) -> None:
    _compare(h1_recent.iloc[:2500], cfg)


def test_triple_barrier_matches_reference_usdjpy_pips(usdjpy_h4: pd.DataFrame) -> None:
    cfg = BarrierConfig(horizon_bars=10, tp_pips=60, sl_pips=40)
    _compare(usdjpy_h4.iloc[-2000:], cfg, pip_size=0.01)


def test_ambiguous_bars_count_as_stop(h1_recent: pd.DataFrame) -> None:
    """Wide barriers relative to one bar are rare to touch both; tight ones do it often."""
    bars = h1_recent.iloc[:2000]
    cfg = BarrierConfig(horizon_bars=6, tp_atr=0.3, sl_atr=0.3)
    got = triple_barrier_labels(bars, cfg)
    atr = talib.ATR(bars["high"].to_numpy(), bars["low"].to_numpy(), bars["close"].to_numpy(), 14)
    o, h, lo = (bars[k].to_numpy() for k in ("open", "high", "low"))
    entry = o[1:]
    d = 0.3 * atr[:-1]
    # first scanned bar (the entry bar) touches both the long target and the long stop
    both = (h[1:] >= entry + d) & (lo[1:] <= entry - d)
    both_idx = np.flatnonzero(both & np.isfinite(d))
    both_idx = both_idx[both_idx < len(bars) - 6]
    assert len(both_idx) > 20, "real data should have bars that touch both barriers"
    assert (got["long_outcome"].to_numpy()[both_idx] == -1).all()
    assert (got["short_outcome"].to_numpy()[both_idx] == -1).all()


def test_label_ignores_decision_bar_range_and_far_future(h1_recent: pd.DataFrame) -> None:
    """With fixed pip barriers, bar t's own range (which would move its ATR) and bars after
    t + horizon cannot change the label of t: the trade starts at the next open."""
    bars = h1_recent.iloc[:600].copy()
    cfg = BarrierConfig(horizon_bars=10, tp_pips=10, sl_pips=10)
    base = triple_barrier_labels(bars, cfg, pip_size=0.0001)
    t = 300
    changed = bars.copy()
    changed.iloc[t, changed.columns.get_loc("high")] += 0.01
    changed.iloc[t, changed.columns.get_loc("low")] -= 0.01
    changed.iloc[t + cfg.horizon_bars + 1 :, :4] *= 1.05
    after = triple_barrier_labels(changed, cfg, pip_size=0.0001)
    for col in ("long", "short", "long_outcome", "short_outcome", "long_t1", "short_t1"):
        assert base[col].iloc[t] == after[col].iloc[t] or (
            pd.isna(base[col].iloc[t]) and pd.isna(after[col].iloc[t])
        )


def test_t1_after_t_within_horizon_and_tail_unlabelled(h1_recent: pd.DataFrame) -> None:
    cfg = BarrierConfig(horizon_bars=24)
    got = triple_barrier_labels(h1_recent, cfg)
    pos = np.arange(len(got))
    for side in ("long", "short"):
        t1_pos = h1_recent.index.get_indexer(got[f"{side}_t1"].dropna())
        own = pos[got[f"{side}_t1"].notna().to_numpy()]
        assert (t1_pos > own).all() and (t1_pos <= own + cfg.horizon_bars).all()
        assert got[side].iloc[-cfg.horizon_bars :].isna().all()
    assert got["long"].iloc[:14].isna().all()  # ATR(14) warm-up


def test_direction_labels_reference(h1_recent: pd.DataFrame) -> None:
    bars = h1_recent.iloc[:1500]
    h = 12
    got = direction_labels(bars, h, min_move=0.0002)
    o, c = bars["open"].tolist(), bars["close"].tolist()
    for t in range(len(bars)):
        if t + h > len(bars) - 1:
            assert math.isnan(got["label"].iloc[t]) and pd.isna(got["t1"].iloc[t])
            continue
        move = c[t + h] - o[t + 1]
        expected = 1.0 if move > 0.0002 else 0.0 if move < -0.0002 else math.nan
        assert got["label"].iloc[t] == expected or (
            math.isnan(expected) and math.isnan(got["label"].iloc[t])
        )
        assert got["t1"].iloc[t] == bars.index[t + h]


def test_meta_labels_follow_the_signal_side(h1_recent: pd.DataFrame) -> None:
    bars = h1_recent.iloc[:1500]
    cfg = BarrierConfig(horizon_bars=12)
    # a plain crossover strategy: long when close > SMA(20), short when below, flat in between
    sma = bars["close"].rolling(20).mean()
    side = np.sign(bars["close"] - sma).fillna(0.0)
    side[(bars["close"] - sma).abs() < 0.0003] = 0.0
    got = meta_labels(bars, side, cfg)
    full = triple_barrier_labels(bars, cfg)
    longs, shorts, flat = side == 1, side == -1, side == 0
    assert longs.any() and shorts.any() and flat.any()
    np.testing.assert_array_equal(got["label"][longs], full["long"][longs])
    np.testing.assert_array_equal(got["label"][shorts], full["short"][shorts])
    assert got["label"][flat].isna().all()
    pd.testing.assert_series_equal(got["t1"][longs], full["long_t1"][longs], check_names=False)
    pd.testing.assert_series_equal(got["t1"][shorts], full["short_t1"][shorts], check_names=False)


def test_config_validation() -> None:
    with pytest.raises(InvalidInput):
        BarrierConfig(horizon_bars=0)
    with pytest.raises(InvalidInput):
        BarrierConfig(tp_pips=10)
    with pytest.raises(InvalidInput):
        BarrierConfig(tp_atr=-1)
    assert BarrierConfig(tp_atr=2, sl_atr=1).reward_risk == 2.0
