"""Scans: one row per pair from its trading plan, ranked by expected value after costs.

Used by ``noxfx scan`` and the API's ``scan`` jobs. A row holds the plan's direction (or
NO_TRADE), the direction considered, P(TP1 before stop) with its cases, the break-even win
rate, the expected value in R (costs included), the confidence and risk scores and the plan's
time (UTC close of its last bar).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def scan_row(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The scan row of one plan (:meth:`noxfx.plans.model.TradingPlan.as_dict`)."""
    probability = plan["probability"]
    return {
        "symbol": plan["symbol"],
        "direction": plan["direction"],
        "considered": plan["considered_direction"],
        "p_tp1": probability["tp1_before_stop"],
        "cases": probability["cases"],
        "break_even": plan["break_even_win_rate"],
        "ev_r": plan["expected_value_r"],
        "confidence": plan["confidence_score"],
        "risk_score": plan["risk_score"],
        "as_of": plan["as_of"],
    }


def rank(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by expected value, best first; rows without one last."""
    return sorted(rows, key=lambda r: -(r["ev_r"] if r["ev_r"] is not None else -9e9))


__all__ = ["rank", "scan_row"]
