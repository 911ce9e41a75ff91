"""numba kernel of the plan-ledger resolver: many independent plans over one symbol's bars.

Each plan is walked forward with THE BACKTESTER'S OWN ORDER STEPS
(:func:`noxfx.backtest.position_nb.open_nb`, ``set_targets_nb``, ``exits_in_range_nb``,
``move_stop_nb``, ``close_nb``), so a plan resolves exactly as the engine would trade it: the
market entry fills at the open of ``entry_bar`` (longs at the ask = bid + spread, shorts at the
bid), the stop and TP1 lie ``stop``/``target`` price units from that fill, a bar touching both
takes the stop first (finer bars decide where given), gaps fill at the open, and after
``horizon`` bars the position is closed at the open (the engine's time exit). Plans overlap
freely (one position record each), unlike :func:`noxfx.backtest.nb.run_nb`.

Array contract: bar arrays are the bid OHLC of :class:`noxfx.backtest.position_nb.Market`
(price units, oldest first); plan arrays have one element per plan: ``entry_bar`` (int64, the
bar whose open fills the entry; -1 = never filled), ``direction`` (+1/-1), ``stop``/``target``
(price units from the fill, > 0), ``spread`` (price units, used for the whole plan).
Outputs per plan: outcome code (below), exit bar (-1 while open), exit price, R multiple
(price R: pnl / stop distance, conversion 1), entry fill price.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from noxfx.backtest.position_nb import (
    F8,
    I8,
    POSITION_DTYPE,
    STOP_LOSS,
    TAKE_PROFIT,
    TIME_EXIT,
    TRADE_DTYPE,
    Fine,
    Market,
    Params,
    close_nb,
    exits_in_range_nb,
    move_stop_nb,
    open_nb,
    set_targets_nb,
)

OPEN = 0
TP1_FIRST = 1
STOP_FIRST = 2
TIME_EXPIRED = 3  # neither level within the horizon: closed at market (counts as "not TP1")
EXPIRED_UNFILLED = 4
OUTCOME_NAMES = ("open", "tp1_first", "stop_first", "time_exit", "expired_unfilled")


@njit(cache=True)
def _resolve_one_nb(
    m: Market, f: Fine, p: Params, i0: int, d: int, stop: float, target: float, spread: float,
    horizon: int, pos: np.ndarray, rec: np.ndarray, stats: F8,
) -> tuple[int, int, float, float, float]:  # fmt: skip
    n = m.close.shape[0]
    has_fine = f.start.shape[0] == n
    fractions = np.ones(1)
    tp_px = np.full(1, np.nan)
    dist = np.full(1, target)
    pos[0].direction = 0
    nan = np.nan
    if open_nb(pos[0], d, i0, m.open[i0], spread, 1.0, stop, nan, nan, p, 1e18, 0) < 0.0:
        return EXPIRED_UNFILLED, -1, nan, nan, nan
    set_targets_nb(pos[0], dist, 1.0, tp_px)
    entry = pos[0].entry_price
    for i in range(i0, n):
        if horizon > 0 and i - i0 >= horizon:
            px = m.open[i] + (spread if d < 0 else 0.0) - d * p.slippage
            close_nb(pos[0], pos[0].steps, px, i, TIME_EXIT, spread, p.slippage, 1.0, p, rec, 0,
                     stats)  # fmt: skip
            break
        if has_fine and f.start[i] < f.end[i]:
            for k in range(f.start[i], f.end[i]):
                exits_in_range_nb(pos[0], f.open[k], f.high[k], f.low[k], spread, i, 1.0, p,
                                  fractions, tp_px, rec, 0, stats)  # fmt: skip
                if pos[0].direction == 0:
                    break
                move_stop_nb(pos[0], f.high[k], f.low[k], spread, p)
        else:
            exits_in_range_nb(pos[0], m.open[i], m.high[i], m.low[i], spread, i, 1.0, p,
                              fractions, tp_px, rec, 0, stats)  # fmt: skip
        if pos[0].direction == 0:
            break
    if pos[0].direction != 0:
        return OPEN, -1, nan, nan, entry
    r = rec[0]
    if r.exit_reason == TAKE_PROFIT:
        outcome = TP1_FIRST
    elif r.exit_reason == STOP_LOSS:
        outcome = STOP_FIRST
    else:
        outcome = TIME_EXPIRED
    r_mult = (r.exit_price - entry) * d / stop
    return outcome, r.exit_bar, r.exit_price, r_mult, entry


@njit(cache=True)
def resolve_plans_nb(
    m: Market, f: Fine, p: Params, entry_bar: I8, direction: I8, stop: F8, target: F8,
    spread: F8, horizon: int,
) -> tuple[I8, I8, F8, F8, F8]:  # fmt: skip
    """Resolve every plan (see the module docstring); returns (outcome, exit_bar, exit_price,
    r_multiple, entry_price)."""
    k = entry_bar.shape[0]
    outcome = np.zeros(k, dtype=np.int64)
    exit_bar = np.full(k, -1, dtype=np.int64)
    exit_price = np.full(k, np.nan)
    r_mult = np.full(k, np.nan)
    entry = np.full(k, np.nan)
    pos = np.zeros(1, dtype=POSITION_DTYPE)
    rec = np.zeros(1, dtype=TRADE_DTYPE)
    stats = np.zeros(8)
    for j in range(k):
        if entry_bar[j] < 0 or entry_bar[j] >= m.close.shape[0]:
            outcome[j] = EXPIRED_UNFILLED if entry_bar[j] < 0 else OPEN
            continue
        o, xb, xp, rm, ep = _resolve_one_nb(
            m, f, p, entry_bar[j], direction[j], stop[j], target[j], spread[j], horizon, pos,
            rec, stats,
        )  # fmt: skip
        outcome[j], exit_bar[j], exit_price[j], r_mult[j], entry[j] = o, xb, xp, rm, ep
    return outcome, exit_bar, exit_price, r_mult, entry


__all__ = [
    "EXPIRED_UNFILLED",
    "OPEN",
    "OUTCOME_NAMES",
    "STOP_FIRST",
    "TIME_EXPIRED",
    "TP1_FIRST",
    "resolve_plans_nb",
]
