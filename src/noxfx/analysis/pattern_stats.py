"""Chart patterns as trades: the event study behind ``scripts/pattern_report.py``.

For every chart pattern confirmed by a breakout, the trade the pattern suggests: decided at the
close of the breakout bar (``status_bar``), entered at the next bar's open, towards the
measured-move target, with the stop at the pattern's invalidation line at the breakout bar (both
kept as distances from that close), ended by the first barrier touched (a bar touching both is
the stop) or after ``horizon`` bars at the close
(:func:`~noxfx.analysis.barrier_nb.triple_barrier_nb`). The spread (price units) is charged
once per trade, in R = spread / stop distance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from noxfx.analysis.barrier_nb import triple_barrier_nb
from noxfx.analysis.chart_patterns import ChartPattern

TARGET = 1


def pattern_trades(bars: pd.DataFrame, patterns: list[ChartPattern], spread: float,
                   horizon: int) -> list[dict[str, Any]]:  # fmt: skip
    """One row per breakout-confirmed pattern (see the module docstring): ``type``, ``side``,
    ``bar``/``time`` (the breakout bar), ``tp_distance``/``sl_distance`` (price), ``outcome``
    (1 target, -1 stop, 0 timeout), ``exit_bar``, ``target_first``, ``break_even`` (the
    target-first rate that pays the spread at these distances) and ``net_r`` (after the
    spread). ``spread``: price units; ``horizon``: bars."""
    o, h, lo, c = (bars[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close"))
    n = len(c)
    rows: list[dict[str, Any]] = []
    pending = [p for p in patterns if p.status == "confirmed" and p.status_bar is not None]
    while pending:  # bars hold at most one trade per side and pass; collisions go to the next
        taken: dict[tuple[int, int], ChartPattern] = {}
        rest: list[ChartPattern] = []
        for p in pending:
            b = int(p.status_bar)  # type: ignore[arg-type]
            side = 1 if p.target > c[b] else -1
            if (b, side) in taken:
                rest.append(p)
            else:
                taken[(b, side)] = p
        for side in (1, -1):
            tp, sl = np.full(n, np.nan), np.full(n, np.nan)
            chosen = {b: p for (b, s), p in taken.items() if s == side}
            for b, p in chosen.items():
                tp[b] = side * (p.target - c[b])
                sl[b] = side * (c[b] - p.invalidation_at(b))
            outcome, exit_pos, exit_r = triple_barrier_nb(o, h, lo, c, tp, sl, horizon, side)
            for b, p in chosen.items():
                if not (tp[b] > 0 and sl[b] > 0) or outcome[b] < -1:
                    continue  # target passed, close beyond the invalidation line, or data ends
                rows.append({
                    "type": p.type, "side": "long" if side == 1 else "short", "bar": b,
                    "time": bars.index[b], "tp_distance": float(tp[b]),
                    "sl_distance": float(sl[b]), "outcome": int(outcome[b]),
                    "exit_bar": int(exit_pos[b]),
                    "target_first": int(outcome[b] == TARGET),
                    "break_even": (sl[b] + spread) / (tp[b] + sl[b]),
                    "net_r": float(exit_r[b]) - spread / sl[b],
                })  # fmt: skip
        pending = rest
    return rows


def summary(rows: list[dict[str, Any]], tests: int = 1) -> dict[str, Any]:
    """Trades, target-first rate, mean break-even, mean net R with its 95 % interval and the
    interval Bonferroni-adjusted for ``tests`` comparisons."""
    from scipy.stats import norm

    r = np.array([x["net_r"] for x in rows])
    n = len(r)
    mean = float(r.mean()) if n else math.nan
    se = float(r.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    z_adj = float(norm.ppf(1 - 0.025 / tests))
    return {
        "trades": n,
        "target_first": float(np.mean([x["target_first"] for x in rows])) if n else math.nan,
        "break_even": float(np.mean([x["break_even"] for x in rows])) if n else math.nan,
        "mean_r": mean,
        "low": mean - 1.96 * se,
        "high": mean + 1.96 * se,
        "low_adj": mean - z_adj * se,
        "high_adj": mean + z_adj * se,
    }


#: Bars a pattern trade may last before it is closed at the market (the report's default).
DEFAULT_HORIZON = 100


def type_history(
    bars: pd.DataFrame,
    spread: float,
    *,
    types: set[str] | None = None,
    horizon: int = DEFAULT_HORIZON,
) -> dict[str, dict[str, Any]]:
    """Per pattern type (all, or ``types``), :func:`summary` of its breakout trades on ``bars``.

    Only trades that ended within ``bars`` count, so nothing after the last bar is used.
    Rounded for display; ``trades`` 0 means the type never broke out here.
    """
    from noxfx.analysis.chart_patterns import detect_chart_patterns

    rows = pattern_trades(bars, detect_chart_patterns(bars), spread, horizon)
    wanted = types if types is not None else {r["type"] for r in rows}
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(wanted):
        s = summary([r for r in rows if r["type"] == name])
        out[name] = {k: _display(v) for k, v in s.items() if not k.endswith("_adj")}
    return out


def _display(value: Any) -> Any:
    """Floats to 4 decimals, NaN to None (JSON); anything else as is."""
    if not isinstance(value, float):
        return value
    return round(value, 4) if math.isfinite(value) else None


__all__ = ["DEFAULT_HORIZON", "pattern_trades", "summary", "type_history"]
