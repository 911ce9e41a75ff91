"""numba kernels of the backtesting engine: one position per symbol, bar by bar, forex costs.

Array contract (every kernel):

* Bar arrays are 1-D, one element per bar, oldest first, length ``n``. Prices (``open``, ``high``,
  ``low``, ``close``) are **bid** prices in quote currency per unit of base; ``spread`` is the
  ask - bid distance of each bar in **price units** (ask = bid + spread). ``conversion`` is the
  quote -> account currency rate known at each bar's open (1.0 when the account is in the quote
  currency). ``rollover`` is the number of swap days charged to a position carried into bar ``i``
  (0 none, 1 an ordinary 17:00 New York rollover, 3 Wednesday's; see
  :mod:`noxfx.backtest.rollover`).
* Signal arrays (:class:`Orders`) are bool, length ``n``: a signal on bar ``i`` is acted on at
  the **open of bar i+1** (no lookahead); a signal on the last bar is never acted on. Distances
  (``stop``, ``targets``, ``trail``, ``breakeven``) are float64 **price units** belonging to the
  entry signalled on bar ``i``; NaN means "none". ``targets`` is 2-D ``(n, k)``: level ``j`` of
  the entry signalled on bar ``i`` lies ``targets[i, j]`` from the fill and closes
  ``target_fraction[j]`` of the initial lots (a fraction >= 1 closes everything left). Levels
  must be increasing.
* Optional finer bars (:class:`Fine`, e.g. 1m under 1h) resolve what happened first inside a
  coarse bar: coarse bar ``i`` is replaced, for the exit checks, by fine bars
  ``fine.start[i]:fine.end[i]``. Empty arrays switch this off.
* Outputs: a trade record array of :data:`TRADE_DTYPE` (one record per close, partial closes
  included), the equity per bar in account currency marked at the bar's close (longs at the bid,
  shorts at the ask) and the signed open lots at each bar's close.

Fill rules: longs buy at the ask and sell at the bid, shorts the reverse. Market orders (entries,
signal exits, reversals, time exits) fill at the next bar's open with ``slippage`` (price units)
against the trader. A stop fills at its level minus slippage, or at the open if the bar opened
beyond it (gap). A target fills at its level without slippage, or at the open if the bar opened
beyond it. When one bar touches both the stop and a target, the stop is taken first
(conservative), unless finer bars tell otherwise. Trailing and break-even moves are made from a
bar's extremes at the bar's end, so they act from the next (fine) bar on.

Kernel state is a one-record structured array (:data:`POSITION_DTYPE`); lots are counted as
whole lot steps (int64) so partial closes never leave floating dust. The order steps on that
record (open, close, targets, stop moves) and the shared types live in
:mod:`noxfx.backtest.position_nb`; this module holds the bar loops (one symbol, a batch of
parameter combinations, a portfolio of symbols on one balance).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from noxfx.backtest.position_nb import (
    BREAK_EVEN,
    END_OF_DATA,
    EXIT_SIGNAL,
    F8,
    N_STATS,
    POSITION_DTYPE,
    REVERSAL,
    STAT_FIELDS,
    STOP_LOSS,
    TAKE_PROFIT,
    TIME_EXIT,
    TRADE_DTYPE,
    TRAILING_STOP,
    Fine,
    Market,
    Orders,
    Params,
    PositionRecord,
    close_nb,
    exits_in_range_nb,
    move_stop_nb,
    open_nb,
    set_targets_nb,
)


@njit(cache=True)
def _accrue_swap_nb(pos: PositionRecord, days: float, conv: float, p: Params) -> None:
    """Swap of ``days`` rollovers on the open position, per lot, in account currency."""
    if pos.direction != 0:
        rate = p.swap_long if pos.direction > 0 else p.swap_short
        pos.swap_per_lot += rate * (conv if p.swap_in_quote else 1.0) * days


@njit(cache=True)
def _mark_nb(
    pos: PositionRecord,
    close: float,
    spread: float,
    conv: float,
    units_per_step: float,
    lot_step: float,
) -> float:
    """Open P&L plus accrued swap at a bar's close (longs valued at the bid, shorts at the ask)."""
    d = pos.direction
    if d == 0:
        return 0.0
    exit_px = close if d > 0 else close + spread
    return pos.steps * (
        (exit_px - pos.entry_price) * d * units_per_step * conv + pos.swap_per_lot * lot_step
    )


