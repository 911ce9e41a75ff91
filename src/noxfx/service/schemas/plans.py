"""Trading plans: the request and the stored plan."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import UUID, DateTime, Dict, Float, String
from apiflask.validators import Length, OneOf, Range

from noxfx.timeframes import TIMEFRAMES


class PlanIn(Schema):
    """What the trader asks for (the specification's body is symbol, timeframe, risk_tolerance)."""

    symbol = String(required=True, validate=Length(min=3, max=40),
                    metadata={"example": "EURUSD"})  # fmt: skip
    timeframe = String(load_default="1h", validate=OneOf(list(TIMEFRAMES)))
    risk_tolerance = String(load_default="medium", validate=OneOf(["low", "medium", "high"]))
    balance = Float(load_default=10_000.0, validate=Range(min=1, max=1e12),
                    metadata={"description": "Account balance in account_currency."})  # fmt: skip
    account_currency = String(load_default="USD", validate=OneOf(
        ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD"]))  # fmt: skip
    risk_pct = Float(
        load_default=None,
        allow_none=True,
        validate=Range(min=0.01, max=10),
        metadata={"description": "Risk per trade in % (default by tolerance)."},
    )
    swap_long = Float(
        load_default=None,
        allow_none=True,
        validate=Range(min=-10_000, max=10_000),
        metadata={
            "description": "Your broker's swap per lot per night for longs, account "
            "currency (+ credit, - debit). Without it the expected value leaves swap "
            "out (the plan says so in missing_inputs)."
        },
    )
    swap_short = Float(
        load_default=None,
        allow_none=True,
        validate=Range(min=-10_000, max=10_000),
        metadata={"description": "The same for shorts."},
    )
    commission_per_lot = Float(
        load_default=None,
        allow_none=True,
        validate=Range(min=0, max=1_000),
        metadata={
            "description": "Your broker's commission per lot per side, account currency "
            "(e.g. 3.5). Without it the expected value assumes none (said in missing_inputs)."
        },
    )
    leverage = Float(
        load_default=None,
        allow_none=True,
        validate=Range(min=1, max=1_000),
        metadata={"description": "Account leverage for the margin figure (default 30)."},
    )
    spread_pips = Float(
        load_default=None,
        allow_none=True,
        validate=Range(min=0, max=1_000),
        metadata={
            "description": "Spread in pips (default: the bars' spread column, else the pair's "
            "typical spread)."
        },
    )


class TradingStrategyOut(Schema):
    """The specification's response: the plan as ``strategy`` and its ``confidence_score``."""

    symbol = String(required=True)
    timeframe = String(required=True)
    direction = String(required=True, metadata={"description": "LONG, SHORT or NO_TRADE"})
    confidence_score = Float(
        required=True,
        metadata={"description": "P(first target before the stop), 0..1; sample in strategy."},
    )
    strategy = Dict(required=True, metadata={"description": "The full TradingPlan."})


class PlanOut(Schema):
    id = UUID(required=True)
    symbol = String(required=True)
    timeframe = String(required=True)
    status = String(required=True)
    created_at = DateTime(required=True)
    data = Dict(required=True, metadata={"description": "The full TradingPlan."})


__all__ = ["PlanIn", "PlanOut", "TradingStrategyOut"]
