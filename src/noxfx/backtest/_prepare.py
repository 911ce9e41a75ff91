"""Turn a frame of bars, :class:`Signals` and a :class:`BacktestConfig` into kernel inputs.

Everything here is vectorised NumPy/pandas; the result is the :mod:`noxfx.backtest.nb` argument
tuples (price units, lot steps, account-currency money).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.backtest import nb
from noxfx.backtest.config import ArrayOrSeries, BacktestConfig, Distance, Signals, Target
from noxfx.backtest.rollover import rollover_days
from noxfx.errors import InvalidBars, InvalidInput
from noxfx.instruments import Instrument

_MAX_TARGETS = 5
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class _BarArrays:
    index: pd.DatetimeIndex
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]


def _bar_arrays(bars: pd.DataFrame) -> _BarArrays:
    if not isinstance(bars, pd.DataFrame):
        raise InvalidBars("Bars must be a DataFrame with open, high, low, close columns.")
    missing = [c for c in ("open", "high", "low", "close") if c not in bars.columns]
    if missing:
        raise InvalidBars(f"Bars are missing columns: {', '.join(missing)}.")
    index = bars.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InvalidBars("Bars must be indexed by a tz-aware DatetimeIndex (UTC bar open time).")
    if len(index) == 0:
        raise InvalidBars("No bars to backtest.")
    if not index.is_monotonic_increasing:
        raise InvalidBars("Bars must be sorted by time.")
    cols = [
        np.ascontiguousarray(bars[c].to_numpy(dtype=np.float64))
        for c in ("open", "high", "low", "close")
    ]
    if not all(np.isfinite(c).all() for c in cols):
        raise InvalidBars("Bars contain NaN or infinite prices; repair or drop them first.")
    return _BarArrays(index, *cols)


def _bool_array(values: ArrayOrSeries | None, index: pd.DatetimeIndex, name: str) -> np.ndarray:
    n = len(index)
    if values is None:
        return np.zeros(n, dtype=np.bool_)
    if isinstance(values, pd.Series):
        if not values.index.equals(index):
            values = values.reindex(index)
        values = values.fillna(False).to_numpy(dtype=np.bool_)
    arr = np.ascontiguousarray(np.asarray(values, dtype=np.bool_))
    if arr.shape != (n,):
        raise InvalidInput(f"Signal {name!r} has shape {arr.shape}; expected ({n},), one per bar.")
    return arr


def _float_array(values: ArrayOrSeries | None, index: pd.DatetimeIndex, name: str) -> np.ndarray:
    n = len(index)
    if values is None:
        return np.full(n, np.nan)
    if isinstance(values, pd.Series) and not values.index.equals(index):
        values = values.reindex(index)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise InvalidInput(f"{name!r} has shape {arr.shape}; expected ({n},), one per bar.")
    return arr


def _spread(bars: pd.DataFrame, config: BacktestConfig, ins: Instrument) -> np.ndarray:
    """Per-bar spread in price units: the bars' spread column (points) or a fixed value."""
    if config.use_spread_column and "spread" in bars.columns:
        points = bars["spread"].to_numpy(dtype=np.float64)
        if not np.isfinite(points).all() or (points < 0).any():
            raise InvalidBars("The spread column has NaN or negative values.")
        return np.ascontiguousarray(points * 10.0 ** (-ins.precision))
    pips = ins.typical_spread_pips if config.spread_pips is None else config.spread_pips
    if pips < 0:
        raise InvalidInput("spread_pips cannot be negative.")
    return np.full(len(bars), pips * ins.pip_size)


def _conversion(
    bars: _BarArrays, config: BacktestConfig, ins: Instrument, conversion: pd.Series | float | None
) -> np.ndarray:
    """Quote -> account rate per bar, known at the bar's open."""
    n = len(bars.close)
    account = config.account_currency.upper()
    if conversion is not None:
        if isinstance(conversion, pd.Series):
            rate = conversion.reindex(bars.index, method="ffill").to_numpy(dtype=np.float64)
            if not np.isfinite(rate).all():
                rate = pd.Series(rate).bfill().to_numpy()
        else:
            rate = np.full(n, float(conversion))
    elif ins.quote == account:
        rate = np.ones(n)
    elif ins.base == account:
        rate = 1.0 / bars.open  # USDJPY on a USD account: 1 JPY = 1 / price USD
    elif config.conversion_rate is not None:
        rate = np.full(n, float(config.conversion_rate))
    else:
        raise InvalidInput(
            f"{ins.symbol} on a {account} account needs a {ins.quote}->{account} rate: import "
            f"{ins.quote}{account} (or {account}{ins.quote}) bars, or pass conversion= "
            f"({ins.quote}{account} opens, or 1 / {account}{ins.quote}) or set conversion_rate."
        )
    if not (np.isfinite(rate).all() and (rate > 0).all()):
        raise InvalidInput("The conversion rate must be positive and known for every bar.")
    return np.ascontiguousarray(rate)


