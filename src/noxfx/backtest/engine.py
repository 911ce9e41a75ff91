"""Backtest one forex symbol: ``simulate(bars, signals, config) -> BacktestResult``.

The readable layer over :mod:`noxfx.backtest.nb`: :mod:`noxfx.backtest._prepare` turns forex
units (pips, lots, percent, ATR multiples, swap points) into the kernel's price units and
arrays, the kernel runs, and this module dresses its output as pandas objects. The simulation
rules (fills at bid/ask, next-open execution, gaps, stop first, rollovers) are in the
:mod:`noxfx.backtest.nb` docstring.

For strategy builders: a strategy produces a :class:`~noxfx.backtest.config.Signals` (bool
arrays or Series on the bars' index, optionally per-entry stop/target distances in price units)
and picks a :class:`~noxfx.backtest.config.BacktestConfig`; nothing else is needed. Parameter
sweeps of many signal sets over the same bars go through :func:`simulate_batch`, which runs the
combinations in parallel inside one numba call and returns one row of statistics each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.backtest import nb
from noxfx.backtest._prepare import prepare
from noxfx.backtest.config import BacktestConfig, Signals
from noxfx.backtest.metrics import Metrics, compute_metrics
from noxfx.errors import InvalidInput

#: Exit reason codes of :data:`noxfx.backtest.nb.TRADE_DTYPE` -> the words in ``trades``.
EXIT_REASONS: dict[int, str] = {
    nb.STOP_LOSS: "stop_loss",
    nb.TRAILING_STOP: "trailing_stop",
    nb.BREAK_EVEN: "break_even",
    nb.TAKE_PROFIT: "take_profit",
    nb.TAKE_PROFIT + 1: "take_profit_2",
    nb.TAKE_PROFIT + 2: "take_profit_3",
    nb.TAKE_PROFIT + 3: "take_profit_4",
    nb.TAKE_PROFIT + 4: "take_profit_5",
    nb.EXIT_SIGNAL: "exit_signal",
    nb.REVERSAL: "reversal",
    nb.TIME_EXIT: "time_exit",
    nb.END_OF_DATA: "end_of_data",
}
_REASON_WORDS = list(EXIT_REASONS.values())
_REASON_INDEX = np.full(max(EXIT_REASONS) + 1, -1, dtype=np.int64)  # code -> category number
_REASON_INDEX[list(EXIT_REASONS)] = np.arange(len(EXIT_REASONS))


@dataclass(frozen=True)
class BacktestResult:
    """The outcome of :func:`simulate`.

    ``trades``: one row per (partial) close: ``trade_id`` (shared by the partial closes of one
    position), ``direction`` ("long"/"short"), ``entry_time``/``exit_time`` (UTC bar open time of
    the fill bar), ``entry_price``/``exit_price`` (fills, spread and slippage included),
    ``lots``, ``stop_price``, ``pnl`` (net, account currency), ``pnl_pips``, ``r_multiple``,
    ``commission``, ``spread_cost``, ``slippage_cost`` (both already inside the fill prices),
    ``swap``, ``exit_reason`` (words), ``partial``, ``bars_held``.
    ``equity``: account equity at each bar's close; ``drawdown``: equity / running peak - 1
    (<= 0); ``position``: signed open lots at each bar's close. ``metrics`` is computed on first
    access.
    """

    config: BacktestConfig
    trades: pd.DataFrame
    equity: pd.Series
    drawdown: pd.Series
    position: pd.Series
    records: np.ndarray = field(repr=False)

    @cached_property
    def metrics(self) -> Metrics:
        return compute_metrics(
            self.equity, self.trades, self.config.initial_balance, position=self.position
        )


def simulate(
    bars: pd.DataFrame,
    signals: Signals,
    config: BacktestConfig | None = None,
    *,
    conversion: pd.Series | float | None = None,
    fine_bars: pd.DataFrame | None = None,
) -> BacktestResult:
    """Simulate ``signals`` on ``bars`` with ``config`` (one position at a time).

    ``bars``: bid OHLC (float64, quote per base) indexed by UTC bar open time, sorted; an
    optional ``spread`` column in MetaTrader points. ``conversion``: the quote -> account rate
    known at each bar's open, as a Series on any UTC index (forward-filled onto the bars; e.g.
    GBPUSD opens for EURGBP on a USD account) or a constant; not needed when the account
    currency is the pair's quote (1) or base (1 / open). Without ``conversion``, an optional
    ``conversion`` column of ``bars`` is used (same meaning; :func:`noxfx.workflows.with_conversion`
    adds it from the store, so optimisations and walk-forward slices carry it too).
    ``fine_bars``: finer bid bars of the
    same symbol (e.g. 1m under 1h) used to tell which of a stop and a target was hit first and to
    move trailing stops within the bar.

    Raises :class:`~noxfx.errors.InvalidBars` / :class:`~noxfx.errors.InvalidInput` with an
    actionable message on malformed input.
    """
    config = config or BacktestConfig()
    prep = prepare(bars, signals, config, conversion, fine_bars)
    n = len(prep.bars.close)
    records = np.zeros(prep.capacity, dtype=nb.TRADE_DTYPE)
    equity = np.empty(n)
    position = np.empty(n)
    stats = np.zeros(len(nb.STAT_FIELDS))
    n_rec = nb.run_nb(
        prep.market, prep.orders, prep.fine, prep.params, np.ones(4), records, equity, position,
        stats,
    )  # fmt: skip
    if n_rec > prep.capacity:  # cannot happen: each entry closes in at most k records
        raise RuntimeError(f"trade record buffer too small ({n_rec} > {prep.capacity})")
    records = records[:n_rec]
    index = prep.bars.index
    equity_s = pd.Series(equity, index=index, name="equity")
    peak = np.maximum.accumulate(equity)
    drawdown = pd.Series(equity / peak - 1.0, index=index, name="drawdown")
    return BacktestResult(
        config=config,
        trades=trades_frame(records, index),
        equity=equity_s,
        drawdown=drawdown,
        position=pd.Series(position, index=index, name="position"),
        records=records,
    )


def trades_frame(records: np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    """The kernel's trade records as a readable frame (see :class:`BacktestResult`)."""
    entry_bar = records["entry_bar"]
    exit_bar = records["exit_bar"]
    direction = records["direction"].astype(np.int64)
    reason = pd.Categorical.from_codes(
        _REASON_INDEX[records["exit_reason"]], pd.Index(_REASON_WORDS)
    )
    return pd.DataFrame(
        {
            "trade_id": records["trade_id"],
            "direction": np.where(direction > 0, "long", "short"),
            "entry_time": index[entry_bar],
            "exit_time": index[exit_bar],
            "entry_bar": entry_bar,
            "exit_bar": exit_bar,
            "entry_price": records["entry_price"],
            "exit_price": records["exit_price"],
            "lots": records["lots"],
            "stop_price": records["stop_price"],
            "pnl": records["pnl_account"],
            "pnl_pips": records["pnl_pips"],
            "r_multiple": records["r_multiple"],
            "commission": records["commission"],
            "spread_cost": records["spread_cost"],
            "slippage_cost": records["slippage_cost"],
            "swap": records["swap"],
            "exit_reason": reason,
            "partial": records["partial"],
            "bars_held": exit_bar - entry_bar,
        }
    )


