"""Order steps on the position record, and the types shared by the kernels in :mod:`.nb`.

Each step is a small ``@njit`` function that takes the open position (a record of
:data:`POSITION_DTYPE`, mutated in place) and one event (an entry fill, a close of some lot
steps, a target level, the end of a bar for stop moves) and returns the balance change, writing
a :data:`TRADE_DTYPE` record for each close. Units and fill rules: see :mod:`noxfx.backtest.nb`.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt
from numba import njit

F8 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int64]
B1 = npt.NDArray[np.bool_]
#: A record of :data:`POSITION_DTYPE` (a structured-array element; numba gives attribute access).
PositionRecord: TypeAlias = Any

# exit reason codes (engine.EXIT_REASONS gives the words)
STOP_LOSS = 1
TRAILING_STOP = 2
BREAK_EVEN = 3
TAKE_PROFIT = 4  # level j is TAKE_PROFIT + j
EXIT_SIGNAL = 10
REVERSAL = 11
TIME_EXIT = 12
END_OF_DATA = 13

#: One record per (partial) close. Money in account currency, prices in quote per base.
TRADE_DTYPE = np.dtype(
    [
        ("trade_id", np.int64),  # position number, shared by its partial closes
        ("entry_bar", np.int64),
        ("exit_bar", np.int64),
        ("direction", np.int8),  # +1 long, -1 short
        ("entry_price", np.float64),  # fill: ask for longs, bid for shorts, slippage included
        ("exit_price", np.float64),
        ("lots", np.float64),  # lots closed by this record
        ("stop_price", np.float64),  # initial stop level (NaN: none)
        ("pnl_account", np.float64),  # net: price P&L - commission + swap
        ("pnl_pips", np.float64),  # (exit - entry) * direction / pip size
        ("r_multiple", np.float64),  # pnl_account / money at risk on these lots (NaN: no stop)
        ("commission", np.float64),  # both sides, for these lots
        ("spread_cost", np.float64),  # half spread at entry + half at exit (inside the prices)
        ("slippage_cost", np.float64),  # entry + exit slippage (inside the prices)
        ("swap", np.float64),  # + credit / - debit accrued on these lots
        ("exit_reason", np.int8),
        ("partial", np.bool_),  # True when the position stayed open after this close
        ("symbol", np.int64),  # symbol number in a portfolio run (0 in a single run)
    ]
)

#: The open position (kernel state).
POSITION_DTYPE = np.dtype(
    [
        ("direction", np.int64),  # 0 flat, +1 long, -1 short
        ("trade_id", np.int64),
        ("entry_bar", np.int64),
        ("entry_seq", np.int64),  # the symbol's own bar count at entry (portfolio time exits)
        ("entry_price", np.float64),
        ("entry_spread", np.float64),
        ("entry_slippage", np.float64),
        ("steps0", np.int64),  # initial size in lot steps
        ("steps", np.int64),  # open size in lot steps
        ("stop", np.float64),  # current stop level on the exit side (NaN: none)
        ("stop_kind", np.int64),  # exit reason if the stop is hit
        ("initial_stop", np.float64),
        ("risk_per_lot", np.float64),  # account money lost per lot at the initial stop
        ("trail", np.float64),
        ("be_trigger", np.float64),
        ("be_armed", np.bool_),  # move to break-even at the next stop update
        ("best", np.float64),  # best exit-side price since entry
        ("next_target", np.int64),  # index of the next target level still to fill
        ("next_price", np.float64),  # its price (NaN: no target left)
        ("swap_per_lot", np.float64),
    ]
)

#: Summary of one run (columns of :func:`simulate_batch_nb`'s output).
STAT_FIELDS: tuple[str, ...] = (
    "final_equity",
    "trades",
    "closes",
    "wins",
    "gross_profit",
    "gross_loss",
    "max_drawdown",
    "costs",
)
N_STATS = 8


class Market(NamedTuple):
    """Per-bar market arrays (float64, length n; see the module docstring for units)."""

    open: F8
    high: F8
    low: F8
    close: F8
    spread: F8
    conversion: F8
    rollover: F8


class Orders(NamedTuple):
    """Per-bar intent: signals (bool) and per-entry distances (price units, NaN = none)."""

    long_entry: B1
    short_entry: B1
    long_exit: B1
    short_exit: B1
    stop: F8
    targets: npt.NDArray[np.float64]  # (n, k)
    target_fraction: F8  # (k,)
    trail: F8
    breakeven: F8


class Fine(NamedTuple):
    """Finer bars for intrabar order (bid OHLC + spread, price units) and coarse -> fine map."""

    open: F8
    high: F8
    low: F8
    spread: F8
    start: I8  # (n,) first fine bar of each coarse bar
    end: I8  # (n,) one past the last


class Params(NamedTuple):
    """Scalar settings. Money in account currency, distances in price units."""

    pip_size: float  # EURUSD 0.0001, USDJPY 0.01
    contract_size: float  # units of base per lot: 100,000
    lot_step: float  # 0.01
    min_steps: int  # minimum lots in lot steps (0.01 lot = 1 step)
    max_steps: int
    fixed_steps: int  # size when risk_fraction == 0
    risk_fraction: float  # 0.01 = risk 1 % of the balance per trade, 0 = fixed lots
    commission_per_lot: float  # per lot per side, account currency (ECN: 3.5)
    slippage: float  # price units against the trader on market and stop fills
    swap_long: float  # per lot per night (+ credit, - debit)
    swap_short: float
    swap_in_quote: bool  # swaps are in quote currency (converted at the rollover bar's rate)
    max_bars: int  # time exit after this many bars (0: off)
    breakeven_offset: float  # price units beyond the entry when moving to break-even
    breakeven_after_first_target: bool
    require_stop: bool  # skip entries whose stop distance is NaN
    initial_balance: float
    close_at_end: bool


@njit(cache=True)
def close_nb(
    pos: PositionRecord,
    steps: int,
    price: float,
    bar: int,
    reason: int,
    spread_exit: float,
    slippage_exit: float,
    conv: float,
    p: Params,
    records: np.ndarray,
    n_rec: int,
    stats: F8,
) -> float:
    """Close ``steps`` lot steps of the position at ``price``; record it; return the balance change.

    The entry commission was charged at entry, so the balance change is the price P&L minus the
    exit commission plus the accrued swap on these lots.
    """
    d = pos.direction
    lots = steps * p.lot_step
    units = lots * p.contract_size
    gross = (price - pos.entry_price) * d * units * conv
    commission_side = p.commission_per_lot * lots
    swap = pos.swap_per_lot * lots
    net = gross - 2.0 * commission_side + swap
    spread_cost = 0.5 * (pos.entry_spread + spread_exit) * units * conv
    slip_cost = (pos.entry_slippage + slippage_exit) * units * conv
    pos.steps -= steps
    if n_rec < records.shape[0]:
        r = records[n_rec]
        r.trade_id = pos.trade_id
        r.entry_bar = pos.entry_bar
        r.exit_bar = bar
        r.direction = d
        r.entry_price = pos.entry_price
        r.exit_price = price
        r.lots = lots
        r.stop_price = pos.initial_stop
        r.pnl_account = net
        r.pnl_pips = (price - pos.entry_price) * d / p.pip_size
        r.r_multiple = net / (pos.risk_per_lot * lots) if pos.risk_per_lot > 0 else np.nan
        r.commission = 2.0 * commission_side
        r.spread_cost = spread_cost
        r.slippage_cost = slip_cost
        r.swap = swap
        r.exit_reason = reason
        r.partial = pos.steps > 0
    stats[2] += 1.0
    if net > 0:
        stats[3] += 1.0
        stats[4] += net
    else:
        stats[5] -= net
    stats[7] += 2.0 * commission_side + spread_cost + slip_cost
    if pos.steps <= 0:
        pos.direction = 0
    return gross - commission_side + swap


@njit(cache=True)
def open_nb(
    pos: PositionRecord,
    d: int,
    i: int,
    bid_open: float,
    spread: float,
    conv: float,
    sl: float,
    trail: float,
    be: float,
    p: Params,
    balance: float,
    trade_id: int,
) -> float:
    """Open a position at bar ``i``'s open; return the entry commission (account currency).

    ``sl``, ``trail``, ``be`` are the entry's stop, trailing and break-even distances in price
    units (NaN or <= 0: none). Returns -1.0 when the entry is skipped (no stop where one is
    required, no risk to size from, size below the minimum lot). Targets are set by the caller
    (:func:`set_targets_nb`). Scalars only: this runs once per entry.
    """
    price = bid_open + spread + p.slippage if d > 0 else bid_open - p.slippage
    exit_side_open = bid_open if d > 0 else bid_open + spread
    has_sl = sl > 0.0  # False for NaN
    if not has_sl and p.require_stop:
        return -1.0
    risk_dist = sl if has_sl else (trail if trail > 0.0 else np.nan)
    risk_per_lot = risk_dist * p.contract_size * conv if risk_dist > 0.0 else 0.0
    if p.risk_fraction > 0.0:
        if not risk_per_lot > 0.0:
            return -1.0
        raw_lots = balance * p.risk_fraction / risk_per_lot
        steps = int(np.floor(raw_lots / p.lot_step + 1e-9))
    else:
        steps = p.fixed_steps
    steps = min(steps, p.max_steps)
    if steps < p.min_steps or steps <= 0:
        return -1.0
    pos.direction = d
    pos.trade_id = trade_id
    pos.entry_bar = i
    pos.entry_price = price
    pos.entry_spread = spread
    pos.entry_slippage = p.slippage
    pos.steps0 = steps
    pos.steps = steps
    pos.stop = price - d * sl if has_sl else np.nan
    pos.stop_kind = STOP_LOSS
    pos.initial_stop = pos.stop
    pos.risk_per_lot = risk_per_lot
    pos.trail = trail if trail > 0.0 else np.nan
    pos.be_trigger = be if be > 0.0 else np.nan
    pos.be_armed = False
    pos.best = exit_side_open
    pos.swap_per_lot = 0.0
    pos.next_target = 0
    pos.next_price = np.nan
    if pos.trail > 0.0:
        trail_stop = exit_side_open - d * pos.trail
        if not pos.stop * d >= trail_stop * d:  # also when the stop is NaN
            pos.stop = trail_stop
            pos.stop_kind = TRAILING_STOP
            if not has_sl:
                pos.initial_stop = trail_stop
    return p.commission_per_lot * steps * p.lot_step


@njit(cache=True)
def set_targets_nb(pos: PositionRecord, distances: F8, scale: float, tp_px: F8) -> None:
    """Target prices of a new position from its level distances (price units, NaN: none)."""
    d = pos.direction
    for k in range(tp_px.shape[0]):
        dist = distances[k] * scale
        tp_px[k] = pos.entry_price + d * dist if dist > 0.0 else np.nan
    advance_target_nb(pos, tp_px, 0)


@njit(cache=True)
def target_steps_nb(pos: PositionRecord, fraction: float, p: Params) -> int:
    """Lot steps a target level closes: its fraction of the initial size, rounded down."""
    if fraction >= 1.0:
        return pos.steps
    q = int(np.floor(pos.steps0 * fraction + 1e-9))
    if q >= pos.steps or pos.steps - q < p.min_steps:
        return pos.steps  # what would remain is below the minimum lot: close it all
    if q < p.min_steps:
        return 0  # too small to close on its own: the level passes
    return q


@njit(cache=True)
def advance_target_nb(pos: PositionRecord, tp_px: F8, k: int) -> None:
    """Point the position at the first defined target level from ``k`` on."""
    while k < tp_px.shape[0] and tp_px[k] != tp_px[k]:
        k += 1
    pos.next_target = k
    pos.next_price = tp_px[k] if k < tp_px.shape[0] else np.nan


@njit(cache=True)
def exits_in_range_nb(
    pos: PositionRecord,
    bid_open: float,
    bid_high: float,
    bid_low: float,
    spread: float,
    bar: int,
    conv: float,
    p: Params,
    fractions: F8,
    tp_px: F8,
    records: np.ndarray,
    n_rec: int,
    stats: F8,
) -> tuple[float, int]:
    """Stops and targets inside one price range (a bar or a fine bar), in time order.

    Order: stop gapped at the open, targets gapped at the open, then the stop if touched (taken
    before any target touched in the same range), then targets in level order. Returns the
    balance change and the new record count. Stop levels are then moved by the caller.
    """
    d = pos.direction
    sp = 0.0 if d > 0 else spread
    eo = bid_open + sp
    eh = bid_high + sp
    el = bid_low + sp
    delta = 0.0
    stop = pos.stop
    if stop == stop and (eo - stop) * d <= 0.0:  # opened at or beyond the stop
        delta += close_nb(
            pos, pos.steps, eo - d * p.slippage, bar, pos.stop_kind, spread, p.slippage, conv,
            p, records, n_rec, stats,
        )  # fmt: skip
        return delta, n_rec + 1
    # targets the range opened beyond fill at the open
    while pos.next_price == pos.next_price and (eo - pos.next_price) * d >= 0.0:
        n_rec, delta = take_target_nb(
            pos, eo, bar, spread, conv, p, fractions, tp_px, records, n_rec, stats, delta
        )
        if pos.direction == 0:
            return delta, n_rec
    if stop == stop and ((el <= stop) if d > 0 else (eh >= stop)):
        delta += close_nb(
            pos, pos.steps, stop - d * p.slippage, bar, pos.stop_kind, spread, p.slippage, conv,
            p, records, n_rec, stats,
        )  # fmt: skip
        return delta, n_rec + 1
    while pos.next_price == pos.next_price and (
        (eh >= pos.next_price) if d > 0 else (el <= pos.next_price)
    ):
        n_rec, delta = take_target_nb(
            pos, pos.next_price, bar, spread, conv, p, fractions, tp_px, records, n_rec, stats,
            delta,
        )  # fmt: skip
        if pos.direction == 0:
            break
    return delta, n_rec


@njit(cache=True)
def take_target_nb(
    pos: PositionRecord,
    price: float,
    bar: int,
    spread: float,
    conv: float,
    p: Params,
    fractions: F8,
    tp_px: F8,
    records: np.ndarray,
    n_rec: int,
    stats: F8,
    delta: float,
) -> tuple[int, float]:
    """Fill the next target level at ``price`` (no slippage: a limit order)."""
    k = pos.next_target
    steps = target_steps_nb(pos, fractions[k], p)
    advance_target_nb(pos, tp_px, k + 1)
    if steps > 0:
        delta += close_nb(
            pos, steps, price, bar, TAKE_PROFIT + k, spread, 0.0, conv, p, records, n_rec, stats
        )
        n_rec += 1
    if k == 0 and p.breakeven_after_first_target and pos.direction != 0:
        pos.be_armed = True
    return n_rec, delta


@njit(cache=True)
def move_stop_nb(
    pos: PositionRecord, bid_high: float, bid_low: float, spread: float, p: Params
) -> None:
    """After a (fine) bar: track the best exit-side price, then break-even and trailing moves."""
    d = pos.direction
    if d > 0:
        pos.best = max(pos.best, bid_high)
    else:
        pos.best = min(pos.best, bid_low + spread)
    if pos.be_trigger == pos.be_trigger and (pos.best - pos.entry_price) * d >= pos.be_trigger:
        pos.be_armed = True
        pos.be_trigger = np.nan
    if pos.be_armed:
        pos.be_armed = False
        level = pos.entry_price + d * p.breakeven_offset
        if not pos.stop * d >= level * d:
            pos.stop = level
            pos.stop_kind = BREAK_EVEN
    if pos.trail == pos.trail:
        level = pos.best - d * pos.trail
        if not pos.stop * d >= level * d:
            pos.stop = level
            pos.stop_kind = TRAILING_STOP


__all__ = [
    "B1",
    "BREAK_EVEN",
    "END_OF_DATA",
    "EXIT_SIGNAL",
    "F8",
    "I8",
    "N_STATS",
    "POSITION_DTYPE",
    "REVERSAL",
    "STAT_FIELDS",
    "STOP_LOSS",
    "TAKE_PROFIT",
    "TIME_EXIT",
    "TRADE_DTYPE",
    "TRAILING_STOP",
    "Fine",
    "Market",
    "Orders",
    "Params",
    "PositionRecord",
    "advance_target_nb",
    "close_nb",
    "exits_in_range_nb",
    "move_stop_nb",
    "open_nb",
    "set_targets_nb",
    "take_target_nb",
    "target_steps_nb",
]
