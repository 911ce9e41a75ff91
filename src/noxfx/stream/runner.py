"""The stream runner: ticks -> quotes and bars -> validation -> bar store -> bus and listeners.

For every tick of its source, in order, on one thread:

1. The symbol's :class:`~noxfx.stream.bars.BarBuilder` turns it into forming bars and the bars
   it closed (1m from the ticks, coarser frames from the 1m bars, forex conventions).
2. Closed, complete bars are validated like imported bars (:func:`noxfx.data.validation.validate`
   with the last stored bars as context); a bar that fails is logged and dropped.
3. When persisting, closed bars newer than the stored ones are appended to the bar store, one
   atomic write per dataset (coarsest first, 1m last: the resume point is the last stored 1m
   bar, so a crash between two writes re-closes the coarser bar, which is then already stored).
   The data version of the symbol changes, so the API's caches refresh.
4. ``bar_closed`` then ``tick`` messages are published on the bus, and every
   :class:`~noxfx.stream.events.LiveListener` gets ``on_bar_closed`` / ``on_quote``. A listener
   that raises is logged (rate-limited) and keeps receiving events; a bus that fails (Redis down)
   is logged and the stream goes on storing bars.

Restart: :meth:`StreamRunner.resume_points` gives, per symbol, the close of its last stored 1m
bar; ticks before it are skipped and the builders are seeded with the stored 1m bars of the
buckets still open, so the next coarser bars are complete. Bars are stored append-only: the
runner never rewrites a stored bar, so replaying history the store already holds stores nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from noxfx.data.providers.base import Quote, Tick
from noxfx.stream.bars import BarBuilder, events_frame
from noxfx.stream.events import BarEvent, LiveListener
from noxfx.stream.messages import bar_closed_message, tick_message
from noxfx.stream.sources import Heartbeat
from noxfx.timeframes import Timeframe, bucket_open, parse_timeframe

if TYPE_CHECKING:
    from noxfx.data.store import BarStore
    from noxfx.stream.bus import Bus

log = logging.getLogger(__name__)

#: stored bars kept per dataset as context for validating new ones
_CONTEXT_BARS = 60
_MINUTE = pd.Timedelta(minutes=1)


@dataclass
class RunnerStats:
    """Counters of one run (exposed by ``noxfx stream`` at exit and in its log)."""

    ticks: int = 0
    skipped: int = 0  # before the resume point, or out of order
    bars_closed: int = 0
    bars_stored: int = 0
    bars_rejected: int = 0
    publish_errors: int = 0
    listener_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class StreamRunner:
    """Runs one tick source into the bus, the store and the listeners (module docstring).

    ``store`` None (or ``persist=False``) publishes without storing. ``clock`` gives the wall
    time stamped on messages (``sent``, epoch seconds).
    """

    def __init__(
        self,
        bus: Bus,
        symbols: Sequence[str],
        *,
        store: BarStore | None = None,
        timeframes: Sequence[str | Timeframe] = ("1m", "5m", "15m", "1h", "4h", "1d", "1w"),
        listeners: Sequence[LiveListener] = (),
        persist: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from noxfx.instruments import get_instrument

        self.bus = bus
        self.store = store
        self.persist = persist and store is not None
        self.timeframes = sorted({parse_timeframe(t) for t in timeframes} | {parse_timeframe("1m")})
        self.symbols = [get_instrument(s).symbol for s in symbols]
        self.listeners = list(listeners)
        self.clock = clock
        self.stats = RunnerStats()
        self.builders = {s: BarBuilder(s, self.timeframes) for s in self.symbols}
        self._resume: dict[str, pd.Timestamp | None] = {}
        self._last_stored: dict[tuple[str, str], pd.Timestamp | None] = {}
        self._context: dict[tuple[str, str], deque[BarEvent]] = {}
        self._listener_failures: dict[int, int] = {}
        if self.persist:
            self._load_store_state()

    # ------------------------------------------------------------------ restart
    def resume_points(self) -> dict[str, pd.Timestamp | None]:
        """Per symbol, where the stream resumes: the close of its last stored 1m bar (or None)."""
        return dict(self._resume)

    def resume_from(self) -> pd.Timestamp | None:
        """The earliest resume point over the symbols (None when any starts fresh)."""
        points = list(self._resume.values())
        if not points or any(p is None for p in points):
            return None
        return min(p for p in points if p is not None)

    def _load_store_state(self) -> None:
        from noxfx.errors import InsufficientData

        assert self.store is not None
        for sym in self.symbols:
            for tf in self.timeframes:
                try:
                    info = self.store.info(sym, tf)
                except InsufficientData:
                    self._last_stored[(sym, tf.name)] = None
                    continue
                self._last_stored[(sym, tf.name)] = info.last
            last_1m = self._last_stored[(sym, "1m")]
            self._resume[sym] = None if last_1m is None else last_1m + _MINUTE
            if last_1m is not None:
                self._seed(sym, last_1m)

    def _seed(self, sym: str, last_1m: pd.Timestamp) -> None:
        """Feed the stored 1m bars of the still-open coarser buckets to the builder."""
        assert self.store is not None
        resume = last_1m + _MINUTE
        builder = self.builders[sym]
        starts = [bucket_open(pd.DatetimeIndex([resume]), tf)[0] for tf in builder.coarse]
        lo = min(starts, default=resume)
        bars = self.store.read(sym, "1m", lo, last_1m)
        first = self.store.info(sym, "1m").first
        builder.seed(bars, covered_from=first)

    # ------------------------------------------------------------------ running
    def run(
        self, source: Iterable[Tick | Heartbeat], stop: threading.Event | None = None
    ) -> RunnerStats:
        """Consume ``source`` until it ends or ``stop`` is set; returns the counters."""
        for item in source:
            if stop is not None and stop.is_set():
                break
            if isinstance(item, Heartbeat):
                self.on_heartbeat(item.time)
            else:
                self.on_tick(item)
        return self.stats

    def on_heartbeat(self, when: pd.Timestamp) -> None:
        for builder in self.builders.values():
            closed = builder.advance(when)
            if closed:
                self._closed(closed)

    def on_tick(self, tick: Tick) -> None:
        builder = self.builders.get(tick.symbol)
        if builder is None:
            return
        resume = self._resume.get(tick.symbol)
        if resume is not None and tick.time < resume:
            self.stats.skipped += 1
            return
        update = builder.on_tick(tick.time, tick.bid, tick.ask)
        if not update.forming:  # an out-of-order tick
            self.stats.skipped += 1
            return
        self.stats.ticks += 1
        if update.closed:
            self._closed(update.closed)
        quote = Quote(tick.symbol, tick.bid, tick.ask, tick.time, tick.source)
        self._publish(tick_message(quote, update.forming, self.clock()))
        for listener in self.listeners:
            self._call(listener, "on_quote", quote)

    def _closed(self, bars: list[BarEvent]) -> None:
        good = [b for b in bars if b.complete and self._valid(b)]
        if not good:
            return
        self.stats.bars_closed += len(good)
        if self.persist:
            self._store(good)
        sent = self.clock()
        for bar in good:
            self._publish(bar_closed_message(bar, sent))
        for bar in good:
            for listener in self.listeners:
                self._call(listener, "on_bar_closed", bar)

    def _valid(self, bar: BarEvent) -> bool:
        from noxfx.data.validation import validate

        key = (bar.symbol, bar.timeframe)
        context = self._context.get(key)
        if context is None:
            context = self._context[key] = self._load_context(bar)
        frame = events_frame([*context, bar])
        report = validate(
            frame, parse_timeframe(bar.timeframe), source=f"stream {bar.symbol} {bar.timeframe}"
        )
        bad = [p for p in report.errors if p.row == len(frame) - 1]
        if bad:
            self.stats.bars_rejected += 1
            log.warning("stream: %s %s bar %s rejected: %s", bar.symbol, bar.timeframe,
                        bar.time.isoformat(), "; ".join(p.detail for p in bad))  # fmt: skip
            return False
        context.append(bar)
        return True

    def _load_context(self, bar: BarEvent) -> deque[BarEvent]:
        out: deque[BarEvent] = deque(maxlen=_CONTEXT_BARS)
        if self.store is None or self._last_stored.get((bar.symbol, bar.timeframe)) is None:
            return out
        tf = parse_timeframe(bar.timeframe)
        lo = bar.time - pd.Timedelta(seconds=tf.seconds * _CONTEXT_BARS * 3)
        try:
            frame = self.store.read(
                bar.symbol, tf, lo, bar.time - pd.Timedelta(1, "ns"), derive=False
            )
        except Exception:  # unreadable context: validate the bar alone
            return out
        for t, row in frame.tail(_CONTEXT_BARS).iterrows():
            out.append(BarEvent(bar.symbol, bar.timeframe, pd.Timestamp(str(t)), float(row["open"]),
                                float(row["high"]), float(row["low"]), float(row["close"]),
                                float(row.get("volume", 0.0)), True,
                                spread_points=float(row.get("spread", float("nan")))))  # fmt: skip
        return out

    def _store(self, bars: list[BarEvent]) -> None:
        assert self.store is not None
        by_key: dict[tuple[str, str], list[BarEvent]] = {}
        for bar in bars:
            last = self._last_stored.get((bar.symbol, bar.timeframe))
            if last is None or bar.time > last:
                by_key.setdefault((bar.symbol, bar.timeframe), []).append(bar)
        # coarsest first, 1m last (see the module docstring)
        for key in sorted(by_key, key=lambda k: -parse_timeframe(k[1]).seconds):
            group = by_key[key]
            try:
                self.store.write(key[0], key[1], events_frame(group), source="stream")
            except Exception:
                log.exception("stream: could not store %s %s bars", *key)
                continue
            self._last_stored[key] = group[-1].time
            self.stats.bars_stored += len(group)

    def _publish(self, message: dict[str, Any]) -> None:
        try:
            self.bus.publish(message)
        except Exception as exc:
            self.stats.publish_errors += 1
            if self.stats.publish_errors in (1, 10, 100) or self.stats.publish_errors % 1000 == 0:
                log.warning(
                    "stream: publish failed (%s; %d so far)", exc, self.stats.publish_errors
                )

    def _call(self, listener: LiveListener, method: str, arg: Any) -> None:
        try:
            getattr(listener, method)(arg)
        except Exception:
            self.stats.listener_errors += 1
            n = self._listener_failures[id(listener)] = (
                self._listener_failures.get(id(listener), 0) + 1
            )
            if n <= 5 or n % 1000 == 0:
                log.exception("stream: listener %s.%s failed (%d times)",
                              type(listener).__name__, method, n)  # fmt: skip


__all__ = ["RunnerStats", "StreamRunner"]