def simulate_batch(
    bars: pd.DataFrame,
    signals: Signals,
    config: BacktestConfig | None = None,
    *,
    stop_scale: npt.ArrayLike | None = None,
    target_scale: npt.ArrayLike | None = None,
    conversion: pd.Series | float | None = None,
    fine_bars: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Run many parameter combinations over the same bars; one row of statistics each.

    ``signals`` holds 2-D bool arrays ``(n_bars, n_combinations)`` (or DataFrames on the bars'
    index), one column per combination; missing ones are all False. ``stop_scale`` and
    ``target_scale`` (length n_combinations) multiply the config's stop / target distances per
    combination: with ``stop_loss=Distance.percent(1.0)``, a scale of 0.2 is a 0.2 % stop.
    Columns: :data:`noxfx.backtest.nb.STAT_FIELDS` plus ``net_profit``, ``win_rate`` (per close)
    and ``profit_factor``. Same rules as :func:`simulate`; runs in parallel on all cores.
    """
    config = config or BacktestConfig()
    sig2d = {
        name: _signal_matrix(getattr(signals, name), pd.DatetimeIndex(bars.index))
        for name in ("long_entry", "short_entry", "long_exit", "short_exit")
    }
    widths = {m.shape[0] for m in sig2d.values() if m is not None}
    if len(widths) != 1:
        raise InvalidInput("Batch signals must all have the same number of columns (>= 1).")
    c = widths.pop()
    n = len(bars)
    full = {k: (v if v is not None else np.zeros((c, n), dtype=np.bool_)) for k, v in sig2d.items()}
    mult = np.ones((c, 4))
    for col, scale in ((0, stop_scale), (1, target_scale)):
        if scale is not None:
            values = np.asarray(scale, dtype=np.float64)
            if values.shape != (c,):
                raise InvalidInput(f"Scales need one value per combination ({c}).")
            mult[:, col] = values
    one = Signals(
        long_entry=full["long_entry"][0],
        stop_distance=signals.stop_distance,
        target_distance=signals.target_distance,
    )
    prep = prepare(bars, one, config, conversion, fine_bars)
    o = prep.orders
    out = nb.simulate_batch_nb(
        prep.market, full["long_entry"], full["short_entry"], full["long_exit"],
        full["short_exit"], o.stop, o.targets, o.target_fraction, o.trail, o.breakeven, mult,
        prep.fine, prep.params,
    )  # fmt: skip
    frame = pd.DataFrame(out, columns=list(nb.STAT_FIELDS))
    frame["net_profit"] = frame["final_equity"] - config.initial_balance
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["win_rate"] = frame["wins"] / frame["closes"]
        frame["profit_factor"] = frame["gross_profit"] / frame["gross_loss"]
    return frame


def _signal_matrix(values: object, index: pd.DatetimeIndex) -> np.ndarray | None:
    """(n, c) signals -> contiguous (c, n) bool, or None when absent."""
    if values is None:
        return None
    if isinstance(values, pd.DataFrame):
        values = values.reindex(index).fillna(False).to_numpy(dtype=np.bool_)
    arr = np.asarray(values, dtype=np.bool_)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != len(index):
        raise InvalidInput(f"Batch signals must be (n_bars={len(index)}, n_combinations).")
    return np.ascontiguousarray(arr.T)


__all__ = ["EXIT_REASONS", "BacktestResult", "simulate", "simulate_batch", "trades_frame"]
