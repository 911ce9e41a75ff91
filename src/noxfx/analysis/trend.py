"""Trend state: direction and strength from ADX and a linear-regression slope in ATR units.

Conventions:

* Bars are indexed by their UTC **open** time; prices are quote-currency prices. Every value
  at bar ``t`` uses bars ``<= t`` only (TA-Lib indicators are causal), so ``as_of`` simply cuts
  the bars.
* ``adx``, ``plus_di``, ``minus_di``: TA-Lib (Wilder, ``adx_period`` bars), 0-100.
* ``slope_atr_per_bar``: slope of the least-squares line of the last ``regression_bars``
  closes (TA-Lib ``LINEARREG_SLOPE``), in ATRs per bar; ``move_atr`` is that line's rise over
  the window (``slope * (regression_bars - 1) / ATR``); ``r_squared`` its fit (0-1).
* ``strength`` in [0, 1] = ``0.5 * adx_score + 0.5 * slope_score`` with
  ``adx_score = clip((ADX - 15) / 25)`` (ADX 15 -> 0, 40 -> 1) when the dominant DI agrees
  with the regression slope's sign (0 when it does not: ADX then measures the other way) and
  ``slope_score = clip(|move_atr| * r_squared / 6)`` (a clean 6-ATR move over the window -> 1).
* ``direction`` is ``up``/``down`` by the sign of the slope when ``|move_atr| >=
  min_move_atr`` and ``strength >= min_strength``, else ``sideways``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import talib

from noxfx.analysis._bar_input import AsOf, FloatArray, bars_as_of, price_arrays, utc_index
from noxfx.analysis.zigzag import atr_series
from noxfx.errors import InsufficientData, InvalidInput

TrendDirection = Literal["up", "down", "sideways"]

DEFAULT_REGRESSION_BARS = 50
MIN_MOVE_ATR = 2.0
MIN_STRENGTH = 0.3


@dataclass(frozen=True, slots=True)
class TrendState:
    """The trend at the bar opening at ``time`` (UTC). See the module docstring for units.

    ``sma_50``/``sma_200``: simple moving averages of the close (price; NaN with too few
    bars); ``above_sma_*``: close above them (None when the average is undefined).
    """

    time: pd.Timestamp
    direction: TrendDirection
    strength: float
    adx: float
    plus_di: float
    minus_di: float
    slope_atr_per_bar: float
    move_atr: float
    r_squared: float
    regression_bars: int
    close: float
    atr: float
    sma_50: float
    sma_200: float
    above_sma_50: bool | None
    above_sma_200: bool | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (time as ISO-8601 UTC string, NaN as None)."""
        out = asdict(self)
        out["time"] = self.time.isoformat()
        return {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in out.items()}


def _check(adx_period: int, regression_bars: int, atr_period: int) -> None:
    for name, value, low in (
        ("adx_period", adx_period, 2),
        ("regression_bars", regression_bars, 3),
        ("atr_period", atr_period, 1),
    ):
        if not isinstance(value, int | np.integer) or value < low:
            raise InvalidInput(f"{name} must be an integer >= {low}, got {value!r}")


