"""Backtest speed: ``noxfx.backtest`` next to vectorbt's ``Portfolio.from_signals``.

Run: ``.venv/bin/python benchmarks/bench_backtest.py`` (needs ../shared/data beside the repo and
vectorbt, the ``bench`` extra).

Bars: the real EURUSD 1m bars of January-February 2017 (HistData) repeated to 1,000,000 bars by
replaying their de-meaned log returns from the last close (prices stay positive and never drift
away), each bar's open/high/low kept in the same proportion to its close as in the real bar.

Strategy: SMA(10)/SMA(30) crossover with a 0.2 % stop and a 0.4 % target, both relative to the
fill, 0.1 lot, no costs. Signals are acted on at the next bar's open in both engines (vectorbt
gets the signals shifted by one bar and ``price=open``, ``stop_entry_price="price"``).

1. Single run on 1,000,000 bars. Ours: ``simulate()`` end to end (validation, rollovers, kernel,
   trades DataFrame, equity/drawdown Series). vectorbt: ``from_signals`` + ``trades.count()``.
   Two variants: long-only (entry on the cross up, exit on the cross down) and long/short
   reversal.
2. 100 combinations (fast 5..14 x slow 20..65 step 5) on 100,000 bars: ours through
   ``simulate_batch`` (one parallel numba call), vectorbt through one ``from_signals`` call on
   100 columns. Signal matrices are built once, outside the timings, for both.

Best of 3 warm runs (numba compiled first). Prints times, ratios and trade counts; asserts
nothing. Known semantic differences that can change trade counts in the reversal variant:
vectorbt does not check stops on the entry bar, and when a stop is hit on the bar where a
reversal is due it drops the reversal; we execute the reversal at the open first. In the
long-only variant those differences move exit prices, not the number of trades.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import talib

from noxfx.backtest import BacktestConfig, Distance, Signals, simulate, simulate_batch
from noxfx.data.formats import read_file

SHARED = Path(__file__).resolve().parents[1].parent / "shared/data/histdata"
FILES = ("DAT_ASCII_EURUSD_M1_201701.csv.gz", "DAT_ASCII_EURUSD_M1_201702.csv.gz")
STOP, TARGET = 0.002, 0.004


def real_m1() -> pd.DataFrame:
    parts = [read_file(SHARED / f).frame.drop(columns="line") for f in FILES]
    return pd.concat(parts)[["open", "high", "low", "close"]]


def tiled_bars(real: pd.DataFrame, n: int) -> pd.DataFrame:
    """``n`` 1m bars replaying the real bars' de-meaned returns and intrabar shapes."""
    close = real["close"].to_numpy()
    log_ret = np.diff(np.log(close), prepend=np.log(close[0]))
    log_ret -= log_ret.mean()
    reps = math.ceil(n / len(real))
    new_close = close[0] * np.exp(np.cumsum(np.tile(log_ret, reps)[:n]))
    ratio = {c: np.tile(real[c].to_numpy() / close, reps)[:n] for c in ("open", "high", "low")}
    index = pd.date_range("2010-01-04 00:00", periods=n, freq="1min", tz="UTC", name="time")
    frame = pd.DataFrame({c: new_close * r for c, r in ratio.items()}, index=index)
    frame["close"] = new_close
    frame["high"] = frame[["open", "high", "close"]].max(axis=1)
    frame["low"] = frame[["open", "low", "close"]].min(axis=1)
    return frame[["open", "high", "low", "close"]]


