"""numba kernel of the optimiser: many parameter combinations over the same bars, in parallel.

:func:`noxfx.backtest.nb.simulate_batch_nb` returns eight summary numbers per combination; an
honest optimiser needs more: the equity at the end of every FX day (for Sharpe, the Deflated
Sharpe Ratio and the CSCV blocks of the probability of backtest overfitting) and per-*trade*
statistics (partial closes summed, as :func:`noxfx.backtest.metrics.compute_metrics` counts
them). :func:`sweep_nb` runs the same bar loop (:func:`noxfx.backtest.nb.run_nb`, so the fills
and costs are exactly those of :func:`noxfx.backtest.simulate`) and reduces its outputs inside
the parallel loop, so only ``(c, days)`` numbers come back.

Array contract:

* ``m``, ``f``, ``p``: as :func:`noxfx.backtest.nb.run_nb` (one symbol's bars, price units).
* ``long_entry`` ... ``short_exit``: bool ``(c, n)``, one row per combination (C order).
* ``stop`` ``(s, n)`` and ``targets`` ``(t, n, k)``: per-entry distances in price units, shared
  by every combination when ``s == 1`` / ``t == 1``, else one row per combination (strategies
  that set distances per entry); ``trail``, ``breakeven`` ``(n,)`` shared.
* ``mult`` ``(c, 4)``: per-combination multipliers of the stop, target, trail and break-even
  distances (a 20-pip stop scaled by 1.5 is a 30-pip stop).
* ``day_end`` ``(d,)`` int64: the last bar of each FX trading day (17:00 New York cut).
* ``capacity`` ``(c,)`` int64: trade records to allocate per combination (entries x levels + 1).

Outputs: ``stats`` ``(c, N_STATS)`` (:data:`noxfx.backtest.nb.STAT_FIELDS`), ``daily``
``(c, d)`` equity at each day end (account currency) and ``trade_stats`` ``(c, 9)``
(:data:`TRADE_STAT_FIELDS`, money in account currency).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from noxfx.backtest.nb import run_nb
from noxfx.backtest.position_nb import N_STATS, TRADE_DTYPE, Fine, Market, Orders, Params

F8 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int64]
B2 = npt.NDArray[np.bool_]

#: Columns of ``trade_stats``: per position (partial closes summed).
TRADE_STAT_FIELDS: tuple[str, ...] = (
    "trades",
    "wins",
    "gross_profit",
    "gross_loss",
    "sum_pnl",
    "sum_pnl_sq",
    "sum_r",
    "sum_r_sq",
    "r_defined",  # 1.0 when every trade had a finite R multiple (a stop), else 0.0
)
N_TRADE_STATS = 9


@njit(cache=True)
def _records_nb(capacity: int) -> np.ndarray:
    """A trade record buffer (allocated outside the parallel region's type inference)."""
    return np.zeros(capacity, dtype=TRADE_DTYPE)


@njit(cache=True)
def _add_trade_nb(out: F8, pnl: float, r: float) -> None:
    """Fold one finished position (net P&L, R multiple; NaN = no stop) into ``out``."""
    out[0] += 1.0
    if pnl > 0:
        out[1] += 1.0
        out[2] += pnl
    else:
        out[3] -= pnl
    out[4] += pnl
    out[5] += pnl * pnl
    if np.isfinite(r):
        out[6] += r
        out[7] += r * r
    else:
        out[8] = 0.0


@njit(cache=True)
def trade_stats_nb(records: np.ndarray, n_rec: int, out: F8) -> None:
    """Per-position statistics from ``n_rec`` close records (the closes of one position are
    consecutive). As :func:`noxfx.backtest.metrics.compute_metrics` does: without partial
    closes each record is a trade; otherwise a position's R multiple is its summed P&L over its
    summed money at risk (``pnl / r_multiple`` per close), so the numbers agree exactly."""
    out[:] = 0.0
    out[8] = 1.0
    partials = False
    for k in range(1, n_rec):
        if records[k].trade_id == records[k - 1].trade_id:
            partials = True
            break
    if not partials:
        for k in range(n_rec):
            _add_trade_nb(out, records[k].pnl_account, records[k].r_multiple)
        return
    pnl = 0.0
    risk = 0.0
    for k in range(n_rec):
        rec = records[k]
        pnl += rec.pnl_account
        r = rec.r_multiple
        if r != 0.0 and r == r:  # pandas' group sum skips the NaN of 0 / 0 and of no stop
            risk += rec.pnl_account / r
        if k == n_rec - 1 or records[k + 1].trade_id != rec.trade_id:
            _add_trade_nb(out, pnl, pnl / risk if risk != 0.0 else np.nan)
            pnl = 0.0
            risk = 0.0


@njit(cache=True, parallel=True)
def sweep_nb(
    m: Market,
    long_entry: B2,
    short_entry: B2,
    long_exit: B2,
    short_exit: B2,
    stop: npt.NDArray[np.float64],
    targets: npt.NDArray[np.float64],
    target_fraction: F8,
    trail: F8,
    breakeven: F8,
    mult: npt.NDArray[np.float64],
    f: Fine,
    p: Params,
    day_end: I8,
    capacity: I8,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Run ``c`` combinations in parallel; return ``(stats, daily, trade_stats)``."""
    c = long_entry.shape[0]
    n = m.close.shape[0]
    d = day_end.shape[0]
    stats = np.zeros((c, N_STATS))
    daily = np.zeros((c, d))
    trades = np.zeros((c, N_TRADE_STATS))
    no_series = np.zeros(0)
    for col in prange(c):
        s_row = min(np.int64(col), stop.shape[0] - 1)
        t_row = min(np.int64(col), targets.shape[0] - 1)
        orders = Orders(
            long_entry[col], short_entry[col], long_exit[col], short_exit[col],
            stop[s_row], targets[t_row], target_fraction, trail, breakeven,
        )  # fmt: skip
        records = _records_nb(capacity[col])
        equity = np.empty(n)
        n_rec = run_nb(m, orders, f, p, mult[col], records, equity, no_series, stats[col])
        for j in range(d):
            daily[col, j] = equity[day_end[j]]
        trade_stats_nb(records, min(n_rec, records.shape[0]), trades[col])
    return stats, daily, trades


__all__ = ["N_TRADE_STATS", "TRADE_STAT_FIELDS", "sweep_nb", "trade_stats_nb"]
