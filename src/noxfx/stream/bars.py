"""Bars built from ticks, live: 1m from the ticks, coarser frames from the closed 1m bars.

Conventions (the same as :mod:`noxfx.timeframes` and the bar store):

* Bars carry **bid** prices and are labelled by their UTC **open** time; a bar covers
  ``[open, open + timeframe)`` (weekly bars close Friday 17:00 New York).
* A 1m bar: open/high/low/close of the bids of its ticks, ``volume`` = number of ticks, ``spread``
  = the mean ask-bid of its ticks in points (10^-precision, as the store keeps it).
* A coarser bar aggregates the 1m bars inside its bucket exactly as
  :func:`noxfx.timeframes.resample` does (first open, max high, min low, last close, summed
  volume, mean spread), so live bars equal the resampling of the same 1m bars.
* A bar closes when market time reaches its close: a tick (or a heartbeat, :meth:`advance`) at or
  after ``open + timeframe``. Coarser bars close in the same step as their last 1m bar.
* A bar whose interval began before the builder's coverage (``covered_from``: the first tick, or
  the first stored 1m bar it was seeded with) is **partial**: it is reported with
  ``complete=False`` so the runner neither stores it nor announces it as closed.

Times are integers (ns since the epoch, UTC) inside; events carry ``pd.Timestamp``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from noxfx.instruments import get_instrument
from noxfx.stream.events import BarEvent
from noxfx.timeframes import Timeframe, bucket_close, bucket_open, parse_timeframe

if TYPE_CHECKING:
    pass

_NS = 1_000_000_000
_MINUTE_NS = 60 * _NS
#: frames up to 1h are aligned to the UTC clock (New York offsets are whole hours)
_CLOCK_ALIGNED_MAX_S = 3600


@dataclass(slots=True)
class _Bar:
    """A running aggregate: one bar of one timeframe."""

    open_ns: int
    close_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    spread_sum: float
    spread_n: int

    def add_price(self, price: float, spread: float) -> None:
        if price > self.high:
            self.high = price
        if price < self.low:
            self.low = price
        self.close = price
        self.volume += 1.0
        self.spread_sum += spread
        self.spread_n += 1

    def add_bar(self, bar: _Bar) -> None:
        """Fold a finer closed bar in (resample's rules; spread: mean of the finer bars')."""
        if bar.high > self.high:
            self.high = bar.high
        if bar.low < self.low:
            self.low = bar.low
        self.close = bar.close
        self.volume += bar.volume
        self.spread_sum += bar.spread
        self.spread_n += 1

    @property
    def spread(self) -> float:
        return self.spread_sum / self.spread_n if self.spread_n else float("nan")

    def copy(self) -> _Bar:
        return _Bar(self.open_ns, self.close_ns, self.open, self.high, self.low, self.close,
                    self.volume, self.spread_sum, self.spread_n)  # fmt: skip


@dataclass(slots=True)
class BarsUpdate:
    """What one tick (or heartbeat) did: bars that closed (finest first) and the forming bars."""

    closed: list[BarEvent] = field(default_factory=list)
    forming: list[BarEvent] = field(default_factory=list)


class BarBuilder:
    """Live bars of one symbol at ``timeframes`` (1m is always built); see the module docstring."""

    def __init__(self, symbol: str, timeframes: Sequence[str | Timeframe] = ("1m",)) -> None:
        self.instrument = get_instrument(symbol)
        self.symbol = self.instrument.symbol
        tfs = sorted({parse_timeframe(t) for t in timeframes} | {parse_timeframe("1m")})
        self.minute = tfs[0]
        self.coarse: list[Timeframe] = tfs[1:]
        self.timeframes: list[Timeframe] = tfs
        self._point = 10.0**self.instrument.precision
        self._cur: _Bar | None = None  # the forming 1m bar
        self._agg: list[_Bar | None] = [None] * len(self.coarse)  # closed 1m bars of the bucket
        self._buckets: list[tuple[int, int]] = [(0, 0)] * len(self.coarse)  # cached (open, close)
        self.covered_from_ns: int | None = None
        self.last_ns: int | None = None  # market time of the last tick / heartbeat

    # ------------------------------------------------------------------ input
    def on_tick(self, time: pd.Timestamp | int, bid: float, ask: float) -> BarsUpdate:
        """Feed one tick (UTC); returns the bars it closed and every forming bar after it.

        Ticks older than the last one are ignored (an out-of-order tick would rewrite a bar
        already announced): the update is empty.
        """
        t = _ns(time)
        if self.last_ns is not None and t < self.last_ns:
            return BarsUpdate()
        update = BarsUpdate(closed=self._close_until(t))
        if self.covered_from_ns is None:
            self.covered_from_ns = t
        self.last_ns = t
        spread = (ask - bid) * self._point
        cur = self._cur
        if cur is None:
            open_ns = t - t % _MINUTE_NS
            cur = self._cur = _Bar(open_ns, open_ns + _MINUTE_NS, bid, bid, bid, bid, 0.0, 0.0, 0)
        cur.add_price(bid, spread)
        update.forming = self._forming()
        return update

    def advance(self, time: pd.Timestamp | int) -> list[BarEvent]:
        """Market time moved to ``time`` without a tick (a heartbeat): close what ended."""
        t = _ns(time)
        if self.last_ns is not None and t < self.last_ns:
            return []
        self.last_ns = t
        return self._close_until(t)

    def seed(self, bars_1m: pd.DataFrame, covered_from: pd.Timestamp | None = None) -> None:
        """Start from stored closed 1m bars (a restart): they fill the coarser buckets that are
        still open, without any event. ``covered_from``: since when the 1m bars are complete
        (default: the first seeded bar)."""
        if bars_1m.empty:
            return
        times = pd.DatetimeIndex(bars_1m.index).as_unit("ns").asi8
        spread = bars_1m["spread"].to_numpy() if "spread" in bars_1m else None
        volume = bars_1m["volume"].to_numpy() if "volume" in bars_1m else None
        o, h, lo, c = (
            bars_1m[k].to_numpy(dtype="float64") for k in ("open", "high", "low", "close")
        )
        for i, raw in enumerate(times.tolist()):
            t = int(raw)
            bar = _Bar(t, t + _MINUTE_NS, float(o[i]), float(h[i]), float(lo[i]), float(c[i]),
                       float(volume[i]) if volume is not None else 0.0,
                       float(spread[i]) if spread is not None else float("nan"), 1)  # fmt: skip
            self._fold(bar, emit=None)
        self.covered_from_ns = _ns(covered_from) if covered_from is not None else int(times[0])
        self.last_ns = int(times[-1]) + _MINUTE_NS

    # ------------------------------------------------------------------ internals
    def _close_until(self, t: int) -> list[BarEvent]:
        closed: list[BarEvent] = []
        cur = self._cur
        if cur is not None and t >= cur.close_ns:
            closed.append(self._event(cur, self.minute, closed=True))
            self._cur = None
            self._fold(cur, emit=closed)
        for i, agg in enumerate(self._agg):
            if agg is not None and t >= agg.close_ns:
                closed.append(self._event(agg, self.coarse[i], closed=True))
                self._agg[i] = None
        return closed

    def _fold(self, bar: _Bar, emit: list[BarEvent] | None) -> None:
        """Add a closed 1m bar to every coarser bucket (closing a bucket it has left)."""
        for i, tf in enumerate(self.coarse):
            agg = self._agg[i]
            if agg is not None and bar.open_ns >= agg.close_ns:
                if emit is not None:
                    emit.append(self._event(agg, tf, closed=True))
                agg = self._agg[i] = None
            if agg is None:
                start, end = self._bucket(i, bar.open_ns)
                self._agg[i] = _Bar(start, end, bar.open, bar.high, bar.low, bar.close,
                                    bar.volume, bar.spread, 1)  # fmt: skip
            else:
                agg.add_bar(bar)

    def _bucket(self, i: int, t: int) -> tuple[int, int]:
        """(open, close) in ns of the ``coarse[i]`` bucket holding ``t`` (cached: one pandas
        call per bucket for the New-York-aligned 4h/1d/1w frames)."""
        start, end = self._buckets[i]
        if start <= t < end:
            return start, end
        tf = self.coarse[i]
        if tf.seconds <= _CLOCK_ALIGNED_MAX_S:
            step = tf.seconds * _NS
            start = t - t % step
            end = start + step
        else:
            open_ts = bucket_open(pd.DatetimeIndex([pd.Timestamp(t, tz="UTC")]), tf)[0]
            start, end = open_ts.value, bucket_close(open_ts, tf).value
        self._buckets[i] = (start, end)
        return start, end

    def _forming(self) -> list[BarEvent]:
        cur = self._cur
        assert cur is not None
        out = [self._event(cur, self.minute, closed=False)]
        for i, tf in enumerate(self.coarse):
            agg = self._agg[i]
            if agg is None:
                start, end = self._bucket(i, cur.open_ns)
                bar = _Bar(start, end, cur.open, cur.high, cur.low, cur.close, cur.volume,
                           cur.spread, 1)  # fmt: skip
            else:
                bar = agg.copy()
                bar.add_bar(cur)
            out.append(self._event(bar, tf, closed=False))
        return out

    def _event(self, bar: _Bar, tf: Timeframe, *, closed: bool) -> BarEvent:
        complete = self.covered_from_ns is not None and bar.open_ns >= self.covered_from_ns
        return BarEvent(
            symbol=self.symbol, timeframe=tf.name, time=pd.Timestamp(bar.open_ns, tz="UTC"),
            open=bar.open, high=bar.high, low=bar.low, close=bar.close, volume=bar.volume,
            closed=closed, spread_pips=self.instrument.to_pips(bar.spread / self._point),
            complete=complete, spread_points=bar.spread,
        )  # fmt: skip


def _ns(time: pd.Timestamp | int) -> int:
    if isinstance(time, int):
        return time
    return int(pd.Timestamp(time).value)


def events_frame(bars: Sequence[BarEvent]) -> pd.DataFrame:
    """Closed bars as a bar frame (the store's columns; ``spread`` in points)."""
    index = pd.DatetimeIndex([b.time for b in bars], name="time").as_unit("ns")
    return pd.DataFrame(
        {"open": [b.open for b in bars], "high": [b.high for b in bars],
         "low": [b.low for b in bars], "close": [b.close for b in bars],
         "volume": [b.volume for b in bars], "spread": [b.spread_points for b in bars]},
        index=index,
    )  # fmt: skip


__all__ = ["BarBuilder", "BarsUpdate", "events_frame"]
