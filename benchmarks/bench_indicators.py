"""Indicator speed on 1,000,000 bars: ``noxfx.analysis.indicators.compute`` next to its peers.

Run: ``.venv/bin/python benchmarks/bench_indicators.py`` (needs ../shared/data beside the repo).

Bars: the real EURUSD H1 history (50k bars) repeated to 1M bars by replaying its de-meaned log
returns from the last close (so prices stay positive and never drift away), with each bar's
open/high/low kept in the same proportion to its close as in the real bar.

Peers: the raw TA-Lib call on ready float64 arrays for TA-Lib-backed indicators (so the ratio is
our wrapper's overhead: spec parsing, column extraction, building the result frame; target
<= 1.3x), and a straightforward pandas implementation for Supertrend (rolling ATR + the usual
per-bar band loop) and Ichimoku (rolling max/min + shift). Best-of-N wall times, numba warmed up
first. Timings are machine dependent; this prints them, it asserts nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import talib

from noxfx.analysis import indicators as ind

SRC = Path(__file__).resolve().parents[1].parent / "shared/data/generic/EURUSD_H1.csv.gz"
N_BARS = 1_000_000


def load_real_bars() -> pd.DataFrame:
    raw = pd.read_csv(SRC)
    raw.columns = ["time", "open", "high", "low", "close", "volume"]
    raw = raw[raw["close"] > 0]
    index = pd.DatetimeIndex(pd.to_datetime(raw["time"]), name="time").tz_localize("UTC")
    return pd.DataFrame(
        {c: raw[c].to_numpy(dtype=np.float64) for c in raw.columns[1:]}, index=index
    )


def million_bars(real: pd.DataFrame, n: int = N_BARS) -> pd.DataFrame:
    """Tile the real bars' returns and intrabar shapes to ``n`` bars (see module docstring)."""
    close = real["close"].to_numpy()
    log_ret = np.diff(np.log(close), prepend=np.log(close[0]))
    log_ret -= log_ret.mean()
    reps = math.ceil(n / len(real))
    tiled_ret = np.tile(log_ret, reps)[:n]
    new_close = close[0] * np.exp(np.cumsum(tiled_ret))
    frame = {"close": new_close}
    for col in ("open", "high", "low"):
        frame[col] = new_close * np.tile(real[col].to_numpy() / close, reps)[:n]
    frame["volume"] = np.tile(real["volume"].to_numpy(), reps)[:n]
    index = pd.date_range("2000-01-03", periods=n, freq="h", tz="UTC", name="time")
    bars = pd.DataFrame(frame, index=index)[["open", "high", "low", "close", "volume"]]
    assert (bars[["open", "high", "low", "close"]] > 0).all().all()
    return bars


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm: numba compile / cache load, TA-Lib look-back cache, page faults
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def pandas_supertrend(bars: pd.DataFrame, period: int = 10, mult: float = 3.0) -> pd.DataFrame:
    """The usual pandas recipe: Wilder ATR with ewm, then a per-bar loop for the ratchet.

    A speed peer only: ewm seeds the ATR with the first true range instead of TA-Lib's mean of
    the first ``period`` ones, so its first few hundred values differ slightly from ours.
    """
    h, lo, c = bars["high"], bars["low"], bars["close"]
    tr = pd.concat([h - lo, (h - c.shift()).abs(), (lo - c.shift()).abs()], axis=1).max(axis=1)
    atr = tr.ewm(alpha=1 / period, adjust=False).mean()
    hl2 = (h + lo) / 2
    upper = (hl2 + mult * atr).to_numpy().copy()
    lower = (hl2 - mult * atr).to_numpy().copy()
    close = c.to_numpy()
    direction = np.ones(len(bars))
    line = np.full(len(bars), np.nan)
    for i in range(1, len(bars)):
        if close[i - 1] > lower[i - 1]:
            lower[i] = max(lower[i], lower[i - 1])
        if close[i - 1] < upper[i - 1]:
            upper[i] = min(upper[i], upper[i - 1])
        if direction[i - 1] == -1 and close[i] > upper[i - 1]:
            direction[i] = 1
        elif direction[i - 1] == 1 and close[i] < lower[i - 1]:
            direction[i] = -1
        else:
            direction[i] = direction[i - 1]
        line[i] = lower[i] if direction[i] == 1 else upper[i]
    return pd.DataFrame({"line": line, "direction": direction}, index=bars.index)


