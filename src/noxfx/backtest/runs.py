"""Backtest and optimisation runs as plain-JSON documents.

What ``noxfx backtest --json``, ``noxfx optimize --json`` and the API's ``backtest`` and
``optimize`` jobs return, built in one place: the strategy's resolved parameters, the metrics
(costs included: spread, commission, slippage, swap) and the words for the costs the run used.
Amounts are in the account currency, prices in quote currency, times UTC (bar open times).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from noxfx.errors import InsufficientData

if TYPE_CHECKING:
    import pandas as pd

    from noxfx.backtest.config import BacktestConfig
    from noxfx.backtest.engine import BacktestResult
    from noxfx.backtest.optimize import OptimizationResult
    from noxfx.backtest.strategy import Strategy

#: Fewest bars a backtest or optimisation accepts.
MIN_BARS = 50


def make_config(
    symbol: str,
    *,
    balance: float = 10_000.0,
    risk_percent: float | None = None,
    lots: float = 0.1,
    spread_pips: float | None = None,
    commission_per_lot: float = 0.0,
    slippage_pips: float = 0.0,
    account_currency: str = "USD",
    swap_long: float = 0.0,
    swap_short: float = 0.0,
) -> BacktestConfig:
    """A :class:`~noxfx.backtest.config.BacktestConfig` from the user-facing options. Spread:
    ``spread_pips``, else the bars' spread column, else the instrument's typical spread;
    commission per lot per side and swaps per lot per night (+ credit, - debit) in the account
    currency."""
    from noxfx.backtest.config import BacktestConfig
    from noxfx.instruments import get_instrument

    return BacktestConfig(
        symbol=get_instrument(symbol).symbol,
        account_currency=account_currency.upper(),
        initial_balance=balance,
        risk_percent=risk_percent,
        lots=lots,
        spread_pips=spread_pips,
        use_spread_column=spread_pips is None,
        commission_per_lot=commission_per_lot,
        slippage_pips=slippage_pips,
        swap_long=swap_long,
        swap_short=swap_short,
    )


def require_bars(bars: pd.DataFrame, symbol: str, timeframe: str) -> pd.DataFrame:
    """``bars`` if there are at least :data:`MIN_BARS`, else :class:`InsufficientData`."""
    if len(bars) < MIN_BARS:
        raise InsufficientData(
            f"Only {len(bars)} {symbol} {timeframe} bars in that range; a backtest needs "
            f"at least {MIN_BARS}."
        )
    return bars


def backtest_document(
    strategy: Strategy,
    bars: pd.DataFrame,
    params: Mapping[str, float],
    config: BacktestConfig,
    timeframe: str,
    *,
    fine_bars: pd.DataFrame | None = None,
    include_trades: bool = False,
) -> tuple[dict[str, Any], BacktestResult]:
    """Run ``strategy`` with ``params`` (defaults filled in) and describe the run.

    Returns (document, the engine's result); ``document["params"]`` are the resolved
    parameters.
    """
    from noxfx.backtest.report import cost_summary

    values = strategy.resolve_params(dict(params))
    result = strategy.backtest(bars, values, config, fine_bars=fine_bars)
    doc: dict[str, Any] = {
        "strategy": strategy.name,
        "symbol": result.config.symbol,
        "timeframe": timeframe,
        "params": values,
        "costs": cost_summary(result.config, bars),
        "metrics": result.metrics.as_dict(),
    }
    if include_trades:
        frame = result.trades.assign(exit_reason=result.trades["exit_reason"].astype(str))
        doc["trades"] = frame.to_dict("records")
    return doc, result


def optimization_document(
    result: OptimizationResult, bars: pd.DataFrame, timeframe: str
) -> dict[str, Any]:
    """An optimisation's document: best parameters and metrics, the number of trials, the
    Deflated Sharpe Ratio of the winner, PBO (CSCV) and the top trials."""
    from noxfx.backtest.report import cost_summary

    return {**result.as_dict(), "symbol": result.config.symbol, "timeframe": timeframe,
            "costs": cost_summary(result.config, bars)}  # fmt: skip


def run_optimization(
    strategy: Strategy,
    bars: pd.DataFrame,
    ranges: Sequence[str],
    config: BacktestConfig,
    timeframe: str,
    *,
    method: str = "grid",
    trials: int | None = None,
    objective: str = "sharpe",
    min_trades: int = 10,
    seed: int = 0,
    max_combinations: int = 200_000,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], OptimizationResult]:
    """Optimise ``strategy`` over ``ranges`` (``name=lo:hi:step``, ``name=a,b,c``; default:
    its declared ranges) and return (document, result)."""
    from noxfx.backtest import optimize as opt

    space = opt.parse_ranges(list(ranges), strategy)
    result = opt.optimize(strategy, bars, space, config, method=method,  # type: ignore[arg-type]
                          trials=trials, objective=objective, min_trades=min_trades, seed=seed,
                          progress=progress, max_combinations=max_combinations)  # fmt: skip
    return optimization_document(result, bars, timeframe), result


__all__ = [
    "MIN_BARS",
    "backtest_document",
    "make_config",
    "optimization_document",
    "require_bars",
    "run_optimization",
]
