"""Schemas of /instruments, /market-data, /analysis and /portfolio."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import DateTime, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from noxfx.service.services.market import DEFAULT_LIMIT, MAX_LIMIT
from noxfx.timeframes import TIMEFRAMES

_TIMEFRAME = {"load_default": "1h", "validate": OneOf(list(TIMEFRAMES)),
              "metadata": {"description": "Bar timeframe."}}  # fmt: skip


class InstrumentsQuery(Schema):
    kind = String(validate=OneOf(["major", "cross", "exotic", "metal"]))


class InstrumentOut(Schema):
    symbol = String(required=True, metadata={"example": "EURUSD"})
    base = String(required=True)
    quote = String(required=True)
    kind = String(required=True)
    pip_size = Float(required=True)
    precision = Integer(required=True)
    contract_size = Float(required=True)
    typical_spread_pips = Float(required=True)
    sessions = List(String(), required=True)
    description = String(required=True)
    pip_value_per_lot_quote = Float(required=True)


class MarketDataQuery(Schema):
    timeframe = String(**_TIMEFRAME)  # type: ignore[arg-type]
    start = String(validate=Length(max=40), metadata={"description": "UTC, e.g. 2020-01-31"})
    end = String(validate=Length(max=40), metadata={"description": "UTC, inclusive"})
    limit = Integer(load_default=DEFAULT_LIMIT, validate=Range(min=1, max=MAX_LIMIT),
                    metadata={"description": "The last N bars of the range."})  # fmt: skip


class BarOut(Schema):
    time = DateTime(required=True, metadata={"description": "Bar open time, UTC."})
    open = Float(required=True)
    high = Float(required=True)
    low = Float(required=True)
    close = Float(required=True)
    volume = Float(allow_none=True)


class BarsOut(Schema):
    count = Integer(required=True)
    items = List(Nested(BarOut), required=True)


class QuoteOut(Schema):
    symbol = String(required=True)
    bid = Float(required=True)
    ask = Float(required=True)
    mid = Float(required=True)
    spread_pips = Float(required=True)
    time = DateTime(
        required=True,
        metadata={"description": "Market time of the live tick, or the close of the stored bar."},
    )
    source = String(
        required=True,
        metadata={"description": "live:<feed> (the stream runs) or stored-bars (its last close)."},
    )
    bar_timeframe = String(
        required=True, allow_none=True, metadata={"description": "Stored bars: their timeframe."}
    )
    age_seconds = Float(
        required=True,
        allow_none=True,
        metadata={"description": "Live quotes: wall seconds since it arrived (None: stored)."},
    )


class MarketDataOut(Schema):
    symbol = String(required=True)
    timeframe = String(required=True)
    data_version = String(required=True, metadata={"description": "Changes with new bars."})
    quote = Nested(QuoteOut, required=True)
    bars = Nested(BarsOut, required=True)


class AnalysisQuery(Schema):
    timeframe = String(**_TIMEFRAME)  # type: ignore[arg-type]


class AnalysisOut(Schema):
    """The analysis report (``noxfx analyze --json``); nested parts are documented there."""

    symbol = String(required=True)
    timeframe = String(required=True)
    as_of = DateTime(required=True, metadata={"description": "Close of the last bar, UTC."})
    last_bar = DateTime(required=True)
    last_price = Float(required=True)
    indicators = Dict(required=True)
    rating = Dict(required=True)
    candles = List(Dict())
    chart_patterns = List(Dict())
    levels = List(Dict())
    trend = Dict()
    higher_timeframes = List(Dict())
    confluence = Dict()


class PortfolioOut(Schema):
    account_type = String(required=True, metadata={"example": "paper"})
    currency = String(required=True)
    balance = Float(required=True)
    equity = Float(required=True)
    unrealized_pnl = Float(required=True)
    realized_pnl = Float(required=True)
    margin_used = Float(required=True)
    free_margin = Float(required=True)
    positions = List(Dict(), required=True)
    open_orders = List(Dict(), required=True)
    as_of = DateTime(required=True)


__all__ = [
    "AnalysisOut",
    "AnalysisQuery",
    "InstrumentOut",
    "InstrumentsQuery",
    "MarketDataOut",
    "MarketDataQuery",
    "PortfolioOut",
]
