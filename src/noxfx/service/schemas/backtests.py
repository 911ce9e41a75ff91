"""Backtest and optimisation requests (both run as jobs: see ``GET /jobs/{id}``)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, Integer, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError, validates_schema

from noxfx.backtest.optimize import OBJECTIVES
from noxfx.backtest.strategy_spec import list_strategies
from noxfx.timeframes import TIMEFRAMES

_CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD"]


class RunIn(Schema):
    """What every run needs: a strategy, bars and the account with its costs."""

    strategy = String(
        load_default=None,
        allow_none=True,
        validate=OneOf(list_strategies()),
        metadata={
            "description": "A shipped template (GET /jobs/kinds lists the "
            "job kinds; `noxfx strategies list` the templates).",
            "example": "sma_cross",
        },
    )
    strategy_spec = Dict(
        load_default=None,
        allow_none=True,
        validate=Length(max=30),
        metadata={
            "description": "Or an inline strategy (the YAML/JSON "
            "strategy format: parameters, rules, exits, filters)."
        },
    )
    symbol = String(required=True, validate=Length(min=3, max=40), metadata={"example": "EURUSD"})
    timeframe = String(load_default="1h", validate=OneOf(list(TIMEFRAMES)))
    start = String(
        load_default=None,
        allow_none=True,
        validate=Length(max=40),
        metadata={"description": "First bar, UTC date/time (default: all stored)."},
    )
    end = String(
        load_default=None,
        allow_none=True,
        validate=Length(max=40),
        metadata={"description": "Last bar, UTC date/time."},
    )
    balance = Float(
        load_default=10_000.0,
        validate=Range(min=1, max=1e12),
        metadata={"description": "Initial balance, account currency."},
    )
    account_currency = String(load_default="USD", validate=OneOf(_CURRENCIES))
    risk_percent = Float(
        load_default=None,
        allow_none=True,
        validate=Range(min=0.01, max=10),
        metadata={
            "description": "Risk per trade, % of balance (needs a stop); default: fixed lots."
        },
    )
    lots = Float(load_default=0.1, validate=Range(min=0.01, max=100))
    spread_pips = Float(
        load_default=None,
        allow_none=True,
        validate=Range(min=0, max=100),
        metadata={
            "description": "Default: the data's spread column, else the "
            "instrument's typical spread."
        },
    )
    commission_per_lot = Float(
        load_default=0.0,
        validate=Range(min=0, max=1000),
        metadata={"description": "Per lot per side."},
    )
    slippage_pips = Float(load_default=0.0, validate=Range(min=0, max=100))
    swap_long = Float(
        load_default=0.0,
        validate=Range(min=-10_000, max=10_000),
        metadata={"description": "Swap per lot per night for longs, account currency (+/-)."},
    )
    swap_short = Float(
        load_default=0.0,
        validate=Range(min=-10_000, max=10_000),
        metadata={"description": "The same for shorts."},
    )

    @validates_schema
    def _one_strategy(self, data: dict[str, object], **_: object) -> None:
        if (data.get("strategy") is None) == (data.get("strategy_spec") is None):
            raise ValidationError(
                "Give exactly one of strategy (a template name) and "
                "strategy_spec (an inline strategy).",
                "strategy",
            )


class BacktestIn(RunIn):
    params = Dict(
        keys=String(validate=Length(max=64)),
        values=Float(),
        load_default=dict,
        validate=Length(max=30),
        metadata={
            "description": "Parameter values (default: the strategy's).",
            "example": {"fast": 10, "slow": 40},
        },
    )
    trades = Boolean(load_default=False, metadata={"description": "Include every trade."})


class OptimizationIn(RunIn):
    ranges = Dict(
        keys=String(validate=Length(max=64)),
        values=String(validate=Length(max=200)),
        load_default=dict,
        validate=Length(max=10),
        metadata={
            "description": "name -> lo:hi:step, a,b,c or one value (default: "
            "the strategy's declared ranges).",
            "example": {"fast": "5:20:5", "slow": "30:60:10"},
        },
    )
    method = String(load_default="grid", validate=OneOf(["grid", "random", "optuna"]))
    trials = Integer(
        load_default=None,
        allow_none=True,
        validate=Range(min=1, max=2000),
        metadata={"description": "Trials for random/optuna (default 100)."},
    )
    objective = String(load_default="sharpe", validate=OneOf(list(OBJECTIVES)))
    min_trades = Integer(load_default=10, validate=Range(min=1, max=100_000))
    seed = Integer(load_default=0, validate=Range(min=0, max=2**31 - 1))


__all__ = ["BacktestIn", "OptimizationIn", "RunIn"]