def _targets(
    bars: _BarArrays, config: BacktestConfig, ins: Instrument, signals: Signals
) -> tuple[np.ndarray, np.ndarray]:
    levels = list(config.partial_targets)
    n = len(bars.close)
    final_override = _float_array(signals.target_distance, bars.index, "target_distance")
    has_override = bool(np.isfinite(final_override).any())
    if config.take_profit is not None:
        levels.append(Target(config.take_profit, 1.0))
    elif has_override:
        levels.append(Target(Distance.price(1.0), 1.0))  # placeholder, replaced below
    if len(levels) > _MAX_TARGETS:
        raise InvalidInput(f"At most {_MAX_TARGETS} take-profit levels.")
    if not levels:
        return np.full((n, 1), np.nan), np.ones(1)
    dist = np.empty((n, len(levels)))
    for k, level in enumerate(levels):
        if not 0 < level.close_fraction <= 1:
            raise InvalidInput("A target's close_fraction must be in (0, 1].")
        dist[:, k] = level.distance.to_price(bars.open, bars.high, bars.low, bars.close, ins)
    if config.take_profit is None and has_override:
        dist[:, -1] = np.nan
    if has_override:
        dist[:, -1] = np.where(np.isfinite(final_override), final_override, dist[:, -1])
    frac = np.array([t.close_fraction for t in levels])
    return np.ascontiguousarray(dist), frac


def _optional_distance(d: Distance | None, bars: _BarArrays, ins: Instrument) -> np.ndarray:
    return (
        np.full(len(bars.close), np.nan)
        if d is None
        else d.to_price(bars.open, bars.high, bars.low, bars.close, ins)
    )


def _fine(
    fine_bars: pd.DataFrame | None, bars: _BarArrays, spread: npt.NDArray[np.float64]
) -> nb.Fine:
    """Map each coarse bar to its finer bars ``[start, end)`` (by UTC open time)."""
    empty_f = np.zeros(0)
    empty_i = np.zeros(0, dtype=np.int64)
    if fine_bars is None:
        return nb.Fine(empty_f, empty_f, empty_f, empty_f, empty_i, empty_i)
    fine = _bar_arrays(fine_bars)
    coarse_ns = bars.index.as_unit("ns").asi8
    fine_ns = fine.index.tz_convert("UTC").as_unit("ns").asi8
    start = np.searchsorted(fine_ns, coarse_ns, side="left").astype(np.int64)
    step = np.median(np.diff(coarse_ns)) if len(coarse_ns) > 1 else np.inf
    last_end = np.searchsorted(fine_ns, coarse_ns[-1] + step, side="left")
    end = np.r_[start[1:], last_end].astype(np.int64)
    owner = np.clip(np.searchsorted(coarse_ns, fine_ns, side="right") - 1, 0, len(coarse_ns) - 1)
    return nb.Fine(fine.open, fine.high, fine.low, np.ascontiguousarray(spread[owner]), start, end)


@dataclass(frozen=True, slots=True)
class Prepared:
    """Kernel inputs for one symbol, plus what the result needs to be dressed."""

    bars: _BarArrays
    market: nb.Market
    orders: nb.Orders
    fine: nb.Fine
    params: nb.Params
    capacity: int  # upper bound on the number of trade records


def _steps(lots: float, step: float) -> int:
    return int(np.floor(lots / step + _EPS))


