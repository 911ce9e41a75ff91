"""Optimiser speed: 100 parameter combinations on 100,000 bars through ``noxfx.backtest``'s
optimiser, next to vectorbt's column-wise run of the same combinations.

Run: ``.venv/bin/python benchmarks/bench_optimize.py`` (needs ../shared/data beside the repo and
vectorbt, the ``bench`` extra; optuna is not needed).

Bars: the real EURUSD 1m bars of January-February 2017 (HistData) extended to 100,000 bars by
replaying their de-meaned log returns from the last close, each bar's open/high/low kept in the
same proportion to its close (the same construction as ``bench_backtest.py``).

Strategy: long-only SMA(fast)/SMA(slow) crossover (entry on the cross up, exit on the cross
down) with a 0.2 % stop and a 0.4 % target from the fill, 0.1 lot, no costs; fast 5..14 x slow
20..65 step 5 = 100 combinations. Signals act at the next bar's open in both engines (vectorbt
gets them shifted by one bar with ``price=open``).

Rows (best of 3 warm runs, numba compiled first):

* ours, kernel path: :func:`noxfx.backtest.sweep.evaluate_combinations` with a Python strategy
  returning precomputed signal arrays: grouping, one parallel numba call, per-combination
  metrics (Sharpe from daily equity, per-trade R, ...). Compare with vectorbt's
  ``from_signals`` on prebuilt signal matrices (trade counts; and with ``sharpe_ratio()``).
* ours, Python strategy: the same with signals computed per combination by TA-Lib in
  ``signals()``. Compare with vectorbt ``MA.run`` x 2 + crossings + ``from_signals``.
* ours, declarative template: signals from the formula language (one parse + evaluation per
  combination), the path ``noxfx optimize`` takes.
* ours, ``optimize()`` end to end: the declarative path + the Deflated Sharpe Ratio + PBO by
  CSCV over all 12,870 splits + the full re-run of the winner.

Prints times and ratios; asserts nothing.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

# the 1m bar builder and SMA crossings are shared with the engine benchmark beside this file
from bench_backtest import STOP, TARGET, crossings, real_m1, tiled_bars  # type: ignore[import-not-found]

from noxfx.backtest import BacktestConfig, Signals
from noxfx.backtest.optimize import optimize, space_for
from noxfx.backtest.parameters import Parameter
from noxfx.backtest.strategy import Amount, Exits, Strategy, TargetLevel
from noxfx.backtest.strategy_spec import strategy_from_dict
from noxfx.backtest.sweep import evaluate_combinations

FASTS, SLOWS = tuple(range(5, 15)), tuple(range(20, 70, 5))
COMBOS = [{"fast": f, "slow": s} for f in FASTS for s in SLOWS]
CONFIG = BacktestConfig(symbol="EURUSD", spread_pips=0.0, lots=0.1, initial_balance=1e9)
EXITS = Exits(
    stop=Amount("percent", STOP * 100),
    targets=(TargetLevel(Amount("percent", TARGET * 100)),),
)
SPEC = {
    "name": "bench_sma_cross",
    "parameters": {"fast": {"default": 5, "min": 5, "max": 14, "step": 1},
                   "slow": {"default": 20, "min": 20, "max": 65, "step": 5}},
    "direction": "long",
    "entry_long": "cross_over(sma(close, fast), sma(close, slow))",
    "exit_long": "cross_under(sma(close, fast), sma(close, slow))",
    "exits": {"stop": {"percent": STOP * 100}, "target": {"percent": TARGET * 100}},
}  # fmt: skip


class TalibCross(Strategy):
    """SMA cross computed with TA-Lib in Python (optionally from a cache of arrays)."""

    name = "talib_cross"
    direction = "long"
    exits = EXITS
    parameters = {  # noqa: RUF012
        "fast": Parameter("fast", 5, 5, 14, 1),
        "slow": Parameter("slow", 20, 20, 65, 5),
    }

    def __init__(self, cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] | None = None):
        self.cache = cache
        super().__init__()

    def signals(self, bars: pd.DataFrame, params: dict[str, int | float]) -> Signals:
        key = (int(params["fast"]), int(params["slow"]))
        if self.cache is not None:
            up, down = self.cache[key]
        else:
            up, down = crossings(bars["close"].to_numpy(), *key)
        return Signals(long_entry=up, long_exit=down)


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


def vbt_portfolio(vbt: Any, bars: pd.DataFrame, up: np.ndarray, down: np.ndarray) -> Any:
    idx = bars.index
    return vbt.Portfolio.from_signals(
        bars["close"], entries=pd.DataFrame(shifted(up), index=idx),
        exits=pd.DataFrame(shifted(down), index=idx), price=bars["open"], open=bars["open"],
        high=bars["high"], low=bars["low"], sl_stop=STOP, tp_stop=TARGET,
        stop_entry_price="price", size=10_000, init_cash=1e12, freq="1min",
    )  # fmt: skip


def vbt_end_to_end(vbt: Any, bars: pd.DataFrame) -> np.ndarray:
    close = bars["close"]
    fast = vbt.MA.run(close, window=[c["fast"] for c in COMBOS]).ma.to_numpy()
    slow = vbt.MA.run(close, window=[c["slow"] for c in COMBOS]).ma.to_numpy()
    pf_, ps_ = np.roll(fast, 1, axis=0), np.roll(slow, 1, axis=0)
    pf_[0], ps_[0] = np.nan, np.nan
    up, down = (fast > slow) & (pf_ <= ps_), (fast < slow) & (pf_ >= ps_)
    pf = vbt_portfolio(vbt, bars, up, down)
    return np.asarray(pf.trades.count().to_numpy())


def line(name: str, seconds: float, extra: str = "") -> None:
    print(f"   {name:<52} {seconds * 1e3:8.1f} ms {extra}")


def main() -> None:
    warnings.filterwarnings("ignore")
    import vectorbt as vbt

    bars = tiled_bars(real_m1(), 100_000)
    close = bars["close"].to_numpy()
    cache = {(c["fast"], c["slow"]): crossings(close, c["fast"], c["slow"]) for c in COMBOS}
    up = np.column_stack([cache[(c["fast"], c["slow"])][0] for c in COMBOS])
    down = np.column_stack([cache[(c["fast"], c["slow"])][1] for c in COMBOS])
    template = strategy_from_dict(SPEC)
    cached, talib_strategy = TalibCross(cache), TalibCross()
    evaluate_combinations(cached, bars, COMBOS[:2], CONFIG)  # compile / warm

    print(f"{len(COMBOS)} combinations (long-only SMA cross, 0.2 % stop, 0.4 % target) on "
          f"{len(bars):,} 1m bars, best of 3 warm runs")  # fmt: skip
    t_kernel, sweep = best_of(lambda: evaluate_combinations(cached, bars, COMBOS, CONFIG))
    t_python, _ = best_of(lambda: evaluate_combinations(talib_strategy, bars, COMBOS, CONFIG))
    t_template, sweep_t = best_of(lambda: evaluate_combinations(template, bars, COMBOS, CONFIG))
    space = space_for(template)
    t_opt, result = best_of(lambda: optimize(template, bars, space, CONFIG, min_trades=1))

    def vbt_prebuilt(sharpe: bool = False) -> np.ndarray:
        pf = vbt_portfolio(vbt, bars, up, down)
        if sharpe:
            pf.sharpe_ratio()
        return np.asarray(pf.trades.count().to_numpy())

    vbt_prebuilt(True)
    t_vbt, vbt_counts = best_of(vbt_prebuilt)
    t_vbt_sharpe, _ = best_of(lambda: vbt_prebuilt(True))
    vbt_end_to_end(vbt, bars)
    t_vbt_e2e, _ = best_of(lambda: vbt_end_to_end(vbt, bars))

    ours = sweep.metrics["trades"].to_numpy()
    same = int(np.sum(ours == vbt_counts))
    assert (sweep_t.metrics["trades"].to_numpy() == ours).all()
    print("1) prebuilt signals")
    line("ours: evaluate_combinations (kernel path)", t_kernel)
    line("vectorbt: from_signals (100 columns) + trades.count", t_vbt,
         f"ratio {t_vbt / t_kernel:5.1f}x")  # fmt: skip
    line("vectorbt: the same + sharpe_ratio per column", t_vbt_sharpe,
         f"ratio {t_vbt_sharpe / t_kernel:5.1f}x")  # fmt: skip
    print(f"   trades ours {ours.sum():,} vectorbt {int(vbt_counts.sum()):,} "
          f"(equal in {same}/{len(COMBOS)} combinations)")  # fmt: skip
    print("2) signals computed per combination")
    line("ours: Python strategy (TA-Lib in signals())", t_python)
    line("vectorbt: MA.run x 2 + crossings + from_signals", t_vbt_e2e,
         f"ratio {t_vbt_e2e / t_python:5.1f}x")  # fmt: skip
    line(
        "ours: declarative template (formula language)",
        t_template,
        f"({(t_template - t_kernel) / len(COMBOS) * 1e3:.1f} ms of signals per combination)",
    )
    print("3) the full optimisation")
    line(
        "ours: optimize() grid + DSR + PBO (12,870 splits)",
        t_opt,
        f"DSR {result.deflated_sharpe.dsr:.3f}, PBO {result.pbo.pbo:.3f}",
    )


if __name__ == "__main__":
    main()
