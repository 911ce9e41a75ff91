"""What one API process knows of the live feed, built from the stream's bus messages.

Per symbol the last quote (with the wall time it arrived, for its age); per (symbol, timeframe)
the forming bar and the last ``max_bars`` closed bars, for clients that reconnect and ask for
what they missed. Applying a bus message returns the Socket.IO events it causes:

* ``market_update`` (the quote) to room ``market_{SYMBOL}``;
* ``bar`` (the forming bar) and ``bar_closed`` to room ``bars_{SYMBOL}_{TIMEFRAME}``.

Everything runs under :attr:`LiveState.lock`: the bus thread applies messages and emits under
it, and a resuming client reads its missed bars and joins the rooms under it, so a resumed
client gets every bar exactly once (missed ones first, then live ones). Times are ISO 8601 UTC
strings as on the wire; a bar's ``time`` is its open.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from noxfx.stream.messages import BAR_CLOSED, TICK

#: (event, payload, room)
Emission = tuple[str, dict[str, Any], str]


def market_room(symbol: str) -> str:
    return f"market_{symbol}"


def bars_room(symbol: str, timeframe: str) -> str:
    return f"bars_{symbol}_{timeframe}"


class LiveState:
    """Last quotes, forming bars and recent closed bars of the live feed (module docstring)."""

    def __init__(self, max_bars: int = 5000, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.max_bars = max_bars
        self.clock = clock
        self._quotes: dict[str, tuple[dict[str, Any], float]] = {}
        self._forming: dict[tuple[str, str], dict[str, Any]] = {}
        self._closed: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self.messages = 0

    def apply(self, message: dict[str, Any]) -> list[Emission]:
        """Take one bus message into the state; the events to emit for it (call under lock)."""
        kind = message.get("type")
        self.messages += 1
        if kind == TICK:
            quote = message["quote"]
            symbol = quote["symbol"]
            self._quotes[symbol] = (quote, self.clock())
            out: list[Emission] = [("market_update", quote, market_room(symbol))]
            for bar in message.get("bars", []):
                self._forming[(symbol, bar["timeframe"])] = bar
                out.append(("bar", bar, bars_room(symbol, bar["timeframe"])))
            return out
        if kind == BAR_CLOSED:
            bar = message["bar"]
            key = (bar["symbol"], bar["timeframe"])
            ring = self._closed.get(key)
            if ring is None:
                ring = self._closed[key] = deque(maxlen=self.max_bars)
            if ring and ring[-1]["time"] >= bar["time"]:
                return []  # a duplicate (a restarted stream re-closing a bar): never sent twice
            ring.append(bar)
            return [("bar_closed", bar, bars_room(*key))]
        return []

    def quote(self, symbol: str) -> dict[str, Any] | None:
        """The last live quote of ``symbol`` with ``age_seconds`` (wall time since it arrived)."""
        with self.lock:
            got = self._quotes.get(symbol)
        if got is None:
            return None
        quote, received = got
        return {**quote, "age_seconds": round(max(0.0, self.clock() - received), 3)}

    def forming(self, symbol: str, timeframe: str) -> dict[str, Any] | None:
        with self.lock:
            return self._forming.get((symbol, timeframe))

    def closed_since(self, symbol: str, timeframe: str, since: str | None) -> list[dict[str, Any]]:
        """Closed bars opened after ``since`` (ISO UTC open time; None: none), oldest first
        (call under lock to join the room in the same step)."""
        if since is None:
            return []
        ring = self._closed.get((symbol, timeframe), ())
        return [b for b in ring if b["time"] > since]

    def symbols(self) -> list[str]:
        with self.lock:
            return sorted(self._quotes)


__all__ = ["Emission", "LiveState", "bars_room", "market_room"]
