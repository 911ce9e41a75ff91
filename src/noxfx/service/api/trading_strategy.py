"""/trading-strategy: the specification's endpoint, a trading plan for symbol and timeframe."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response

from noxfx.service.api import json_bytes
from noxfx.service.schemas.plans import PlanIn, TradingStrategyOut
from noxfx.service.services.plans import trading_strategy_json

bp = APIBlueprint("trading_strategy", __name__, url_prefix="/trading-strategy", tag="Plans")
RATE_LIMIT = "trading"


@bp.post("")
@bp.input(PlanIn, arg_name="body")
@bp.output(TradingStrategyOut)
@bp.doc(summary="Trading plan: direction, entry, stop, targets, size, calibrated probability",
        responses=[404, 422])  # fmt: skip
def create(body: dict[str, Any]) -> Response:
    return json_bytes(trading_strategy_json(body))