@njit(cache=True)
def _drawdown_nb(equity: float, peak: float, max_dd: float) -> tuple[float, float]:
    """Running peak and deepest fall from it (fraction) after one more equity value."""
    if equity > peak:
        return equity, max_dd
    if peak > 0.0 and 1.0 - equity / peak > max_dd:
        return peak, 1.0 - equity / peak
    return peak, max_dd


@njit(cache=True)
def _close_at_end_nb(
    pos: PositionRecord,
    m: Market,
    p: Params,
    balance: float,
    records: np.ndarray,
    n_rec: int,
    stats: F8,
    equity: F8,
    position: F8,
) -> tuple[float, int]:
    """Close what is still open at the last bar's close (exit reason END_OF_DATA); the last
    equity value is the same mark, now realised. Returns (final equity, records)."""
    i = m.close.shape[0] - 1
    px = m.close[i] + (m.spread[i] if pos.direction < 0 else 0.0)
    balance += close_nb(
        pos, pos.steps, px, i, END_OF_DATA, m.spread[i], 0.0, m.conversion[i], p, records, n_rec,
        stats,
    )  # fmt: skip
    if equity.shape[0] > i:
        equity[i] = balance
    if position.shape[0] > i:
        position[i] = 0.0
    return balance, n_rec + 1


@njit(cache=True)
def _time_due_nb(pos: PositionRecord, i: int, max_bars: int) -> bool:
    """Whether the open position has been held ``max_bars`` bars at bar ``i``'s open."""
    return pos.direction != 0 and max_bars > 0 and i - pos.entry_bar >= max_bars


@njit(cache=True)
def _exit_reason_nb(d: int, long_exit: bool, short_exit: bool, go_long: bool, go_short: bool,
                    time_due: bool) -> int:  # fmt: skip
    """Why a position of direction ``d`` is closed at this open (0: it is not)."""
    if (d > 0 and long_exit) or (d < 0 and short_exit):
        return EXIT_SIGNAL
    if (d > 0 and go_short) or (d < 0 and go_long):
        return REVERSAL
    if time_due:
        return TIME_EXIT
    return 0


@njit(cache=True)
def _orders_at_open_nb(
    pos: PositionRecord,
    i: int,
    signals: tuple[bool, bool, bool, bool, bool],
    bid_open: float,
    spread: float,
    conv: float,
    entry: tuple[float, float, float],
    p: Params,
    balance: float,
    trade_id: int,
    records: np.ndarray,
    n_rec: int,
    stats: F8,
) -> tuple[float, int, int, bool]:
    """Market orders at bar ``i``'s open from the previous bar's ``signals`` (long entry, short
    entry, long exit, short exit, time exit due): exits (signal, reversal, time) first, then the
    entry with ``entry`` = (stop, trail, break-even) distances. Returns (balance change,
    records, next trade id, whether a position was opened)."""
    le, se, lx, sx, time_due = signals
    go_long = le and not lx
    go_short = se and not sx
    if go_long and go_short:
        go_long = go_short = False
    delta = 0.0
    d = pos.direction
    if d != 0:
        reason = _exit_reason_nb(d, lx, sx, go_long, go_short, time_due)
        if reason != 0:
            px = bid_open + (spread if d < 0 else 0.0) - d * p.slippage
            delta += close_nb(
                pos, pos.steps, px, i, reason, spread, p.slippage, conv, p, records, n_rec, stats
            )
            n_rec += 1
    opened = False
    if pos.direction == 0 and (go_long or go_short) and balance + delta > 0.0:
        side = 1 if go_long else -1
        sl, trail, be = entry
        cost = open_nb(
            pos, side, i, bid_open, spread, conv, sl, trail, be, p, balance + delta, trade_id
        )
        if cost >= 0.0:
            delta -= cost
            trade_id += 1
            opened = True
    return delta, n_rec, trade_id, opened


@njit(cache=True)
def _fine_exits_nb(
    pos: PositionRecord,
    i: int,
    conv: float,
    f: Fine,
    p: Params,
    fractions: F8,
    tp_px: F8,
    records: np.ndarray,
    n_rec: int,
    stats: F8,
) -> tuple[float, int]:
    """Stops, targets and stop moves during coarse bar ``i``, walked through its fine bars."""
    total = 0.0
    for k in range(f.start[i], f.end[i]):
        delta, n_rec = exits_in_range_nb(
            pos, f.open[k], f.high[k], f.low[k], f.spread[k], i, conv, p, fractions, tp_px,
            records, n_rec, stats,
        )  # fmt: skip
        total += delta
        if pos.direction == 0:
            break
        move_stop_nb(pos, f.high[k], f.low[k], f.spread[k], p)
    return total, n_rec


