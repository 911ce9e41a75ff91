"""Several symbols trading one account: ``simulate_portfolio(bars, signals, config)``.

Each symbol keeps the single-symbol rules of :func:`noxfx.backtest.engine.simulate` (one
position at a time, fills, costs, swaps); what they share is the balance: risk-% sizing uses the
account's balance at the moment of the entry, and the equity curve marks every open position.
The symbols' bars are put on the union of their times; a symbol without a bar at a time is valued
at its last close and its signals wait for its next bar. Within one bar time all symbols' market
orders at the open are made first (in the order of ``bars``), then all intrabar exits.

Not supported here: finer bars for intrabar order, and per-combination batches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from noxfx.backtest import nb
from noxfx.backtest._prepare import Prepared, prepare
from noxfx.backtest.config import BacktestConfig, Signals
from noxfx.backtest.engine import trades_frame
from noxfx.backtest.metrics import Metrics, compute_metrics
from noxfx.backtest.rollover import rollover_days
from noxfx.errors import InvalidInput


@dataclass(frozen=True)
class PortfolioResult:
    """The outcome of :func:`simulate_portfolio`.

    ``trades``: as :class:`noxfx.backtest.engine.BacktestResult.trades` plus a ``symbol``
    column (bar numbers refer to ``equity.index``, the union of the symbols' bar times).
    ``equity``/``drawdown``: the account's, in account currency. ``lots``: signed open lots per
    symbol (columns) at each bar time.
    """

    configs: dict[str, BacktestConfig]
    trades: pd.DataFrame
    equity: pd.Series
    drawdown: pd.Series
    lots: pd.DataFrame
    records: np.ndarray = field(repr=False)

    @cached_property
    def metrics(self) -> Metrics:
        initial = next(iter(self.configs.values())).initial_balance
        exposure = self.lots.abs().sum(axis=1)
        return compute_metrics(self.equity, self.trades, initial, position=exposure)


def simulate_portfolio(
    bars: Mapping[str, pd.DataFrame],
    signals: Mapping[str, Signals],
    config: BacktestConfig | Mapping[str, BacktestConfig],
    *,
    conversion: Mapping[str, pd.Series | float] | None = None,
) -> PortfolioResult:
    """Simulate several symbols on one account.

    ``bars`` and ``signals`` are keyed by symbol (``"EURUSD"``, ``"USDJPY"``...). ``config`` is
    one :class:`BacktestConfig` for all (its ``symbol`` is replaced per key) or one per symbol;
    account fields (``initial_balance``, ``account_currency``) must agree. ``conversion`` gives
    the quote -> account rate for symbols that need one (see :func:`simulate`).
    """
    symbols = list(bars)
    if not symbols:
        raise InvalidInput("simulate_portfolio needs at least one symbol.")
    if set(signals) != set(symbols):
        raise InvalidInput("signals must have the same symbols as bars.")
    configs = _configs(symbols, config)
    conv = conversion or {}
    preps = [prepare(bars[s], signals[s], configs[s], conv.get(s)) for s in symbols]
    union = _union_index([p.bars.index for p in preps])
    market, has_bar, orders = _stack(preps, union, [configs[s] for s in symbols])
    params = tuple(p.params for p in preps)
    capacity = sum(p.capacity for p in preps)
    records = np.zeros(capacity, dtype=nb.TRADE_DTYPE)
    equity = np.empty(len(union))
    lots = np.zeros((len(symbols), len(union)))
    stats = np.zeros(len(nb.STAT_FIELDS))
    first = configs[symbols[0]]
    n_rec = nb.run_portfolio_nb(
        market, has_bar, orders, params, first.initial_balance, records, equity, lots, stats
    )
    records = records[:n_rec]
    trades = trades_frame(records, union)
    trades.insert(1, "symbol", np.asarray(symbols, dtype=object)[records["symbol"]])
    peak = np.maximum.accumulate(equity)
    return PortfolioResult(
        configs=configs,
        trades=trades,
        equity=pd.Series(equity, index=union, name="equity"),
        drawdown=pd.Series(equity / peak - 1.0, index=union, name="drawdown"),
        lots=pd.DataFrame(lots.T, index=union, columns=symbols),
        records=records,
    )


def _configs(
    symbols: list[str], config: BacktestConfig | Mapping[str, BacktestConfig]
) -> dict[str, BacktestConfig]:
    if isinstance(config, BacktestConfig):
        out = {s: replace(config, symbol=s) for s in symbols}
    else:
        missing = [s for s in symbols if s not in config]
        if missing:
            raise InvalidInput(f"No config for {', '.join(missing)}.")
        out = {s: replace(config[s], symbol=s) for s in symbols}
    accounts = {(c.initial_balance, c.account_currency.upper()) for c in out.values()}
    if len(accounts) != 1:
        raise InvalidInput("All symbols of a portfolio share one account: same initial_balance "
                           "and account_currency in every config.")  # fmt: skip
    return out


def _union_index(indexes: list[pd.DatetimeIndex]) -> pd.DatetimeIndex:
    ns = np.unique(np.concatenate([ix.as_unit("ns").asi8 for ix in indexes]))
    return pd.DatetimeIndex(ns, tz="UTC", name="time")


def _stack(
    preps: list[Prepared], union: pd.DatetimeIndex, configs: list[BacktestConfig]
) -> tuple[nb.Market, np.ndarray, nb.Orders]:
    """Per-symbol kernel inputs placed on the union of bar times, as (n_symbols, n) arrays."""
    n_sym, n = len(preps), len(union)
    k = max(p.orders.targets.shape[1] for p in preps)

    def blank(fill: float) -> np.ndarray:
        return np.full((n_sym, n), fill)

    o_, h_, l_, c_, sp_, cv_, rl_ = (blank(np.nan) for _ in range(7))
    has_bar = np.zeros((n_sym, n), dtype=np.bool_)
    sig = [np.zeros((n_sym, n), dtype=np.bool_) for _ in range(4)]
    stop, trail, be = blank(np.nan), blank(np.nan), blank(np.nan)
    targets = np.full((n_sym, n, k), np.nan)
    fractions = np.ones((n_sym, k))
    for s, (prep, cfg) in enumerate(zip(preps, configs, strict=True)):
        at = union.get_indexer(prep.bars.index)
        mk, od = prep.market, prep.orders
        for dst, src in ((o_, mk.open), (h_, mk.high), (l_, mk.low), (c_, mk.close)):
            dst[s, at] = src
        sp_[s, at] = mk.spread
        has_bar[s, at] = True
        rate = np.full(n, np.nan)
        rate[at] = mk.conversion
        cv_[s] = pd.Series(rate).ffill().bfill().to_numpy()
        rl_[s] = rollover_days(union, cfg.triple_swap_weekday)
        for dst_sig, src_sig in zip(
            sig, (od.long_entry, od.short_entry, od.long_exit, od.short_exit), strict=True
        ):
            dst_sig[s, at] = src_sig
        stop[s, at], trail[s, at], be[s, at] = od.stop, od.trail, od.breakeven
        levels = od.targets.shape[1]
        targets[s, at, :levels] = od.targets
        fractions[s, :levels] = od.target_fraction
    sp_ = np.nan_to_num(sp_)
    market = nb.Market(o_, h_, l_, c_, sp_, cv_, rl_)
    orders = nb.Orders(sig[0], sig[1], sig[2], sig[3], stop, targets, fractions, trail, be)
    return market, has_bar, orders


__all__ = ["PortfolioResult", "simulate_portfolio"]
