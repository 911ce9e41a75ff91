"""Walk-forward analysis: optimise on each in-sample window, trade the next out-of-sample window
with the parameters chosen, and stitch the out-of-sample results.

Layout of ``n`` bars into ``windows`` out-of-sample (OOS) windows of ``L`` bars each::

    L = n // (windows + in_sample_ratio)          IS0 = n - windows * L bars (about ratio x L)
    rolling:  IS_k = [k L, k L + IS0)              OOS_k = [k L + IS0, k L + IS0 + L)
    anchored: IS_k = [0, k L + IS0)                OOS_k = the same

so the OOS windows tile the end of the data without gaps or overlaps, and every OOS window
starts right after its IS window ends. Indicators are warmed up on the bars before each window
(signals are computed on all bars up to the window's end; nothing after it is read). Each OOS
window is simulated on its own bars, starting from the equity the previous window ended with,
and positions are closed at its last bar; the stitched equity is those runs end to end.
Limitation: exit distances in ATR multiples are computed by the engine from the window's own
bars, so entries in the first ATR-period bars of a window have no ATR stop (and are skipped
when a stop is required).

Walk-forward efficiency (Pardo): annualised OOS return / annualised IS return (CAGR), per window
and overall (stitched OOS CAGR / mean IS CAGR of the chosen parameters); NaN when the IS return
is not positive. Values near or above 0.5-1 suggest the optimisation finds something that
persists; values near 0 or negative suggest it fits noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from noxfx.backtest.config import BacktestConfig
from noxfx.backtest.metrics import Metrics, compute_metrics
from noxfx.backtest.optimize import Method, ParamRange, Progress, optimize
from noxfx.backtest.strategy import Params, Strategy
from noxfx.errors import InsufficientData, InvalidInput

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class WindowBounds:
    """Bar positions ``[start, end)`` of one in-sample and its out-of-sample window."""

    is_start: int
    is_end: int
    oos_start: int
    oos_end: int


def window_bounds(
    n_bars: int, windows: int, in_sample_ratio: float = 3.0, anchored: bool = False
) -> list[WindowBounds]:
    """The walk-forward layout (see the module docstring)."""
    if windows < 1:
        raise InvalidInput("walk-forward needs at least 1 window.")
    if not in_sample_ratio > 0:
        raise InvalidInput("in_sample_ratio must be positive (e.g. 3: IS is 3 x OOS).")
    oos = int(n_bars // (windows + in_sample_ratio))
    if oos < 2:
        raise InsufficientData(
            f"{n_bars} bars are too few for {windows} walk-forward windows at IS ratio "
            f"{in_sample_ratio}."
        )
    first_is = n_bars - windows * oos
    out = []
    for k in range(windows):
        oos_start = first_is + k * oos
        is_start = 0 if anchored else k * oos
        out.append(WindowBounds(is_start, oos_start, oos_start, oos_start + oos))
    return out


@dataclass(frozen=True)
class WalkForwardResult:
    """Outcome of :func:`walk_forward`.

    ``windows``: one row per window (times are UTC bar opens; ``is_*`` of the chosen parameters
    on the IS window, ``oos_*`` of the OOS run; ``efficiency`` = oos_cagr / is_cagr).
    ``equity``: stitched OOS equity (account currency), ``trades``: the OOS trades,
    ``position``: signed open lots at each OOS bar, ``metrics``: statistics of the stitched OOS
    run. ``efficiency``: overall walk-forward efficiency. ``params``: the parameters chosen per
    window.
    """

    strategy: str
    objective: str
    anchored: bool
    windows: pd.DataFrame
    equity: pd.Series
    trades: pd.DataFrame
    position: pd.Series
    metrics: Metrics
    efficiency: float
    params: list[Params]

    def as_dict(self) -> dict[str, Any]:
        rows = self.windows.astype(object).where(self.windows.notna(), None)
        return {
            "strategy": self.strategy,
            "objective": self.objective,
            "anchored": self.anchored,
            "efficiency": self.efficiency if math.isfinite(self.efficiency) else None,
            "oos_metrics": self.metrics.as_dict(),
            "windows": rows.to_dict("records"),
        }


def _efficiency(oos: float, is_: float) -> float:
    if not (math.isfinite(oos) and math.isfinite(is_)) or is_ <= 0:
        return math.nan
    return oos / is_


def walk_forward(
    strategy: Strategy,
    bars: pd.DataFrame,
    space: Mapping[str, ParamRange] | None = None,
    config: BacktestConfig | None = None,
    *,
    windows: int = 5,
    in_sample_ratio: float = 3.0,
    anchored: bool = False,
    method: Method = "grid",
    trials: int | None = None,
    objective: str = "sharpe",
    min_trades: int = 10,
    seed: int = 0,
    progress: Progress | None = None,
) -> WalkForwardResult:
    """Walk-forward optimisation of ``strategy`` over ``bars`` (see the module docstring).

    ``space``, ``method``, ``trials``, ``objective`` and ``min_trades`` are passed to
    :func:`~noxfx.backtest.optimize.optimize` for each IS window. ``progress(done, total)``
    counts windows.
    """
    config = config or BacktestConfig()
    bounds = window_bounds(len(bars), windows, in_sample_ratio, anchored)
    balance = config.initial_balance
    rows: list[dict[str, Any]] = []
    equities: list[pd.Series] = []
    trades: list[pd.DataFrame] = []
    positions: list[pd.Series] = []
    chosen: list[Params] = []
    id_offset = 0  # trade ids restart in every window's run: shift them so they stay unique
    index = bars.index
    for k, b in enumerate(bounds):
        is_bars = bars.iloc[: b.is_end]
        opt = optimize(
            strategy, is_bars, space, config, method=method, trials=trials, objective=objective,
            min_trades=min_trades, seed=seed + k, trade_from=index[b.is_start],
        )  # fmt: skip
        params = opt.best_params
        oos_config = replace(config, initial_balance=balance)
        run = strategy.backtest(
            bars.iloc[: b.oos_end], params, oos_config, trade_from=index[b.oos_start]
        )
        m = run.metrics
        is_m = opt.best.metrics
        rows.append(
            {
                "window": k + 1,
                "is_start": index[b.is_start],
                "is_end": index[b.is_end - 1],
                "oos_start": index[b.oos_start],
                "oos_end": index[b.oos_end - 1],
                "params": dict(params),
                "is_objective": opt.best_value,
                "is_cagr": is_m.cagr,
                "is_sharpe": is_m.sharpe,
                "is_trades": is_m.trades,
                "oos_cagr": m.cagr,
                "oos_sharpe": m.sharpe,
                "oos_net_profit": m.net_profit,
                "oos_trades": m.trades,
                "oos_max_drawdown": m.max_drawdown,
                "efficiency": _efficiency(m.cagr, is_m.cagr),
                "is_dsr": opt.deflated_sharpe.dsr,
                "is_pbo": opt.pbo.pbo if opt.pbo is not None else math.nan,
                "n_trials": opt.n_trials,
            }
        )
        equities.append(run.equity)
        positions.append(run.position)
        window_trades = run.trades.assign(window=k + 1)
        if len(window_trades):
            window_trades["trade_id"] = window_trades["trade_id"] + id_offset
            id_offset = int(window_trades["trade_id"].max()) + 1
        trades.append(window_trades)
        chosen.append(dict(params))
        balance = float(run.equity.iloc[-1])
        if progress is not None:
            progress(k + 1, len(bounds))
    equity = pd.concat(equities)
    all_trades = pd.concat(trades, ignore_index=True)
    position = pd.concat(positions)
    metrics = compute_metrics(equity, all_trades, config.initial_balance, position=position)
    table = pd.DataFrame(rows)
    is_cagr = table["is_cagr"].to_numpy(dtype=np.float64)
    mean_is = float(np.nanmean(is_cagr)) if np.isfinite(is_cagr).any() else math.nan
    return WalkForwardResult(
        strategy=strategy.name,
        objective=objective,
        anchored=anchored,
        windows=table,
        equity=equity.rename("equity"),
        trades=all_trades,
        position=position.rename("position"),
        metrics=metrics,
        efficiency=_efficiency(metrics.cagr, mean_is),
        params=chosen,
    )


__all__ = ["WalkForwardResult", "WindowBounds", "walk_forward", "window_bounds"]
