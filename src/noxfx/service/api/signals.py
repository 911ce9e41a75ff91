"""/ratings, /patterns and /indicators of one symbol (public, market-data limits, cached)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response

from noxfx.service.api import json_bytes
from noxfx.service.schemas.signals import (
    IndicatorQuery,
    IndicatorsOut,
    PatternsOut,
    RatingOut,
    TimeframeQuery,
)
from noxfx.service.services import signals

bp = APIBlueprint("signals", __name__, url_prefix="", tag="Analysis")
RATE_LIMIT = "market"


@bp.get("/ratings/<string(maxlength=40):symbol>")
@bp.input(TimeframeQuery, location="query", arg_name="query")
@bp.output(RatingOut)
@bp.doc(summary="TradingView-style technical rating (tradingview-ta shape)", responses=[404])
def rating(symbol: str, query: dict[str, Any]) -> Response:
    return json_bytes(signals.rating_json(symbol, query["timeframe"]))


@bp.get("/patterns/<string(maxlength=40):symbol>")
@bp.input(TimeframeQuery, location="query", arg_name="query")
@bp.output(PatternsOut)
@bp.doc(summary="Candlestick and chart patterns, support/resistance levels", responses=[404])
def patterns(symbol: str, query: dict[str, Any]) -> Response:
    return json_bytes(signals.patterns_json(symbol, query["timeframe"]))


@bp.get("/indicators/<string(maxlength=40):symbol>")
@bp.input(IndicatorQuery, location="query", arg_name="query")
@bp.output(IndicatorsOut)
@bp.doc(summary="Indicator values, e.g. ?spec=rsi:14&spec=macd", responses=[404])
def indicators(symbol: str, query: dict[str, Any]) -> dict[str, Any]:
    return signals.indicators(symbol, query["timeframe"], query["spec"], query["limit"])
