"""/market-data/{symbol}: bars and the last quote (public; cached per data version)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response

from noxfx.service.api import json_bytes
from noxfx.service.schemas.market import MarketDataOut, MarketDataQuery
from noxfx.service.services import market

bp = APIBlueprint("market_data", __name__, url_prefix="/market-data", tag="Market data")
RATE_LIMIT = "market"


@bp.get("/<string(maxlength=40):symbol>")
@bp.input(MarketDataQuery, location="query", arg_name="query")
@bp.output(MarketDataOut)
@bp.doc(summary="Bars and last quote; unknown symbol -> 404 with a suggestion",
        responses=[404])  # fmt: skip
def market_data(symbol: str, query: dict[str, Any]) -> Response:
    return json_bytes(market.market_data(symbol, query["timeframe"], query.get("start"),
                                         query.get("end"), query["limit"]))  # fmt: skip