@njit(cache=True)
def _touched_nb(pos: PositionRecord, bid_high: float, bid_low: float, spread: float) -> bool:
    """Whether a bar's range reaches the stop or the next target. The open lies in [low, high],
    so a gap beyond a level counts too; a False means the bar cannot fill anything."""
    if pos.direction > 0:
        return bid_low <= pos.stop or bid_high >= pos.next_price
    return bid_high + spread >= pos.stop or bid_low + spread <= pos.next_price


@njit(cache=True)
def _manages_stop_nb(pos: PositionRecord) -> bool:
    """Whether the open position has a trailing or break-even move to make after a bar."""
    return pos.direction != 0 and (
        pos.trail == pos.trail or pos.be_trigger == pos.be_trigger or pos.be_armed
    )


@njit(cache=True)
def run_nb(
    m: Market,
    o: Orders,
    f: Fine,
    p: Params,
    mult: F8,
    records: np.ndarray,
    equity: F8,
    position: F8,
    stats: F8,
) -> int:
    """Simulate one symbol over all bars; return the number of trade records.

    ``mult`` (4,) scales the stop, target, trail and break-even distances (1.0 for a plain run;
    the batch kernel varies it per parameter combination). ``records`` may be shorter than the
    number of closes (then only the first ones are written; pass an empty array to record none),
    ``equity`` and ``position`` may be empty (not written). ``stats`` (8,) receives
    :data:`STAT_FIELDS`.

    The loop body keeps its arrays in locals and only calls out when something happens (a
    signal, a rollover, a level touched), so a quiet bar costs a few comparisons.
    """
    n = m.close.shape[0]
    bid_open, high, low, close, spread = m.open, m.high, m.low, m.close, m.spread
    conversion, rollover = m.conversion, m.rollover
    le, se, lx, sx = o.long_entry, o.short_entry, o.long_exit, o.short_exit
    fractions = o.target_fraction
    stop, targets, trail, breakeven = o.stop, o.targets, o.trail, o.breakeven
    fine_start, fine_end = f.start, f.end
    pos = np.zeros(1, dtype=POSITION_DTYPE)[0]
    tp_px = np.full(o.targets.shape[1], np.nan)
    has_fine = f.start.shape[0] == n
    write_eq = equity.shape[0] == n
    write_pos = position.shape[0] == n
    stats[:] = 0.0
    balance = p.initial_balance
    peak = balance
    max_dd = 0.0
    n_rec = 0
    trade_id = 0
    units_per_step = p.lot_step * p.contract_size
    eq = balance
    for i in range(n):
        conv = conversion[i]
        if rollover[i] != 0.0:
            _accrue_swap_nb(pos, rollover[i], conv, p)
        j = i - 1
        time_due = _time_due_nb(pos, i, p.max_bars)
        if i > 0 and (le[j] or se[j] or lx[j] or sx[j] or time_due):
            delta, n_rec, trade_id, opened = _orders_at_open_nb(
                pos, i, (le[j], se[j], lx[j], sx[j], time_due), bid_open[i], spread[i], conv,
                (stop[j] * mult[0], trail[j] * mult[2], breakeven[j] * mult[3]), p, balance,
                trade_id, records, n_rec, stats,
            )  # fmt: skip
            balance += delta
            if opened:
                set_targets_nb(pos, targets[j], mult[1], tp_px)
        if pos.direction != 0:
            if has_fine and fine_start[i] < fine_end[i]:
                delta, n_rec = _fine_exits_nb(
                    pos, i, conv, f, p, fractions, tp_px, records, n_rec, stats
                )
                balance += delta
            else:
                # only scalars in this per-bar path (array arguments cost reference counting)
                if _touched_nb(pos, high[i], low[i], spread[i]):
                    delta, n_rec = exits_in_range_nb(
                        pos, bid_open[i], high[i], low[i], spread[i], i, conv, p, fractions,
                        tp_px, records, n_rec, stats,
                    )  # fmt: skip
                    balance += delta
                if _manages_stop_nb(pos):
                    move_stop_nb(pos, high[i], low[i], spread[i], p)
        eq = balance + _mark_nb(pos, close[i], spread[i], conv, units_per_step, p.lot_step)
        peak, max_dd = _drawdown_nb(eq, peak, max_dd)
        if write_eq:
            equity[i] = eq
        if write_pos:
            position[i] = pos.direction * pos.steps * p.lot_step
    if n > 0 and p.close_at_end and pos.direction != 0:
        eq, n_rec = _close_at_end_nb(pos, m, p, balance, records, n_rec, stats, equity, position)
    stats[0] = eq
    stats[1] = trade_id
    stats[6] = max_dd
    return n_rec


