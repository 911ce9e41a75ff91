"""/predictions/{symbol}: the champion ML model's calibrated probabilities (paid roles)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response

from noxfx.service.api import json_bytes
from noxfx.service.auth import token_auth
from noxfx.service.schemas.signals import PredictionOut, TimeframeQuery
from noxfx.service.security.permissions import roles_with
from noxfx.service.services import signals

bp = APIBlueprint("predictions", __name__, url_prefix="/predictions", tag="ML")
RATE_LIMIT = "ml"


@bp.get("/<string(maxlength=40):symbol>")
@bp.auth_required(token_auth, roles=roles_with("ml:predict"))
@bp.input(TimeframeQuery, location="query", arg_name="query")
@bp.output(PredictionOut)
@bp.doc(summary="P(target before stop) for long and short, with out-of-sample figures",
        responses=[403, 404])  # fmt: skip
def prediction(symbol: str, query: dict[str, Any]) -> Response:
    return json_bytes(signals.prediction_json(symbol, query["timeframe"]))
