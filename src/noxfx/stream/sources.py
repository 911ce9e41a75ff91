"""Where live prices come from: a :class:`TickSource` yields ticks (and heartbeats) in time order.

* :class:`ReplaySource` (the offline default) replays stored bars as ticks through the
  :class:`~noxfx.data.providers.replay.ReplayProvider` path (open, the nearer extreme, the other
  extreme, close: four ticks per bar at 0, 1/3, 2/3 of the bar and one second before its close),
  from ``start`` at ``speed`` times real time. With ``loop`` it starts again at the end, shifted
  by whole weeks so that market time keeps moving forward (weekday and session structure kept).
* Real sources (the OANDA v20 pricing stream, polling providers) are not built yet.

A source stops when its ``stop`` event is set (pauses wake up at once).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from noxfx.data.providers.base import Tick
from noxfx.data.providers.resilience import SystemClock

if TYPE_CHECKING:
    from noxfx.data.store import BarStore

_WEEK = pd.Timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The source is alive and market time is ``time`` (UTC); bars that ended close."""

    time: pd.Timestamp
    source: str = ""


class TickSource(Protocol):
    """An iterable of :class:`Tick` / :class:`Heartbeat`, in time order per symbol."""

    name: str
    symbols: Sequence[str]

    def __iter__(self) -> Iterator[Tick | Heartbeat]: ...


class _StopClock(SystemClock):
    """The replay's clock: real time, with sleeps that end when ``stop`` is set."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(seconds)


class ReplaySource:
    """Stored bars of ``symbols`` replayed as ticks (see the module docstring).

    ``start``/``end`` bound the replayed bars' open times (UTC); without ``start`` the last
    ``replay_bars`` bars are replayed. ``speed`` None replays as fast as the consumer goes.
    """

    name = "replay"

    def __init__(
        self,
        store: BarStore,
        symbols: Sequence[str],
        *,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
        speed: float | None = 60.0,
        loop: bool = False,
        replay_bars: int = 500,
        max_sleep_s: float = 5.0,
        stop: threading.Event | None = None,
    ) -> None:
        from noxfx.data.providers.replay import ReplayProvider

        self.stop = stop or threading.Event()
        self.provider = ReplayProvider(
            store, clock=_StopClock(self.stop), speed=speed, max_sleep_s=max_sleep_s,
            replay_bars=replay_bars,
        )  # fmt: skip
        self.symbols = [self.provider.instrument(s).symbol for s in symbols]
        self.start = None if start is None else _utc(start)
        self.end = None if end is None else _utc(end)
        self.loop = loop

    def __iter__(self) -> Iterator[Tick | Heartbeat]:
        shift = pd.Timedelta(0)
        while not self.stop.is_set():
            first = last = None
            for tick in self.provider.stream(self.symbols, self.start, self.end):
                if self.stop.is_set():
                    return
                if shift:
                    tick = Tick(tick.symbol, tick.time + shift, tick.bid, tick.ask, tick.source)
                first = tick.time if first is None else first
                last = tick.time
                yield tick
            if not self.loop or first is None or last is None:
                return
            # whole weeks: the next lap starts after this one ended, same weekday and hour
            weeks = (last - first) // _WEEK + 1
            shift += weeks * _WEEK


def _utc(value: pd.Timestamp | str) -> pd.Timestamp:
    from noxfx.data.providers.base import utc_timestamp

    return utc_timestamp(value)


__all__ = ["Heartbeat", "ReplaySource", "TickSource"]