@njit(cache=True)
def _tag_nb(records: np.ndarray, start: int, end: int, symbol: int) -> None:
    """Mark records ``start:end`` (those that fit) as belonging to ``symbol``."""
    for k in range(start, min(end, records.shape[0])):
        records[k].symbol = symbol


@njit(cache=True)
def _portfolio_opens_nb(
    i: int,
    m: Market,
    has_bar: npt.NDArray[np.bool_],
    o: Orders,
    params: tuple[Params, ...],
    positions: np.ndarray,
    tp_px: F8,
    prev: npt.NDArray[np.int64],
    seq: npt.NDArray[np.int64],
    balance: float,
    trade_id: int,
    records: np.ndarray,
    n_rec: int,
    stats: F8,
) -> tuple[float, int, int]:
    """Pass 1 of a portfolio bar: every symbol's market orders at its open (symbol order)."""
    for s in range(positions.shape[0]):
        j = prev[s]
        if not has_bar[s, i] or j < 0:
            continue
        pos = positions[s]
        p = params[s]
        due = pos.direction != 0 and p.max_bars > 0 and seq[s] - pos.entry_seq >= p.max_bars
        signals = (o.long_entry[s, j], o.short_entry[s, j], o.long_exit[s, j], o.short_exit[s, j])
        if not (signals[0] or signals[1] or signals[2] or signals[3] or due):
            continue
        start = n_rec
        delta, n_rec, trade_id, opened = _orders_at_open_nb(
            pos, i, (signals[0], signals[1], signals[2], signals[3], due),
            m.open[s, i], m.spread[s, i], m.conversion[s, i],
            (o.stop[s, j], o.trail[s, j], o.breakeven[s, j]), p, balance, trade_id, records,
            n_rec, stats,
        )  # fmt: skip
        balance += delta
        if opened:
            set_targets_nb(pos, o.targets[s, j], 1.0, tp_px[s])
            pos.entry_seq = seq[s]
        _tag_nb(records, start, n_rec, s)
    return balance, n_rec, trade_id


@njit(cache=True)
def _portfolio_exits_nb(
    i: int,
    m: Market,
    has_bar: npt.NDArray[np.bool_],
    o: Orders,
    params: tuple[Params, ...],
    positions: np.ndarray,
    tp_px: F8,
    records: np.ndarray,
    n_rec: int,
    stats: F8,
) -> tuple[float, int]:
    """Pass 2 of a portfolio bar: stops, targets and stop moves of every open position."""
    delta = 0.0
    for s in range(positions.shape[0]):
        pos = positions[s]
        if not has_bar[s, i] or pos.direction == 0:
            continue
        p = params[s]
        hi, lo, sp = m.high[s, i], m.low[s, i], m.spread[s, i]
        if _touched_nb(pos, hi, lo, sp):
            start = n_rec
            change, n_rec = exits_in_range_nb(
                pos, m.open[s, i], hi, lo, sp, i, m.conversion[s, i], p, o.target_fraction[s],
                tp_px[s], records, n_rec, stats,
            )  # fmt: skip
            delta += change
            _tag_nb(records, start, n_rec, s)
        if _manages_stop_nb(pos):
            move_stop_nb(pos, hi, lo, sp, p)
    return delta, n_rec