def crossings(close: np.ndarray, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    f, s = talib.SMA(close, fast), talib.SMA(close, slow)
    pf, ps = np.r_[np.nan, f[:-1]], np.r_[np.nan, s[:-1]]
    return (f > s) & (pf <= ps), (f < s) & (pf >= ps)


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def shifted(a: np.ndarray) -> np.ndarray:
    """Signal on bar i -> order on bar i+1 (vectorbt acts on the signal's own bar)."""
    return np.r_[np.zeros((1, *a.shape[1:]), dtype=bool), a[:-1]]


CONFIG = BacktestConfig(
    symbol="EURUSD", spread_pips=0.0, lots=0.1, initial_balance=1e9,
    stop_loss=Distance.percent(STOP * 100), take_profit=Distance.percent(TARGET * 100),
)  # fmt: skip


def vbt_run(vbt: Any, bars: pd.DataFrame, sig: dict[str, np.ndarray], **extra: Any) -> Any:
    idx = bars.index
    kwargs = {k: pd.DataFrame(shifted(v), index=idx) if v.ndim == 2 else pd.Series(
        shifted(v), index=idx) for k, v in sig.items()}  # fmt: skip
    return vbt.Portfolio.from_signals(
        bars["close"], price=bars["open"], open=bars["open"], high=bars["high"], low=bars["low"],
        sl_stop=STOP, tp_stop=TARGET, stop_entry_price="price", size=10_000, init_cash=1e12,
        freq="1min", **kwargs, **extra,
    )  # fmt: skip


def single(vbt: Any, bars: pd.DataFrame) -> None:
    up, down = crossings(bars["close"].to_numpy(), 10, 30)
    print(f"1) SMA 10/30, 0.2 % stop, 0.4 % target, {len(bars):,} 1m bars (best of 3, warm)")
    for name, ours_sig, vbt_sig in (
        ("long-only", {"long_entry": up, "long_exit": down},
         {"entries": up, "exits": down}),
        ("long/short", {"long_entry": up, "short_entry": down},
         {"entries": up, "short_entries": down}),
    ):  # fmt: skip
        warm = {k: v[:1000] for k, v in ours_sig.items()}
        simulate(bars.iloc[:1000], Signals(**warm), CONFIG)  # compile / warm
        t_ours, res = best_of(lambda s=ours_sig: simulate(bars, Signals(**s), CONFIG))
        ours_n = res.trades["trade_id"].nunique()

        def run_vbt(s: dict[str, np.ndarray] = vbt_sig) -> int:
            return int(vbt_run(vbt, bars, s).trades.count())

        run_vbt()
        t_vbt, vbt_n = best_of(run_vbt)
        print(
            f"   {name:<10}  ours {t_ours * 1e3:8.1f} ms  vectorbt {t_vbt * 1e3:8.1f} ms  "
            f"ratio {t_vbt / t_ours:6.1f}x  trades ours {ours_n:,} vectorbt {vbt_n:,}"
        )


def batch(vbt: Any, bars: pd.DataFrame) -> None:
    close = bars["close"].to_numpy()
    combos = [(f, s) for f in range(5, 15) for s in range(20, 70, 5)]
    ups, downs = zip(*(crossings(close, f, s) for f, s in combos), strict=True)
    up, down = np.column_stack(ups), np.column_stack(downs)
    signals = Signals(long_entry=up, long_exit=down)
    print(f"2) {len(combos)} combinations (long-only) on {len(bars):,} bars (best of 3, warm)")
    simulate_batch(bars.iloc[:1000], Signals(long_entry=up[:1000], long_exit=down[:1000]), CONFIG)
    t_ours, stats = best_of(lambda: simulate_batch(bars, signals, CONFIG))

    def run_vbt() -> np.ndarray:
        return vbt_run(vbt, bars, {"entries": up, "exits": down}).trades.count().to_numpy()

    run_vbt()
    t_vbt, vbt_counts = best_of(run_vbt)
    ours_counts = stats["trades"].to_numpy().astype(int)
    same = int(np.sum(ours_counts == vbt_counts))
    print(
        f"   ours {t_ours * 1e3:8.1f} ms  vectorbt {t_vbt * 1e3:8.1f} ms  "
        f"ratio {t_vbt / t_ours:6.1f}x  trades ours {ours_counts.sum():,} vectorbt "
        f"{int(vbt_counts.sum()):,} (equal in {same}/{len(combos)} combinations)"
    )


def main() -> None:
    warnings.filterwarnings("ignore")
    import vectorbt as vbt

    real = real_m1()
    single(vbt, tiled_bars(real, 1_000_000))
    batch(vbt, tiled_bars(real, 100_000))


if __name__ == "__main__":
    main()
