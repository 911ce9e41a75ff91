"""Ratings, indicator values and ML predictions of one symbol."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Dict, Float, Integer, List, String
from apiflask.validators import Length, OneOf, Range

from noxfx.timeframes import TIMEFRAMES

_TF = {"load_default": "1h", "validate": OneOf(list(TIMEFRAMES))}


class TimeframeQuery(Schema):
    timeframe = String(**_TF)  # type: ignore[arg-type]


class IndicatorQuery(Schema):
    timeframe = String(**_TF)  # type: ignore[arg-type]
    spec = List(
        String(validate=Length(min=1, max=60)),
        required=True,
        validate=Length(min=1, max=20),
        metadata={"description": "Indicator specs, e.g. rsi:14 (repeat the parameter)."},
    )
    limit = Integer(load_default=100, validate=Range(min=1, max=5000))


class RatingOut(Schema):
    """Same shape as tradingview_ta's Analysis."""

    exchange = String(required=True)
    symbol = String(required=True)
    screener = String(required=True)
    interval = String(required=True)
    time = String(required=True, metadata={"description": "Open time of the rated bar, UTC ISO."})
    summary = Dict(required=True)
    oscillators = Dict(required=True)
    moving_averages = Dict(required=True)
    indicators = Dict(required=True)
    ratings = Dict(required=True)


class IndicatorsOut(Schema):
    symbol = String(required=True)
    timeframe = String(required=True)
    columns = List(String(), required=True)
    rows = List(Dict(), required=True, metadata={"description": "time (UTC open) + values"})


class PatternsOut(Schema):
    """The pattern part of the analysis report (``noxfx analyze --json``)."""

    symbol = String(required=True)
    timeframe = String(required=True)
    as_of = String(required=True, metadata={"description": "Close of the last bar, UTC ISO."})
    last_bar = String(required=True, metadata={"description": "Open of the last bar, UTC ISO."})
    last_price = Float(required=True)
    candles = List(
        Dict(),
        required=True,
        metadata={"description": "Candlestick patterns (TA-Lib CDL*), newest last."},
    )
    chart_patterns = List(
        Dict(), required=True, metadata={"description": "Chart patterns from ATR zigzag pivots."}
    )
    levels = List(
        Dict(), required=True, metadata={"description": "Support/resistance levels with touches."}
    )
    history = Dict(
        required=True,
        metadata={
            "description": "Per active chart pattern type: its past breakouts here, "
            "traded (trades, target_first, break_even, mean_r, low, high); see "
            "history_method."
        },
    )
    history_method = String(required=True)


class PredictionOut(Schema):
    symbol = String(required=True)
    timeframe = String(required=True)
    model_version = String(required=True)
    as_of = String(required=True, metadata={"description": "Close of the last bar, UTC ISO."})
    long = Dict(required=True)
    short = Dict(required=True)
    horizon_bars = Integer(required=True)
    spread_pips = Float(allow_none=True)


__all__ = [
    "IndicatorQuery",
    "IndicatorsOut",
    "PatternsOut",
    "PredictionOut",
    "RatingOut",
    "TimeframeQuery",
]
