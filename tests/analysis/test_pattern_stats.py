"""Chart patterns as trades on real EURUSD H1 bars, checked against a plain Python replay."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from noxfx.analysis.chart_patterns import detect_chart_patterns
from noxfx.analysis.pattern_stats import pattern_trades, summary

SPREAD = 0.00008  # 0.8 pips
HORIZON = 60


def _replay(bars: pd.DataFrame, row: dict[str, object]) -> tuple[int, int, float]:
    """(outcome, exit bar, R before costs) of one trade, bar by bar (stop first on a tie)."""
    sign = 1 if row["side"] == "long" else -1
    b = int(row["bar"])  # type: ignore[call-overload]
    tp, sl = float(row["tp_distance"]), float(row["sl_distance"])  # type: ignore[arg-type]
    entry = bars["open"].iloc[b + 1]
    target, stop = entry + sign * tp, entry - sign * sl
    for i in range(b + 1, b + 1 + HORIZON):
        hi, lo = bars["high"].iloc[i], bars["low"].iloc[i]
        if (lo <= stop) if sign == 1 else (hi >= stop):
            return -1, i, -1.0
        if (hi >= target) if sign == 1 else (lo <= target):
            return 1, i, tp / sl
    last = b + HORIZON
    return 0, last, sign * (bars["close"].iloc[last] - entry) / sl


def test_every_trade_matches_a_bar_by_bar_replay(h1_bars: pd.DataFrame) -> None:
    bars = h1_bars.iloc[-12_000:]
    patterns = detect_chart_patterns(bars)
    rows = pattern_trades(bars, patterns, SPREAD, HORIZON)
    confirmed = [p for p in patterns if p.status == "confirmed"]
    assert 0 < len(rows) <= len(confirmed)
    for row in rows:
        outcome, exit_bar, r = _replay(bars, row)
        assert (row["outcome"], row["exit_bar"]) == (outcome, exit_bar)
        assert math.isclose(row["net_r"], r - SPREAD / row["sl_distance"], abs_tol=1e-9)
        assert row["tp_distance"] > 0 and row["sl_distance"] > 0
        # decided on the breakout bar, so the pattern was known by then
        assert row["time"] == bars.index[row["bar"]]
    stats = summary(rows, tests=20)
    assert stats["trades"] == len(rows)
    assert stats["low_adj"] < stats["low"] <= stats["mean_r"] <= stats["high"] < stats["high_adj"]
    assert np.isclose(stats["mean_r"], np.mean([row["net_r"] for row in rows]))
