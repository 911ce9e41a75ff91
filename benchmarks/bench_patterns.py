"""Pivot analysis speed: zigzag, chart patterns, support/resistance and trend state.

Run: ``.venv/bin/python benchmarks/bench_patterns.py`` (needs ../shared/data beside the repo).
Times 5 years of EURUSD 1h (~31,000 bars) and 1,000,000 bars made by chaining copies of the
real 8 years of EURUSD 1h end to end (each copy rescaled to start at the previous close), warm
(kernels compiled, data in memory), best of N. The peer is a straightforward pandas + Python
zigzag: Wilder ATR with ``ewm`` and a per-bar Python loop over the same rule (checked to give
the same pivots).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from noxfx.analysis.chart_patterns import detect_chart_patterns
from noxfx.analysis.support_resistance import support_resistance
from noxfx.analysis.trend import trend_state
from noxfx.analysis.zigzag import zigzag
from noxfx.data.formats import read_file

SRC = Path(__file__).resolve().parents[1].parent / "shared/data/generic/EURUSD_H1.csv.gz"
COLUMNS = ["open", "high", "low", "close", "volume"]


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm: numba compile / cache load, first-call setup
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def pandas_atr(bars: pd.DataFrame, period: int = 14) -> pd.Series:
    """Wilder ATR with pandas, seeded like TA-Lib (mean of the first ``period`` true ranges)."""
    prev_close = bars["close"].shift()
    tr = pd.concat(
        [bars["high"] - bars["low"], (bars["high"] - prev_close).abs(),
         (bars["low"] - prev_close).abs()], axis=1,
    ).max(axis=1)  # fmt: skip
    seed = tr.iloc[1 : period + 1].mean()
    wilder = pd.concat([pd.Series([seed], index=[bars.index[period]]), tr.iloc[period + 1 :]])
    return wilder.ewm(alpha=1 / period, adjust=False).mean().reindex(bars.index)


def _best_after(bars: pd.DataFrame, leg: int, first: int, last: int) -> tuple[int, float]:
    """Lowest low (up-leg) / highest high (down-leg) of bars ``first..last`` with pandas."""
    side = bars["low"] if leg > 0 else bars["high"]
    window = side.iloc[first : last + 1]
    if window.empty:
        return -1, leg * math.inf
    pos = int(window.to_numpy().argmin() if leg > 0 else window.to_numpy().argmax())
    return first + pos, float(window.iloc[pos])


def pandas_zigzag(bars: pd.DataFrame, threshold: float = 2.0, period: int = 14) -> list[tuple]:
    """The peer: pandas ATR + a plain Python loop over the bars (the same zigzag rule)."""
    atr = pandas_atr(bars, period)
    pivots: list[tuple] = []
    leg, ext_i, ext_p, opp_i, opp_p = 0, -1, math.nan, -1, math.nan
    hi_i = lo_i = -1
    highs, lows = bars["high"].tolist(), bars["low"].tolist()
    for t, (high, low, a) in enumerate(zip(highs, lows, atr.tolist(), strict=True)):
        if math.isnan(a):
            continue
        if leg == 0:  # before the first pivot: running highest high / lowest low
            if hi_i < 0 or high > highs[hi_i]:
                hi_i = t
            if lo_i < 0 or low < lows[lo_i]:
                lo_i = t
            if hi_i != lo_i and highs[hi_i] - lows[lo_i] >= threshold * a:
                leg = 1 if lo_i < hi_i else -1
                first = (lo_i, lows[lo_i]) if leg > 0 else (hi_i, highs[hi_i])
                pivots.append((first[0], first[1], -leg, t))
                ext_i = hi_i if leg > 0 else lo_i
                ext_p = highs[ext_i] if leg > 0 else lows[ext_i]
                opp_i, opp_p = _best_after(bars, leg, ext_i + 1, t)
            continue
        extreme, reverse = (high, low) if leg > 0 else (low, high)
        if leg * (extreme - ext_p) > 0:
            ext_i, ext_p, opp_i, opp_p = t, extreme, -1, leg * math.inf
            continue
        if leg * (reverse - opp_p) < 0:
            opp_i, opp_p = t, reverse
        if leg * (ext_p - opp_p) >= threshold * a:
            pivots.append((ext_i, ext_p, leg, t))
            leg, ext_i, ext_p = -leg, opp_i, opp_p
            opp_i, opp_p = _best_after(bars, leg, ext_i + 1, t)
    return pivots


def million_bars(bars: pd.DataFrame, n: int = 1_000_000) -> pd.DataFrame:
    """Copies of ``bars`` chained end to end (each rescaled to open at the last close)."""
    prices = bars[["open", "high", "low", "close"]].to_numpy()
    chunks: list[np.ndarray] = []
    level = 1.0
    while sum(len(c) for c in chunks) < n:
        chunks.append(prices * level)
        level *= prices[-1, 3] / prices[0, 0]
    data = np.concatenate(chunks)[:n]
    index = pd.date_range("1990-01-01", periods=n, freq="h", tz="UTC", name="time")
    frame = pd.DataFrame(data, index=index, columns=["open", "high", "low", "close"])
    frame["volume"] = 1.0
    return frame


def run(name: str, bars: pd.DataFrame, repeat: int) -> None:
    ours = {
        "zigzag (ATR + numba kernel)": lambda: zigzag(bars),
        "detect_chart_patterns (all history)": lambda: detect_chart_patterns(bars),
        "support_resistance": lambda: support_resistance(bars, "EURUSD"),
        "trend_state": lambda: trend_state(bars),
    }
    times = {label: best_ms(fn, repeat) for label, fn in ours.items()}
    peer = best_ms(lambda: pandas_zigzag(bars), max(1, repeat // 5))
    z = zigzag(bars)
    ours_pivots = list(zip(z.bar.tolist(), z.price.tolist(), z.kind.tolist(),
                           z.confirmed_bar.tolist(), strict=True))  # fmt: skip
    same = ours_pivots == pandas_zigzag(bars)
    n_patterns = len(detect_chart_patterns(bars))
    print(f"\n{name}: {len(bars):,} bars, {len(z):,} pivots, {n_patterns:,} patterns")
    print(f"{'operation':<48}{'ms':>10}")
    for label, ms in times.items():
        print(f"{'noxfx ' + label:<48}{ms:>10.1f}")
    total = sum(times.values())
    print(f"{'noxfx all four':<48}{total:>10.1f}")
    print(f"{'peer: pandas ATR + Python-loop zigzag':<48}{peer:>10.1f}")
    print(f"zigzag speed-up vs peer: {peer / times['zigzag (ATR + numba kernel)']:.0f}x; "
          f"same pivots as the peer: {same}")  # fmt: skip


def main() -> None:
    bars = read_file(SRC).frame.drop(columns="line")
    bars = bars.loc[bars["close"] > 0, COLUMNS]
    run("5 years of EURUSD 1h", bars.loc["2015-12-01":"2020-11-30"], repeat=20)
    run("1,000,000 bars (EURUSD 1h chained)", million_bars(bars), repeat=3)


if __name__ == "__main__":
    main()
