"""A slow, plain-Python reference simulator for checking the numba engine.

Written from the rules in the ``noxfx.backtest.nb`` docstring, on purpose without sharing code
with the engine: Python objects for positions, ``datetime`` arithmetic in New York time for the
rollovers, lots as integer hundredths computed with ``round``. One event loop over the bars:

1. a position carried into the bar over a 17:00 New York rollover accrues swap (3 days on the
   Wednesday rollover);
2. at the bar's open: orders from the previous bar's signals (exit signal, reversal, time exit,
   then the entry; entries at the ask for longs, the bid for shorts, plus slippage);
3. inside the bar: stop gapped at the open -> fill at the open; targets gapped at the open ->
   fill at the open; stop touched -> fill at the stop (taken before any target of the bar);
   targets touched -> fill at the target, in level order;
4. equity marked at the close (longs at the bid, shorts at the ask).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

NY = "America/New_York"


def reference_rollover_days(index: pd.DatetimeIndex, triple_weekday: int = 2) -> list[int]:
    """Swap days charged to positions carried into each bar, found by walking 17:00 New York."""
    local = index.tz_convert(NY)
    out = [0] * len(index)
    if len(index) == 0:
        return out

    def first_roll_after(ts: pd.Timestamp) -> pd.Timestamp:
        # 17:00 local on that date, DST-aware
        candidate = pd.Timestamp(year=ts.year, month=ts.month, day=ts.day, hour=17, tz=NY)
        if candidate <= ts:
            nxt = ts.date() + timedelta(days=1)
            candidate = pd.Timestamp(year=nxt.year, month=nxt.month, day=nxt.day, hour=17, tz=NY)
        return candidate

    next_roll = first_roll_after(local[0])
    for i in range(1, len(index)):
        now = local[i]
        days = 0
        while next_roll <= now:
            wd = next_roll.weekday()
            if wd < 5:
                days += 3 if wd == triple_weekday else 1
            nxt = next_roll.date() + timedelta(days=1)
            next_roll = pd.Timestamp(year=nxt.year, month=nxt.month, day=nxt.day, hour=17, tz=NY)
        out[i] = days
    return out


@dataclass
class Setup:
    """Everything the reference needs, in plain units."""

    pip: float
    contract: float
    lots: float  # fixed lots (used when risk is 0)
    risk: float  # fraction of balance, 0 = fixed lots
    commission: float  # per lot per side, account currency
    slippage: float  # price units
    swap_long: float  # account currency per lot per night (already converted if needed)
    swap_short: float
    swap_points_value: float  # if > 0, swaps are points: amount = points * this * rate (quote)
    max_bars: int
    balance: float
    target_fractions: list[float] = field(default_factory=list)


@dataclass
class Position:
    trade_id: int
    direction: int
    entry_bar: int
    entry_price: float
    entry_spread: float
    hundredths0: int
    hundredths: int
    stop: float
    initial_stop: float
    targets: list[float]
    risk_per_lot: float
    next_target: int = 0
    swap_per_lot: float = 0.0


def reference_simulate(  # noqa: C901 - deliberately one readable event loop
    bars: pd.DataFrame,
    spread: np.ndarray,
    rate: np.ndarray,
    signals: dict[str, np.ndarray],
    stop_dist: np.ndarray,
    target_dists: list[np.ndarray],
    setup: Setup,
) -> tuple[list[dict], list[float]]:
    """Return (closes as dicts, equity per bar). ``rate`` is quote -> account per bar."""
    o = bars["open"].tolist()
    h = bars["high"].tolist()
    lo = bars["low"].tolist()
    c = bars["close"].tolist()
    sp = [float(x) for x in spread]
    rolls = reference_rollover_days(pd.DatetimeIndex(bars.index))
    le, se = signals["long_entry"].tolist(), signals["short_entry"].tolist()
    lx, sx = signals["long_exit"].tolist(), signals["short_exit"].tolist()
    balance = setup.balance
    pos: Position | None = None
    closes: list[dict] = []
    equity: list[float] = []
    next_id = 0

    def close(p: Position, hundredths: int, price: float, bar: int, reason: str, slip: float):
        nonlocal balance, pos
        lots = hundredths / 100.0
        units = lots * setup.contract
        pnl_quote = (price - p.entry_price) * units * p.direction
        gross = pnl_quote * rate[bar]
        commission_exit = setup.commission * lots
        swap = p.swap_per_lot * lots
        balance += gross - commission_exit + swap
        p.hundredths -= hundredths
        closes.append(
            {
                "trade_id": p.trade_id,
                "entry_bar": p.entry_bar,
                "exit_bar": bar,
                "direction": p.direction,
                "entry_price": p.entry_price,
                "exit_price": price,
                "lots": lots,
                "pnl": gross - 2 * setup.commission * lots + swap,
                "swap": swap,
                "commission": 2 * setup.commission * lots,
                "reason": reason,
                "slippage": slip,
            }
        )
        if p.hundredths == 0:
            pos = None

    for i in range(len(o)):
        # 1. rollover
        if pos is not None and rolls[i]:
            per_night = setup.swap_long if pos.direction == 1 else setup.swap_short
            if setup.swap_points_value > 0:
                per_night = per_night * setup.swap_points_value * rate[i]
            pos.swap_per_lot += per_night * rolls[i]
        # 2. orders at the open
        if i > 0:
            want_long = le[i - 1] and not lx[i - 1]
            want_short = se[i - 1] and not sx[i - 1]
            if want_long and want_short:
                want_long = want_short = False
            if pos is not None:
                reason = None
                if (pos.direction == 1 and lx[i - 1]) or (pos.direction == -1 and sx[i - 1]):
                    reason = "exit_signal"
                elif (pos.direction == 1 and want_short) or (pos.direction == -1 and want_long):
                    reason = "reversal"
                elif setup.max_bars and i - pos.entry_bar >= setup.max_bars:
                    reason = "time_exit"
                if reason:
                    if pos.direction == 1:
                        price = o[i] - setup.slippage
                    else:
                        price = o[i] + sp[i] + setup.slippage
                    close(pos, pos.hundredths, price, i, reason, setup.slippage)
            if pos is None and (want_long or want_short) and balance > 0:
                direction = 1 if want_long else -1
                pos = _open(
                    direction, i, o[i], sp[i], stop_dist[i - 1],
                    [t[i - 1] for t in target_dists], rate[i], balance, setup, next_id,
                )  # fmt: skip
                if pos is not None:
                    balance -= setup.commission * pos.hundredths / 100.0
                    next_id += 1
        # 3. inside the bar
        if pos is not None:
            _inside_bar(pos, i, o[i], h[i], lo[i], sp[i], setup, close)
        # end of data
        if i == len(o) - 1 and pos is not None:
            price = c[i] if pos.direction == 1 else c[i] + sp[i]
            close(pos, pos.hundredths, price, i, "end_of_data", 0.0)
        # 4. mark to market
        mark = 0.0
        if pos is not None:
            lots = pos.hundredths / 100.0
            if pos.direction == 1:
                mark = (c[i] - pos.entry_price) * lots * setup.contract * rate[i]
            else:
                mark = (pos.entry_price - c[i] - sp[i]) * lots * setup.contract * rate[i]
            mark += pos.swap_per_lot * lots
        equity.append(balance + mark)
    return closes, equity


def _open(
    direction: int,
    i: int,
    bid_open: float,
    spread: float,
    stop_dist: float,
    target_dists: list[float],
    rate: float,
    balance: float,
    setup: Setup,
    trade_id: int,
) -> Position | None:
    price = bid_open + spread + setup.slippage if direction == 1 else bid_open - setup.slippage
    if math.isnan(stop_dist):
        return None  # the runs below always configure a stop
    risk_per_lot = stop_dist * setup.contract * rate
    if setup.risk:
        hundredths = math.floor(balance * setup.risk / risk_per_lot * 100 + 1e-9)
    else:
        hundredths = round(setup.lots * 100)
    if hundredths < 1:
        return None
    stop = price - stop_dist if direction == 1 else price + stop_dist
    targets = [
        (price + d if direction == 1 else price - d) if d > 0 else math.nan for d in target_dists
    ]
    return Position(
        trade_id, direction, i, price, spread, hundredths, hundredths, stop, stop, targets,
        risk_per_lot,
    )  # fmt: skip


def _inside_bar(pos, i, bid_open, bid_high, bid_low, spread, setup, close) -> None:
    shift = 0.0 if pos.direction == 1 else spread
    first, top, bottom = bid_open + shift, bid_high + shift, bid_low + shift
    long = pos.direction == 1

    def beyond(price: float, level: float) -> bool:  # price at or past a target level
        return price >= level if long else price <= level

    # stop gapped at the open
    if (first <= pos.stop) if long else (first >= pos.stop):
        slip = setup.slippage
        close(pos, pos.hundredths, first - slip if long else first + slip, i, "stop_loss", slip)
        return
    # targets gapped at the open
    while pos.next_target < len(pos.targets) and pos.hundredths:
        level = pos.targets[pos.next_target]
        if math.isnan(level):
            pos.next_target += 1
            continue
        if not beyond(first, level):
            break
        _target(pos, first, i, setup, close)
        if pos.hundredths == 0:
            return
    # stop touched: taken first
    if (bottom <= pos.stop) if long else (top >= pos.stop):
        slip = setup.slippage
        fill = pos.stop - slip if long else pos.stop + slip
        close(pos, pos.hundredths, fill, i, "stop_loss", slip)
        return
    while pos.next_target < len(pos.targets) and pos.hundredths:
        level = pos.targets[pos.next_target]
        if math.isnan(level):
            pos.next_target += 1
            continue
        if not beyond(top if long else bottom, level):
            break
        _target(pos, level, i, setup, close)


def _target(pos, price, i, setup, close) -> None:
    k = pos.next_target
    pos.next_target += 1
    fraction = setup.target_fractions[k]
    name = "take_profit" if k == 0 else f"take_profit_{k + 1}"
    if fraction >= 1:
        close(pos, pos.hundredths, price, i, name, 0.0)
        return
    part = math.floor(pos.hundredths0 * fraction + 1e-9)
    if part >= pos.hundredths or pos.hundredths - part < 1:
        close(pos, pos.hundredths, price, i, name, 0.0)
    elif part >= 1:
        close(pos, part, price, i, name, 0.0)
