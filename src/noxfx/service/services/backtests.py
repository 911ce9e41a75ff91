"""Backtests and optimisations as jobs (kinds ``backtest`` and ``optimize``).

Submitted through ``POST /backtests``, ``POST /optimizations`` or ``POST /jobs``; the params
are checked when submitted (schema, strategy, parameter names, grid size), so bad input is a
422 at once rather than a failed job. The work is :mod:`noxfx.backtest.runs`, the same code as
``noxfx backtest --json`` and ``noxfx optimize --json``: costs are always included.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from marshmallow import Schema

from noxfx.errors import InsufficientData, InvalidInput
from noxfx.service.errors import load_or_422
from noxfx.service.jobs import Progress, job_kind
from noxfx.service.runtime import runtime
from noxfx.service.schemas.backtests import BacktestIn, OptimizationIn
from noxfx.service.services.market import parse_range, resolve

if TYPE_CHECKING:
    import pandas as pd

    from noxfx.backtest.config import BacktestConfig
    from noxfx.backtest.strategy import Strategy

#: Largest grid (or trial count) an API optimisation may run: the service is shared.
MAX_COMBINATIONS = 5_000
#: Most values one parameter may take in an API search (random and optuna draw from them).
MAX_VALUES_PER_PARAMETER = 50_000


def _load(schema: Schema, params: dict[str, Any]) -> dict[str, Any]:
    loaded = load_or_422(schema, params, "job parameters")
    inst, tf = resolve(loaded["symbol"], loaded["timeframe"])
    loaded["symbol"], loaded["timeframe"] = inst.symbol, tf.name
    if not runtime().store.stored_timeframes(inst.symbol):
        raise InsufficientData(
            f"No {inst.symbol} bars in the store. Import some with "
            "`noxfx data import` or `noxfx data bootstrap`."
        )
    parse_range(loaded["start"], loaded["end"], "json")
    return loaded


def _strategy(params: dict[str, Any]) -> Strategy:
    from noxfx.backtest.strategy_spec import read_spec, strategy_from_dict, templates_dir

    if params.get("strategy_spec") is not None:
        return strategy_from_dict(params["strategy_spec"], source="api")
    # a shipped template only (the schema checked the name): never a path on the server
    name = str(params["strategy"])
    return strategy_from_dict(read_spec(templates_dir() / f"{name}.yaml"), source=name)


def _bars_and_config(params: dict[str, Any]) -> tuple[pd.DataFrame, BacktestConfig]:
    from noxfx.backtest.runs import make_config, require_bars
    from noxfx.workflows import with_conversion

    lo, hi = parse_range(params["start"], params["end"], "json")
    store = runtime().store
    bars = store.read(params["symbol"], params["timeframe"], lo, hi)
    require_bars(bars, params["symbol"], params["timeframe"])
    # a cross on this account: the quote -> account rate per bar, from the stored pairs
    bars = with_conversion(store, bars, params["symbol"], params["account_currency"],
                           params["timeframe"])  # fmt: skip
    config = make_config(
        params["symbol"],
        balance=params["balance"],
        risk_percent=params["risk_percent"],
        lots=params["lots"],
        spread_pips=params["spread_pips"],
        commission_per_lot=params["commission_per_lot"],
        slippage_pips=params["slippage_pips"],
        account_currency=params["account_currency"],
        swap_long=params.get("swap_long", 0.0),
        swap_short=params.get("swap_short", 0.0),
    )
    return bars, config


def _ranges(params: dict[str, Any]) -> list[str]:
    return [f"{name}={text}" for name, text in params["ranges"].items()]


def validate_backtest(params: dict[str, Any]) -> dict[str, Any]:
    loaded = _load(BacktestIn(), params)
    _strategy(loaded).resolve_params(loaded["params"])  # unknown names, bad values: 422 now
    return loaded


def validate_optimization(params: dict[str, Any]) -> dict[str, Any]:
    """Check an optimisation request; the search space is counted (per parameter and, for a
    grid, in combinations) by arithmetic and refused before any value of it is built."""
    from noxfx.backtest.optimize import space_counts

    loaded = _load(OptimizationIn(), params)
    strategy = _strategy(loaded)
    counts = space_counts(_ranges(loaded), strategy)  # InvalidInput (422) for absurd ranges
    widest = max(counts, key=counts.__getitem__, default=None)
    if widest is not None and counts[widest] > MAX_VALUES_PER_PARAMETER:
        raise InvalidInput(
            f"Parameter {widest} takes {counts[widest]:,} values; the API sweeps at most "
            f"{MAX_VALUES_PER_PARAMETER:,} per parameter (narrow its range or widen its step)."
        )
    if loaded["method"] == "grid":
        size = math.prod(counts.values())
        if size > MAX_COMBINATIONS:
            raise InvalidInput(
                f"The grid has {size:,} combinations; the API runs at most "
                f"{MAX_COMBINATIONS:,} (narrow the ranges or use method random "
                "or optuna with trials)."
            )
    return loaded


@job_kind(
    "backtest",
    permission="backtest:run",
    validate=validate_backtest,
    description="Backtest a strategy on stored bars, costs included.",
)
def run_backtest(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from noxfx.backtest.runs import backtest_document

    bars, config = _bars_and_config(params)
    progress(0.1)
    doc, _ = backtest_document(
        _strategy(params),
        bars,
        params["params"],
        config,
        params["timeframe"],
        include_trades=params["trades"],
    )
    return doc


@job_kind(
    "optimize",
    permission="backtest:run",
    validate=validate_optimization,
    description="Optimise a strategy's parameters: trials, Deflated Sharpe, PBO.",
)
def run_optimization(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from noxfx.backtest import runs

    bars, config = _bars_and_config(params)
    doc, _ = runs.run_optimization(
        _strategy(params),
        bars,
        _ranges(params),
        config,
        params["timeframe"],
        method=params["method"],
        trials=params["trials"],
        objective=params["objective"],
        min_trades=params["min_trades"],
        seed=params["seed"],
        max_combinations=MAX_COMBINATIONS,
        progress=lambda done, total: progress(done / total if total else 0.0),
    )
    return doc


__all__ = [
    "MAX_COMBINATIONS",
    "MAX_VALUES_PER_PARAMETER",
    "run_backtest",
    "run_optimization",
    "validate_backtest",
    "validate_optimization",
]
