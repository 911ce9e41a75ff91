"""The live-event contract shared by the stream, alerts, portfolio and ledger.

Everything that reacts to the live feed (the alert engine, the paper-trading engine, the plan
ledger resolver) is a :class:`LiveListener`: the stream process (or, in embedded mode, the
stream thread inside the API process) calls ``on_quote`` for every quote and
``on_bar_closed`` for every bar that closes, in time order per symbol, on one thread.
Listeners must be fast (no database query per tick; keep compiled state in memory) and must
not raise: an exception is logged by the runner and the listener keeps receiving events.

Conventions: times are UTC-aware ``pd.Timestamp``; a bar's ``time`` is its OPEN time; prices
are floats in quote currency; bars carry bid prices (the store's convention) with
``spread_pips`` the typical or observed spread at close.

Anything a listener wants to push to clients goes through an :class:`Emitter` (Socket.IO
through Redis in server mode, the in-process server in embedded mode). Rooms:
``market_{SYMBOL}`` for market events, ``user_{id}`` for one user's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from noxfx.data.providers.base import Quote

__all__ = ["BarEvent", "Emitter", "LiveListener", "Quote"]


@dataclass(frozen=True, slots=True)
class BarEvent:
    """One bar of ``symbol`` at ``timeframe``; ``closed`` is false while it is forming."""

    symbol: str
    timeframe: str
    time: pd.Timestamp  # bar open, UTC
    open: float
    high: float
    low: float
    close: float
    volume: float
    closed: bool
    spread_pips: float = float("nan")
    #: False when the bar's interval began before the stream saw data (it is never stored)
    complete: bool = True
    #: mean spread in points (10^-precision), the bar store's ``spread`` column
    spread_points: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        spread = None if self.spread_pips != self.spread_pips else round(self.spread_pips, 2)
        return {
            "symbol": self.symbol, "timeframe": self.timeframe, "time": self.time.isoformat(),
            "open": self.open, "high": self.high, "low": self.low, "close": self.close,
            "volume": self.volume, "closed": self.closed, "spread_pips": spread,
        }  # fmt: skip


@runtime_checkable
class LiveListener(Protocol):
    """Reacts to the live feed. Called on the stream's thread, in time order per symbol."""

    def on_quote(self, quote: Quote) -> None: ...

    def on_bar_closed(self, bar: BarEvent) -> None: ...


@runtime_checkable
class Emitter(Protocol):
    """Sends an event to the Socket.IO clients in ``room`` (from any process)."""

    def emit(self, event: str, data: dict[str, Any], room: str) -> None: ...
