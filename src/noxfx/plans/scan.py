"""Scans: one row per pair from its trading plan, ranked by expected value after costs.

Used by ``noxfx scan`` and the API's ``scan`` jobs. A row holds the plan's direction (or
NO_TRADE), the direction considered, P(TP1 before stop) with its cases, the break-even win
rate, the expected value in R (costs included), the confidence and risk scores and the plan's
time (UTC close of its last bar).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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


def scan(
    symbols: Sequence[str],
    plan_of: Callable[[str], Mapping[str, Any]],
    on_symbol: Callable[[int, str], None] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """(ranked rows, errors) of ``plan_of(symbol)`` over ``symbols``. A pair whose plan fails
    with a NOX error (no data, too few bars) is listed in the errors with its message, not
    dropped silently. ``on_symbol(i, symbol)`` is called before each pair (progress)."""
    from noxfx.errors import NoxError

    rows: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for i, symbol in enumerate(symbols):
        if on_symbol is not None:
            on_symbol(i, symbol)
        try:
            rows.append(scan_row(plan_of(symbol)))
        except NoxError as exc:
            errors.append({"symbol": symbol, "error": exc.message})
    return rank(rows), errors


__all__ = ["rank", "scan", "scan_row"]
