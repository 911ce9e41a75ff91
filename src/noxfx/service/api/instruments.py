"""/instruments: the catalogue of pairs and metals (public)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from noxfx.instruments import get_instrument
from noxfx.service.schemas.market import InstrumentOut, InstrumentsQuery
from noxfx.service.services import market

bp = APIBlueprint("instruments", __name__, url_prefix="/instruments", tag="Market data")
RATE_LIMIT = "market"


@bp.get("")
@bp.input(InstrumentsQuery, location="query", arg_name="query")
@bp.output(InstrumentOut(many=True))
@bp.doc(summary="All instruments (optionally of one kind)")
def list_instruments(query: dict[str, Any]) -> list[dict[str, Any]]:
    return market.instruments(query.get("kind"))


@bp.get("/<string(maxlength=40):symbol>")
@bp.output(InstrumentOut)
@bp.doc(summary="One instrument (any common spelling of the symbol)", responses=[404])
def get_one(symbol: str) -> dict[str, Any]:
    return get_instrument(symbol).as_dict()
