"""Backtesting with forex realism: bid/ask fills, spread, commission, slippage, swaps (tripled on
Wednesday), gaps, partial targets, trailing and break-even stops, risk-% sizing in lots.

Public surface::

    from noxfx.backtest import BacktestConfig, Distance, Signals, Target, simulate

    result = simulate(bars, Signals(long_entry=up, short_entry=down),
                      BacktestConfig(symbol="EURUSD", stop_loss=Distance.pips(20),
                                     take_profit=Distance.pips(40)))
    result.trades, result.equity, result.metrics.as_dict()

Layout: :mod:`~noxfx.backtest.nb` (numba kernels), :mod:`~noxfx.backtest.config` (what to
simulate), :mod:`~noxfx.backtest.engine` (``simulate``, ``simulate_batch``),
:mod:`~noxfx.backtest.portfolio` (``simulate_portfolio``: several symbols, one account),
:mod:`~noxfx.backtest.metrics`, :mod:`~noxfx.backtest.rollover` (swap days per bar).
"""

from noxfx.backtest.config import BacktestConfig, Distance, Signals, Target
from noxfx.backtest.engine import (
    EXIT_REASONS,
    BacktestResult,
    simulate,
    simulate_batch,
    trades_frame,
)
from noxfx.backtest.metrics import Metrics, compute_metrics
from noxfx.backtest.portfolio import PortfolioResult, simulate_portfolio
from noxfx.backtest.rollover import rollover_days

__all__ = [
    "EXIT_REASONS",
    "BacktestConfig",
    "BacktestResult",
    "Distance",
    "Metrics",
    "PortfolioResult",
    "Signals",
    "Target",
    "compute_metrics",
    "rollover_days",
    "simulate",
    "simulate_batch",
    "simulate_portfolio",
    "trades_frame",
]