def pandas_ichimoku(bars: pd.DataFrame) -> pd.DataFrame:
    h, lo = bars["high"], bars["low"]

    def mid(n: int) -> pd.Series:
        return (h.rolling(n).max() + lo.rolling(n).min()) / 2

    tenkan, kijun = mid(9), mid(26)
    return pd.DataFrame(
        {
            "tenkan": tenkan,
            "kijun": kijun,
            "span_a": ((tenkan + kijun) / 2).shift(26),
            "span_b": mid(52).shift(26),
            "chikou": bars["close"],
        }
    )


def main() -> None:
    bars = million_bars(load_real_bars())
    h, lo, c, v = (bars[k].to_numpy() for k in ("high", "low", "close", "volume"))
    talib_peers: dict[str, tuple[str, Callable[[], object]]] = {
        "SMA(20)": ("sma:20", lambda: talib.SMA(c, 20)),
        "EMA(20)": ("ema:20", lambda: talib.EMA(c, 20)),
        "RSI(14)": ("rsi:14", lambda: talib.RSI(c, 14)),
        "MACD(12,26,9)": ("macd", lambda: talib.MACD(c, 12, 26, 9)),
        "BBANDS(20,2)": ("bbands:20,2", lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0)),
        "ATR(14)": ("atr:14", lambda: talib.ATR(h, lo, c, 14)),
        "ADX(14)": ("adx:14", lambda: talib.ADX(h, lo, c, 14)),
        "STOCH(14,3,3)": ("stoch", lambda: talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)),
        "CCI(20)": ("cci:20", lambda: talib.CCI(h, lo, c, 20)),
        "OBV": ("obv", lambda: talib.OBV(c, v)),
    }
    rows: list[tuple[str, float, float, str]] = []
    for label, (spec, peer) in talib_peers.items():
        ours = best_ms(lambda spec=spec: ind.compute(bars, [spec]), repeat=15)
        rows.append((label, ours, best_ms(peer, repeat=15), "TA-Lib"))
    rows.append(
        (
            "Supertrend(10,3)",
            best_ms(lambda: ind.compute(bars, ["supertrend:10,3"]), repeat=7),
            best_ms(lambda: pandas_supertrend(bars), repeat=2),
            "pandas + loop",
        )
    )
    if hasattr(talib, "SUPERTREND"):  # TA-Lib builds with the 0.6 additions have their own
        rows.append(
            (
                "Supertrend(10,3)",
                best_ms(lambda: ind.compute(bars, ["supertrend:10,3"]), repeat=7),
                best_ms(lambda: talib.SUPERTREND(h, lo, c, 10, 3.0), repeat=7),
                "TA-Lib SUPERTREND",
            )
        )
    rows.append(
        (
            "Ichimoku(9,26,52)",
            best_ms(lambda: ind.compute(bars, ["ichimoku"]), repeat=7),
            best_ms(lambda: pandas_ichimoku(bars), repeat=7),
            "pandas rolling",
        )
    )
    everything = [e.name for e in ind.indicator_specs()]
    all_ms = best_ms(lambda: ind.compute(bars, everything), repeat=2)

    print(f"{len(bars):,} bars (EURUSD H1 returns replayed), best-of-N wall time")
    print(f"{'indicator':<20}{'ours (ms)':>11}{'peer (ms)':>11}{'ratio':>8}  peer")
    for label, ours, peer, peer_name in rows:
        print(f"{label:<20}{ours:>11.2f}{peer:>11.2f}{ours / peer:>8.2f}  {peer_name}")
    worst = max(ours / peer for _, ours, peer, name in rows if name == "TA-Lib")
    verdict = "met" if worst <= 1.3 else "NOT met"
    print(f"worst TA-Lib wrapper ratio: {worst:.2f} (target <= 1.3: {verdict})")
    n_cols = len(ind.column_names(everything))
    print(f"whole catalogue ({len(everything)} indicators, {n_cols} columns): {all_ms:,.0f} ms")


if __name__ == "__main__":
    main()