@njit(cache=True)
def run_portfolio_nb(
    m: Market,
    has_bar: npt.NDArray[np.bool_],
    o: Orders,
    params: tuple[Params, ...],
    initial_balance: float,
    records: np.ndarray,
    equity: F8,
    lots: npt.NDArray[np.float64],
    stats: F8,
) -> int:
    """Several symbols sharing one balance; return the number of trade records.

    Same contract as :func:`run_nb` but every array is 2-D ``(n_symbols, n)`` on the union of
    the symbols' bar times (``targets`` is ``(n_symbols, n, k)``, ``target_fraction``
    ``(n_symbols, k)``), ``has_bar`` marks where a symbol has a bar, ``params`` has one
    :class:`Params` per symbol (only its ``initial_balance`` is ignored) and distances are not
    scaled. A symbol's signal on its bar acts at its next bar's open. Each bar runs in two
    passes: all market orders at the open (symbol order; risk sizing sees the balance after the
    earlier symbols' fills), then all intrabar exits. Equity marks a symbol without a bar at its
    last close; a position still open at a symbol's last bar is closed at that bar's close
    (``close_at_end``), so it stops paying swap when its data stop. ``lots`` ``(n_symbols, n)``
    receives the signed open lots; records carry their ``symbol`` number.
    """
    n_sym, n = m.close.shape
    positions = np.zeros(n_sym, dtype=POSITION_DTYPE)
    tp_px = np.full((n_sym, o.targets.shape[2]), np.nan)
    prev = np.full(n_sym, -1, dtype=np.int64)
    seq = np.zeros(n_sym, dtype=np.int64)
    last_close = np.zeros(n_sym)
    last_spread = np.zeros(n_sym)
    last_bar = np.full(n_sym, -1, dtype=np.int64)  # each symbol's last bar: close there at end
    for s in range(n_sym):
        for i in range(n):
            if has_bar[s, i]:
                last_bar[s] = i
    stats[:] = 0.0
    balance = initial_balance
    peak = balance
    max_dd = 0.0
    n_rec = 0
    trade_id = 0
    eq = balance
    for i in range(n):
        for s in range(n_sym):
            if m.rollover[s, i] != 0.0:
                _accrue_swap_nb(positions[s], m.rollover[s, i], m.conversion[s, i], params[s])
        balance, n_rec, trade_id = _portfolio_opens_nb(
            i, m, has_bar, o, params, positions, tp_px, prev, seq, balance, trade_id, records,
            n_rec, stats,
        )  # fmt: skip
        delta, n_rec = _portfolio_exits_nb(
            i, m, has_bar, o, params, positions, tp_px, records, n_rec, stats
        )
        balance += delta
        for s in range(n_sym):
            if i == last_bar[s] and params[s].close_at_end and positions[s].direction != 0:
                balance += close_nb(
                    positions[s], positions[s].steps,
                    m.close[s, i] + (m.spread[s, i] if positions[s].direction < 0 else 0.0),
                    i, END_OF_DATA, m.spread[s, i], 0.0, m.conversion[s, i], params[s], records,
                    n_rec, stats,
                )  # fmt: skip
                _tag_nb(records, n_rec, n_rec + 1, s)
                n_rec += 1
        eq = balance
        for s in range(n_sym):
            p = params[s]
            if has_bar[s, i]:
                prev[s] = i
                seq[s] += 1
                last_close[s] = m.close[s, i]
                last_spread[s] = m.spread[s, i]
            eq += _mark_nb(
                positions[s], last_close[s], last_spread[s], m.conversion[s, i],
                p.lot_step * p.contract_size, p.lot_step,
            )  # fmt: skip
            lots[s, i] = positions[s].direction * positions[s].steps * p.lot_step
        peak, max_dd = _drawdown_nb(eq, peak, max_dd)
        equity[i] = eq
    stats[0] = eq
    stats[1] = trade_id
    stats[6] = max_dd
    return n_rec


@njit(cache=True)
def _no_records_nb() -> np.ndarray:
    """An empty trade record array (made outside the parallel kernel, which cannot)."""
    return np.empty(0, dtype=TRADE_DTYPE)


@njit(cache=True, parallel=True)
def simulate_batch_nb(
    m: Market,
    long_entry: npt.NDArray[np.bool_],
    short_entry: npt.NDArray[np.bool_],
    long_exit: npt.NDArray[np.bool_],
    short_exit: npt.NDArray[np.bool_],
    stop: F8,
    targets: npt.NDArray[np.float64],
    target_fraction: F8,
    trail: F8,
    breakeven: F8,
    mult: npt.NDArray[np.float64],
    f: Fine,
    p: Params,
) -> npt.NDArray[np.float64]:
    """Run ``c`` parameter combinations in parallel; return their stats ``(c, 8)``.

    Signals are 2-D ``(c, n)`` (one row per combination, C order); the distance arrays are shared
    and scaled per combination by ``mult`` ``(c, 4)`` (stop, target, trail, break-even), e.g. a
    row of percentages applied to ``close``. No trade records or equity are kept.
    """
    c = long_entry.shape[0]
    out = np.zeros((c, N_STATS))
    no_records = _no_records_nb()
    no_series = np.zeros(0)
    for col in prange(c):
        orders = Orders(
            long_entry[col], short_entry[col], long_exit[col], short_exit[col],
            stop, targets, target_fraction, trail, breakeven,
        )  # fmt: skip
        run_nb(m, orders, f, p, mult[col], no_records, no_series, no_series, out[col])
    return out


__all__ = [
    "BREAK_EVEN",
    "END_OF_DATA",
    "EXIT_SIGNAL",
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
    "run_nb",
    "run_portfolio_nb",
    "simulate_batch_nb",
]