def params_for(config: BacktestConfig, ins: Instrument, require_stop: bool) -> nb.Params:
    """Scalar kernel settings from the config (pips -> price units, lots -> lot steps)."""
    if config.lot_step <= 0 or config.min_lot <= 0 or config.max_lots < config.min_lot:
        raise InvalidInput("lot_step and min_lot must be positive and max_lots >= min_lot.")
    if config.initial_balance <= 0:
        raise InvalidInput("initial_balance must be positive.")
    risk = config.risk_percent
    if risk is not None and not 0 < risk <= 100:
        raise InvalidInput("risk_percent must be in (0, 100], e.g. 1.0 for 1 %.")
    fixed = _steps(config.lots, config.lot_step)
    if risk is None and fixed < max(1, _steps(config.min_lot, config.lot_step)):
        raise InvalidInput(f"lots={config.lots} is below min_lot={config.min_lot}.")
    swap_points = config.swap_unit == "points"
    point_value = 10.0 ** (-ins.precision) * ins.contract_size  # quote currency per point per lot
    max_bars = config.max_bars_in_trade or 0
    if max_bars < 0:
        raise InvalidInput("max_bars_in_trade must be positive.")
    if not 0 <= config.triple_swap_weekday <= 4:
        raise InvalidInput("triple_swap_weekday must be 0 (Monday) to 4 (Friday).")
    # explicit types: one compiled kernel for every config (an int here would compile another)
    return nb.Params(
        pip_size=float(ins.pip_size),
        contract_size=float(ins.contract_size),
        lot_step=float(config.lot_step),
        min_steps=max(1, int(np.ceil(config.min_lot / config.lot_step - _EPS))),
        max_steps=_steps(config.max_lots, config.lot_step),
        fixed_steps=fixed,
        risk_fraction=0.0 if risk is None else float(risk) / 100.0,
        commission_per_lot=float(config.commission_per_lot),
        slippage=float(config.slippage_pips) * ins.pip_size,
        swap_long=float(config.swap_long) * (point_value if swap_points else 1.0),
        swap_short=float(config.swap_short) * (point_value if swap_points else 1.0),
        swap_in_quote=bool(swap_points),
        max_bars=int(max_bars),
        breakeven_offset=float(config.breakeven_offset_pips) * ins.pip_size,
        breakeven_after_first_target=bool(config.breakeven_after_first_target),
        require_stop=bool(require_stop),
        initial_balance=float(config.initial_balance),
        close_at_end=bool(config.close_at_end),
    )


def prepare(
    bars: pd.DataFrame,
    signals: Signals,
    config: BacktestConfig,
    conversion: pd.Series | float | None = None,
    fine_bars: pd.DataFrame | None = None,
) -> Prepared:
    """Validate and convert everything :func:`noxfx.backtest.engine.simulate` needs."""
    ins = config.instrument
    arrays = _bar_arrays(bars)
    index = arrays.index
    spread = _spread(bars, config, ins)
    if conversion is None and "conversion" in bars.columns:
        conversion = bars["conversion"]  # quote -> account per bar, known at its open
    market = nb.Market(
        arrays.open,
        arrays.high,
        arrays.low,
        arrays.close,
        spread,
        _conversion(arrays, config, ins, conversion),
        rollover_days(index, config.triple_swap_weekday),
    )
    stop = _optional_distance(config.stop_loss, arrays, ins)
    override = _float_array(signals.stop_distance, index, "stop_distance")
    stop = np.ascontiguousarray(np.where(np.isfinite(override), override, stop))
    require_stop = config.stop_loss is not None
    targets, fraction = _targets(arrays, config, ins, signals)
    orders = nb.Orders(
        _bool_array(signals.long_entry, index, "long_entry"),
        _bool_array(signals.short_entry, index, "short_entry"),
        _bool_array(signals.long_exit, index, "long_exit"),
        _bool_array(signals.short_exit, index, "short_exit"),
        stop,
        targets,
        fraction,
        _optional_distance(config.trailing_stop, arrays, ins),
        _optional_distance(config.breakeven_trigger, arrays, ins),
    )
    entries = int(np.count_nonzero(orders.long_entry | orders.short_entry))
    return Prepared(
        bars=arrays,
        market=market,
        orders=orders,
        fine=_fine(fine_bars, arrays, spread),
        params=params_for(config, ins, require_stop),
        capacity=entries * targets.shape[1] + 1,
    )


__all__ = ["Prepared", "params_for", "prepare"]
