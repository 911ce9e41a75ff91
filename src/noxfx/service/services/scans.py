"""Scans as jobs (kind ``scan``): the trading plan of each pair, ranked by expected value after
costs (:mod:`noxfx.plans.scan`, as ``noxfx scan``). Plans come from the plan cache, so a scan
right after another costs little; progress is reported per pair."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError as SchemaError

from noxfx.errors import NoxError
from noxfx.instruments import get_instrument
from noxfx.service.errors import ValidationFailed, flatten_validation
from noxfx.service.jobs import Progress, job_kind
from noxfx.service.runtime import runtime
from noxfx.service.schemas.scans import ScanIn


def validate_scan(params: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = ScanIn().load(params)
    except SchemaError as exc:
        errors = flatten_validation({"json": exc.normalized_messages()})
        raise ValidationFailed("The scan parameters are not valid.", errors) from exc
    if loaded["symbols"] is not None:  # unknown names are a 404 with a suggestion, now
        loaded["symbols"] = list(dict.fromkeys(get_instrument(s).symbol for s in loaded["symbols"]))
    return loaded


@job_kind(
    "scan",
    permission="plans:own",
    validate=validate_scan,
    description="Trading plans for several pairs, ranked by expected value after costs.",
)
def run_scan(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from noxfx.plans.scan import rank, scan_row
    from noxfx.service.services.plans import plan_document

    symbols = params["symbols"] or runtime().store.symbols()
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for i, symbol in enumerate(symbols):
        body = {"symbol": symbol, "timeframe": params["timeframe"],
                "risk_tolerance": params["risk_tolerance"]}  # fmt: skip
        try:
            rows.append(scan_row(plan_document(body)))
        except NoxError as exc:
            errors.append({"symbol": symbol, "error": exc.message})
        progress((i + 1) / len(symbols))
    return {"timeframe": params["timeframe"], "risk_tolerance": params["risk_tolerance"],
            "plans": rank(rows), "errors": errors}  # fmt: skip


__all__ = ["run_scan", "validate_scan"]
