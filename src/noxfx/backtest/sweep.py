"""Run many parameter combinations of one strategy over the same bars: the optimiser's engine.

:func:`evaluate_combinations` computes each combination's signals (once per distinct value of
the strategy's :attr:`~noxfx.backtest.strategy.Strategy.signal_parameters`) and its config,
groups combinations that one kernel call can run together, and runs each group through
:func:`noxfx.backtest.optimize_nb.sweep_nb` (parallel over combinations). A group shares the
config up to the *size* of its stop / final target / trailing / break-even distances when those
are in pips, price units or ATR multiples: the kernel multiplies the distances of a reference
config (value 1) by each combination's values, which gives bit-for-bit the distances
:func:`~noxfx.backtest.simulate` computes. Percent distances and multi-level targets are grouped
by exact value instead. Strategies that set per-entry distances are grouped by exact config.

Each combination's statistics (:attr:`Sweep.metrics`) equal those of
:class:`~noxfx.backtest.metrics.Metrics` for the same run (the tests check this).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.backtest._prepare import prepare
from noxfx.backtest.config import BacktestConfig, Distance, Signals
from noxfx.backtest.metrics import TRADING_DAYS_PER_YEAR
from noxfx.backtest.optimize_nb import sweep_nb
from noxfx.backtest.overfitting import sharpe_per_period
from noxfx.backtest.rollover import fx_day_number
from noxfx.backtest.strategy import Params, Strategy, slice_signals, trading_start

#: Distance units whose size can vary inside one kernel call (exactly reproduced by scaling).
_SCALABLE = ("pips", "price", "atr")
#: Columns of :attr:`Sweep.metrics`, as in :class:`~noxfx.backtest.metrics.Metrics`.
METRIC_COLUMNS: tuple[str, ...] = (
    "trades", "net_profit", "net_profit_frac", "final_equity", "cagr", "sharpe", "sortino",
    "calmar", "max_drawdown", "win_rate", "profit_factor", "expectancy", "expectancy_r", "sqn",
    "costs",
)  # fmt: skip


@dataclass(frozen=True)
class Sweep:
    """Results of :func:`evaluate_combinations`, in the order of the combinations given.

    ``metrics``: one row per combination (:data:`METRIC_COLUMNS`; money in account currency,
    ratios as fractions). ``daily_returns``: ``(days, combinations)`` returns of the equity at
    the end of each FX day (17:00 New York), the first against the initial balance.
    ``day_times``: the last bar of each day.
    """

    params: list[Params]
    metrics: pd.DataFrame
    daily_returns: npt.NDArray[np.float64]
    day_times: pd.DatetimeIndex

    @property
    def daily_sharpe(self) -> npt.NDArray[np.float64]:
        """Per-combination Sharpe ratio of the daily returns, not annualised."""
        return sharpe_per_period(self.daily_returns)


def trading_days(bars: pd.DataFrame, trade_from: pd.Timestamp | str | None = None) -> int:
    """Number of FX days (daily returns) a run on ``bars`` from ``trade_from`` has."""
    index = pd.DatetimeIndex(bars.index)[trading_start(pd.DatetimeIndex(bars.index), trade_from) :]
    if len(index) == 0:
        return 0
    days = fx_day_number(index)
    return int(np.count_nonzero(np.r_[days[1:] != days[:-1], True]))


def _scaled(config: BacktestConfig) -> tuple[BacktestConfig, npt.NDArray[np.float64]]:
    """(reference config with unit-size distances where they can scale, multipliers (4,))."""
    mult = np.ones(4)
    changes: dict[str, Distance] = {}

    def unit(d: Distance | None, slot: int, key: str) -> None:
        if d is not None and d.unit in _SCALABLE:
            mult[slot] = d.value
            changes[key] = Distance(d.unit, 1.0, d.atr_period)

    unit(config.stop_loss, 0, "stop_loss")
    if not config.partial_targets:
        unit(config.take_profit, 1, "take_profit")
    unit(config.trailing_stop, 2, "trailing_stop")
    unit(config.breakeven_trigger, 3, "breakeven_trigger")
    return replace(config, **changes), mult  # type: ignore[arg-type]


@dataclass
class _Group:
    config: BacktestConfig  # the reference config prepared once (or the exact one)
    per_entry: bool
    members: list[int]
    mult: list[npt.NDArray[np.float64]]


def evaluate_combinations(
    strategy: Strategy,
    bars: pd.DataFrame,
    combos: Sequence[Mapping[str, int | float]],
    config: BacktestConfig | None = None,
    *,
    trade_from: pd.Timestamp | str | None = None,
) -> Sweep:
    """Simulate ``strategy`` with each parameter combination in ``combos`` (validated, not
    checked against constraints) on ``bars``; signals use all bars, trading starts at
    ``trade_from``. See :class:`Sweep` for the result."""
    config = config or BacktestConfig()
    index = pd.DatetimeIndex(bars.index)
    start = trading_start(index, trade_from)
    traded = bars.iloc[start:]
    traded_index = pd.DatetimeIndex(traded.index)
    params = [strategy.resolve_params(c) for c in combos]
    keys = sorted(strategy.signal_parameters)
    cache: dict[tuple[float, ...], Signals] = {}
    signals: list[Signals] = []
    configs: list[BacktestConfig] = []
    for p in params:
        cfg = strategy.backtest_config(p, config)
        key = tuple(float(p[k]) for k in keys)
        if key not in cache:
            full = strategy.trade_signals(bars, p, cfg.symbol)
            cache[key] = slice_signals(full, start) if start else full
        signals.append(cache[key])
        configs.append(cfg)
    groups: dict[object, _Group] = {}
    for i, (sig, cfg) in enumerate(zip(signals, configs, strict=True)):
        per_entry = sig.stop_distance is not None or sig.target_distance is not None
        if per_entry:
            ref, mult = cfg, np.ones(4)
            gkey: object = ("exact", cfg, sig.stop_distance is None, sig.target_distance is None)
        else:
            ref, mult = _scaled(cfg)
            gkey = ("scaled", ref)
        group = groups.setdefault(gkey, _Group(ref, per_entry, [], []))
        group.members.append(i)
        group.mult.append(mult)
    days = fx_day_number(traded_index)
    day_end = np.flatnonzero(np.r_[days[1:] != days[:-1], True]).astype(np.int64)
    n, c = len(traded), len(params)
    stats = np.zeros((c, 8))
    daily = np.zeros((c, len(day_end)))
    trade_stats = np.zeros((c, 9))
    for group in groups.values():
        idx = np.asarray(group.members)
        out = _run_group(traded, [signals[i] for i in idx], group, day_end, n)
        stats[idx], daily[idx], trade_stats[idx] = out
    metrics = _metrics(stats, daily, trade_stats, config.initial_balance, traded_index)
    with np.errstate(divide="ignore", invalid="ignore"):
        prev = np.concatenate([np.full((c, 1), config.initial_balance), daily[:, :-1]], axis=1)
        rets = daily / prev - 1.0
    rets = np.where(np.isfinite(rets), rets, np.nan)
    return Sweep(params, metrics, np.ascontiguousarray(rets.T), traded_index[day_end])


def _run_group(
    bars: pd.DataFrame, sigs: list[Signals], group: _Group, day_end: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    def matrix(name: str) -> np.ndarray:
        rows = [getattr(s, name) for s in sigs]
        out = np.zeros((len(sigs), n), dtype=np.bool_)
        for k, row in enumerate(rows):
            if row is not None:
                out[k] = np.asarray(row, dtype=np.bool_)
        return out

    le, se, lx, sx = (matrix(k) for k in ("long_entry", "short_entry", "long_exit", "short_exit"))
    if group.per_entry:
        preps = [prepare(bars, replace(s, long_entry=None, short_entry=None, long_exit=None,
                                       short_exit=None), group.config) for s in sigs]  # fmt: skip
        prep = preps[0]
        stop = np.ascontiguousarray(np.stack([p.orders.stop for p in preps]))
        targets = np.ascontiguousarray(np.stack([p.orders.targets for p in preps]))
    else:
        prep = prepare(bars, Signals(), group.config)
        stop = prep.orders.stop[None, :]
        targets = prep.orders.targets[None, :, :]
    o = prep.orders
    levels = targets.shape[2]
    capacity = ((le | se).sum(axis=1) * levels + 1).astype(np.int64)
    mult = np.ascontiguousarray(np.stack(group.mult))
    return sweep_nb(
        prep.market, le, se, lx, sx, stop, targets, o.target_fraction, o.trail, o.breakeven,
        mult, prep.fine, prep.params, day_end, capacity,
    )  # fmt: skip


def _metrics(
    stats: np.ndarray,
    daily: np.ndarray,
    trades: np.ndarray,
    initial: float,
    index: pd.DatetimeIndex,
) -> pd.DataFrame:
    """:class:`~noxfx.backtest.metrics.Metrics` fields from the kernel's outputs."""
    final = stats[:, 0]
    n = trades[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        prev = np.concatenate([np.full((len(final), 1), initial), daily[:, :-1]], axis=1)
        rets = daily / prev - 1.0
        rets = np.where(np.isfinite(rets), rets, np.nan)
        count = np.sum(np.isfinite(rets), axis=1)
        mean = np.nanmean(rets, axis=1) if rets.shape[1] else np.full(len(final), np.nan)
        std = np.nanstd(rets, axis=1, ddof=1) if rets.shape[1] > 1 else np.full(len(final), np.nan)
        downside = np.sqrt(np.nanmean(np.minimum(rets, 0.0) ** 2, axis=1))
        scale = math.sqrt(TRADING_DAYS_PER_YEAR)
        sharpe = np.where((count >= 2) & (std > 0), mean / std * scale, np.nan)
        sortino = np.where((count >= 2) & (downside > 0), mean / downside * scale, np.nan)
        years = (
            (index[-1] - index[0]).total_seconds() / (365.25 * 86_400) if len(index) > 1 else 0.0
        )
        if years > 0 and initial > 0:
            cagr = np.where(final > 0, (final / initial) ** (1.0 / years) - 1.0, -1.0)
        else:
            cagr = np.full(len(final), np.nan)
        dd = stats[:, 6]
        r_ok = (trades[:, 8] > 0) & (n > 0)
        mean_r = np.where(r_ok, trades[:, 6] / n, np.nan)
        mean_pnl = trades[:, 4] / n
        sqn = np.where(
            r_ok,
            _sqn(n, trades[:, 6], trades[:, 7]),
            _sqn(n, trades[:, 4], trades[:, 5]),
        )
        return pd.DataFrame(
            {
                "trades": n.astype(np.int64),
                "net_profit": final - initial,
                "net_profit_frac": (final - initial) / initial,
                "final_equity": final,
                "cagr": cagr,
                "sharpe": sharpe,
                "sortino": sortino,
                "calmar": np.where(dd > 0, cagr / dd, np.nan),
                "max_drawdown": dd,
                "win_rate": np.where(n > 0, trades[:, 1] / n, np.nan),
                "profit_factor": np.where(trades[:, 3] > 0, trades[:, 2] / trades[:, 3], np.nan),
                "expectancy": np.where(n > 0, mean_pnl, np.nan),
                "expectancy_r": mean_r,
                "sqn": sqn,
                "costs": stats[:, 7],
            }
        )


def _sqn(n: np.ndarray, total: np.ndarray, total_sq: np.ndarray) -> np.ndarray:
    """sqrt(n) x mean / sample deviation from sums (NaN below 2 values or zero deviation)."""
    mean = total / n
    var = (total_sq - n * mean**2) / (n - 1)
    std = np.sqrt(np.maximum(var, 0.0))
    return np.where((n >= 2) & (std > 0), np.sqrt(n) * mean / std, np.nan)


__all__ = ["METRIC_COLUMNS", "Sweep", "evaluate_combinations", "trading_days"]