def _trend_arrays(
    frame: pd.DataFrame, adx_period: int, regression_bars: int, atr_period: int
) -> dict[str, FloatArray]:
    """Every numeric column of :func:`trend_frame` as arrays (one value per bar)."""
    high, low, close = price_arrays(frame)
    atr = atr_series(high, low, close, atr_period)
    adx = talib.ADX(high, low, close, timeperiod=adx_period)
    slope = talib.LINEARREG_SLOPE(close, timeperiod=regression_bars)
    steps = np.arange(len(close), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = talib.CORREL(steps, close, timeperiod=regression_bars)
        slope_atr = slope / atr
    move = slope_atr * (regression_bars - 1)
    r2 = np.clip(np.nan_to_num(r * r, nan=0.0), 0.0, 1.0)
    r2[np.isnan(slope)] = np.nan
    plus_di = talib.PLUS_DI(high, low, close, timeperiod=adx_period)
    minus_di = talib.MINUS_DI(high, low, close, timeperiod=adx_period)
    nan = np.full(len(close), np.nan)
    return {
        "adx": adx,
        "plus_di": plus_di,
        "minus_di": minus_di,
        "atr": atr,
        "slope_atr_per_bar": slope_atr,
        "move_atr": move,
        "r_squared": r2,
        "sma_50": talib.SMA(close, timeperiod=50) if len(close) >= 50 else nan,
        "sma_200": talib.SMA(close, timeperiod=200) if len(close) >= 200 else nan,
        "strength": _strength(adx, np.sign(plus_di - minus_di) == np.sign(move), move, r2),
    }


def _strength(
    adx: FloatArray, agree: npt.NDArray[np.bool_], move: FloatArray, r2: FloatArray
) -> FloatArray:
    adx_score = np.where(agree, np.clip((adx - 15.0) / 25.0, 0.0, 1.0), 0.0)
    adx_score[np.isnan(adx)] = np.nan
    slope_score = np.clip(np.abs(move) * r2 / 6.0, 0.0, 1.0)
    out: FloatArray = 0.5 * adx_score + 0.5 * slope_score
    return out


def _direction(
    move: FloatArray, strength: FloatArray, min_move_atr: float, min_strength: float
) -> npt.NDArray[np.str_]:
    trending = (np.abs(move) >= min_move_atr) & (strength >= min_strength)
    out: npt.NDArray[np.str_] = np.where(
        trending & (move > 0), "up", np.where(trending, "down", "sideways")
    )
    return out


def trend_frame(
    bars: pd.DataFrame,
    *,
    adx_period: int = 14,
    regression_bars: int = DEFAULT_REGRESSION_BARS,
    atr_period: int = 14,
    min_move_atr: float = MIN_MOVE_ATR,
    min_strength: float = MIN_STRENGTH,
    as_of: AsOf = None,
) -> pd.DataFrame:
    """The trend at every bar (vectorised): one row per bar, indexed like ``bars``.

    Columns ``adx, plus_di, minus_di, atr, slope_atr_per_bar, move_atr, r_squared, sma_50,
    sma_200, strength, direction`` (NaN / ``sideways`` during warm-up).
    """
    _check(adx_period, regression_bars, atr_period)
    frame = bars_as_of(bars, as_of)
    table = _trend_arrays(frame, adx_period, regression_bars, atr_period)
    direction = _direction(table["move_atr"], table["strength"], min_move_atr, min_strength)
    return pd.DataFrame({**table, "direction": direction}, index=frame.index)


def trend_state(
    bars: pd.DataFrame,
    *,
    adx_period: int = 14,
    regression_bars: int = DEFAULT_REGRESSION_BARS,
    atr_period: int = 14,
    min_move_atr: float = MIN_MOVE_ATR,
    min_strength: float = MIN_STRENGTH,
    as_of: AsOf = None,
) -> TrendState:
    """The trend at the last bar opening at or before ``as_of`` (default: the last bar).

    Same values as the last row of :func:`trend_frame`. Needs enough bars for ADX
    (``2 * adx_period``), the regression and the ATR; raises
    :class:`~noxfx.errors.InsufficientData` otherwise.
    """
    _check(adx_period, regression_bars, atr_period)
    frame = bars_as_of(bars, as_of)
    need = max(2 * adx_period, regression_bars, atr_period + 1)
    if len(frame) < need:
        raise InsufficientData(f"trend_state needs at least {need} bars, got {len(frame)}")
    # Wilder smoothing (ADX, ATR) depends on the whole history: compute on all bars.
    last = {k: float(v[-1]) for k, v in
            _trend_arrays(frame, adx_period, regression_bars, atr_period).items()}  # fmt: skip
    move, strength = last["move_atr"], last["strength"]
    direction = str(
        _direction(np.array([move]), np.array([strength]), min_move_atr, min_strength)[0]
    )
    close = float(frame["close"].iloc[-1])
    sma_50, sma_200 = last["sma_50"], last["sma_200"]
    return TrendState(
        time=utc_index(frame)[-1],
        direction=direction,  # type: ignore[arg-type]
        strength=round(strength, 4),
        adx=last["adx"],
        plus_di=last["plus_di"],
        minus_di=last["minus_di"],
        slope_atr_per_bar=last["slope_atr_per_bar"],
        move_atr=move,
        r_squared=last["r_squared"],
        regression_bars=int(regression_bars),
        close=close,
        atr=last["atr"],
        sma_50=sma_50,
        sma_200=sma_200,
        above_sma_50=None if np.isnan(sma_50) else bool(close > sma_50),
        above_sma_200=None if np.isnan(sma_200) else bool(close > sma_200),
    )


__all__ = [
    "DEFAULT_REGRESSION_BARS",
    "TrendDirection",
    "TrendState",
    "trend_frame",
    "trend_state",
]
