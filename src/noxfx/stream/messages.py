"""The JSON documents on the bus and on the Socket.IO wire (one place, so both agree).

Bus messages (``type``):

* ``tick``: ``{"type": "tick", "symbol", "quote": QUOTE, "bars": [BAR...], "sent"}``: a new quote
  and the forming bar of every streamed timeframe after it.
* ``bar_closed``: ``{"type": "bar_closed", "bar": BAR, "sent"}``: a complete bar that closed
  (already in the bar store when the stream persists).

``sent`` is the publisher's wall clock (epoch seconds), used for latency and quote age.

QUOTE (the Socket.IO ``market_update`` payload): ``symbol, bid, ask, mid, spread`` (pips),
``time`` (ISO 8601 UTC market time of the tick), ``source``, ``sent``.
BAR (``bar`` and ``bar_closed`` payloads): ``symbol, timeframe, time`` (ISO UTC bar **open**),
``open, high, low, close`` (bid), ``volume`` (ticks), ``closed``, ``spread_pips``.
"""

from __future__ import annotations

from typing import Any

from noxfx.data.providers.base import Quote
from noxfx.instruments import get_instrument
from noxfx.stream.events import BarEvent

TICK = "tick"
BAR_CLOSED = "bar_closed"


def quote_payload(quote: Quote, sent: float) -> dict[str, Any]:
    """The ``market_update`` document of ``quote``."""
    inst = get_instrument(quote.symbol)
    return {
        "symbol": quote.symbol, "bid": quote.bid, "ask": quote.ask,
        "mid": round(quote.mid, inst.precision + 1),
        "spread": round(inst.to_pips(quote.ask - quote.bid), 2),
        "time": quote.time.isoformat(), "source": quote.source, "sent": sent,
    }  # fmt: skip


def tick_message(quote: Quote, forming: list[BarEvent], sent: float) -> dict[str, Any]:
    return {"type": TICK, "symbol": quote.symbol, "quote": quote_payload(quote, sent),
            "bars": [b.as_dict() for b in forming], "sent": sent}  # fmt: skip


def bar_closed_message(bar: BarEvent, sent: float) -> dict[str, Any]:
    return {"type": BAR_CLOSED, "symbol": bar.symbol, "bar": bar.as_dict(), "sent": sent}


__all__ = ["BAR_CLOSED", "TICK", "bar_closed_message", "quote_payload", "tick_message"]
