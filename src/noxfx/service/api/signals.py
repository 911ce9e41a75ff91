"""/ratings, /indicators and /predictions of one symbol."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from noxfx.service.schemas.signals import (
    IndicatorQuery,
    IndicatorsOut,
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
def rating(symbol: str, query: dict[str, Any]) -> dict[str, Any]:
    return signals.rating(symbol, query["timeframe"])


@bp.get("/indicators/<string(maxlength=40):symbol>")
@bp.input(IndicatorQuery, location="query", arg_name="query")
@bp.output(IndicatorsOut)
@bp.doc(summary="Indicator values, e.g. ?spec=rsi:14&spec=macd", responses=[404])
def indicators(symbol: str, query: dict[str, Any]) -> dict[str, Any]:
    return signals.indicators(symbol, query["timeframe"], query["spec"], query["limit"])
