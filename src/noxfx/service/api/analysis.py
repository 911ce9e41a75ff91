"""/analysis/{symbol}: the multi-timeframe analysis report (cached 60 s per data version)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response

from noxfx.service.api import json_bytes
from noxfx.service.auth import token_auth
from noxfx.service.schemas.market import AnalysisOut, AnalysisQuery
from noxfx.service.security.permissions import roles_with
from noxfx.service.services.analysis import analysis_json

bp = APIBlueprint("analysis", __name__, url_prefix="/analysis", tag="Analysis")
RATE_LIMIT = "market"


@bp.get("/<string(maxlength=40):symbol>")
@bp.auth_required(token_auth, roles=roles_with("analysis:read"))
@bp.input(AnalysisQuery, location="query", arg_name="query")
@bp.output(AnalysisOut)
@bp.doc(summary="Indicators, rating, patterns, levels, higher timeframes", responses=[404])
def analysis(symbol: str, query: dict[str, Any]) -> Response:
    return json_bytes(analysis_json(symbol, query["timeframe"]))
