"""Scans as jobs (kind ``scan``): the trading plan of each pair, ranked by expected value after
costs (:mod:`noxfx.plans.scan`, as ``noxfx scan``). Plans come from the plan cache, so a scan
right after another costs little; progress is reported per pair."""

from __future__ import annotations

from typing import Any

from noxfx.instruments import get_instrument
from noxfx.service.errors import load_or_422
from noxfx.service.jobs import Progress, job_kind
from noxfx.service.runtime import runtime
from noxfx.service.schemas.scans import ScanIn


def validate_scan(params: dict[str, Any]) -> dict[str, Any]:
    loaded = load_or_422(ScanIn(), params, "scan parameters")
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
    from noxfx.plans.scan import scan
    from noxfx.service.services.plans import plan_document

    symbols = params["symbols"] or runtime().store.symbols()
    body = {"timeframe": params["timeframe"], "risk_tolerance": params["risk_tolerance"]}
    rows, errors = scan(symbols, lambda symbol: plan_document({**body, "symbol": symbol}),
                        lambda i, _symbol: progress(i / len(symbols)))  # fmt: skip
    return {**body, "plans": rows, "errors": errors}


__all__ = ["run_scan", "validate_scan"]
