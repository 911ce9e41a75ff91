"""Real tick sources for the stream: a provider's price stream that keeps itself alive.

:class:`ProviderStreamSource` wraps a function that opens one connection (for OANDA v20,
:meth:`noxfx.data.providers.oanda.OandaProvider.stream_with_heartbeats`: ticks, and None for
each heartbeat) and turns it into an endless :class:`~noxfx.stream.sources.TickSource`:

* a connection that ends, fails (HTTP 5xx, reset, malformed line) or goes silent (no line,
  heartbeats included, for the client's read timeout) is reopened after an exponential backoff
  with full jitter (``uniform(0, min(max, base * 2**attempt))`` seconds), reset after a tick;
* heartbeats become :class:`~noxfx.stream.sources.Heartbeat` items stamped with the wall clock,
  so the runner closes bars on time on a quiet market;
* resume without duplicates: a tick at or before the last one of its symbol (a reconnect that
  replays the last price) is dropped, so bars are built from each price once. Bars missed
  while disconnected are not back-filled from history yet.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pandas as pd

from noxfx.data.providers.base import ProviderError, Tick
from noxfx.stream.sources import Heartbeat

log = logging.getLogger(__name__)

#: Opens one connection: yields ticks, and None for each heartbeat.
Opener = Callable[[Sequence[str]], Iterator[Tick | None]]


class ProviderStreamSource:
    """An endless, reconnecting tick source over ``open_stream`` (module docstring)."""

    name = "provider-stream"

    def __init__(
        self,
        open_stream: Opener,
        symbols: Sequence[str],
        *,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        stop: threading.Event | None = None,
        rng: random.Random | None = None,
        max_connections: int | None = None,
    ) -> None:
        self.open_stream = open_stream
        self.symbols = list(symbols)
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.stop = stop or threading.Event()
        self.rng = rng or random.Random()
        self.max_connections = max_connections
        self.connections = 0
        self.failures = 0
        self.duplicates = 0
        self._last: dict[str, pd.Timestamp] = {}

    def __iter__(self) -> Iterator[Tick | Heartbeat]:
        attempt = 0
        while not self.stop.is_set():
            if self.max_connections is not None and self.connections >= self.max_connections:
                return
            self.connections += 1
            try:
                for item in self.open_stream(self.symbols):
                    if self.stop.is_set():
                        return
                    if item is None:
                        yield Heartbeat(pd.Timestamp(time.time(), unit="s", tz="UTC"))
                        continue
                    last = self._last.get(item.symbol)
                    if last is not None and item.time <= last:
                        self.duplicates += 1
                        continue
                    self._last[item.symbol] = item.time
                    attempt = 0
                    yield item
                log.info("stream: the provider closed the connection; reconnecting")
            except ProviderError as exc:
                self.failures += 1
                log.warning("stream: provider stream failed (%s); reconnecting", exc)
            delay = self.rng.uniform(0.0, min(self.backoff_max_s, self.backoff_base_s * 2**attempt))
            attempt += 1
            self.stop.wait(delay)


__all__ = ["Opener", "ProviderStreamSource"]
