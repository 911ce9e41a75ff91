"""ATR-scaled zigzag pivots: swing highs and lows confirmed by a reversal of N ATRs.

Conventions:

* Bars are indexed by their UTC **open** time; prices are quote-currency prices.
* ``threshold_atr`` is a multiple of the ATR (TA-Lib ``ATR``, Wilder smoothing, ``atr_period``
  bars). A swing high is confirmed at the first bar ``t`` where the lowest low since the high is
  at least ``threshold_atr * ATR[t]`` below it (and symmetrically for lows). The scan starts on
  the first bar with an ATR (bar ``atr_period``).
* Every pivot records the bar of its extreme (``bar``/``time``) and the bar at which it was
  confirmed (``confirmed_bar``/``confirmed_time``): the first bar at whose close it is known.
  Pivots confirmed at bar ``t`` use only bars ``<= t``, so running on ``bars[:t + 1]`` gives
  exactly the pivots with ``confirmed_bar <= t`` of a run on the whole history.
* Pivots alternate high/low. The leg still in progress (its extreme is not yet confirmed) is
  not a pivot.

The kernel is :func:`noxfx.analysis.zigzag_nb.zigzag_nb`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import talib

from noxfx.analysis._bar_input import AsOf, FloatArray, bars_as_of, price_arrays, utc_index
from noxfx.analysis.zigzag_nb import zigzag_nb
from noxfx.errors import InvalidInput

PivotKind = Literal["high", "low"]
HIGH: int = 1
LOW: int = -1

DEFAULT_THRESHOLD_ATR = 2.0
DEFAULT_ATR_PERIOD = 14


@dataclass(frozen=True, slots=True)
class Zigzag:
    """Confirmed zigzag pivots of a bar series, oldest first (struct of arrays).

    ``bar``/``confirmed_bar`` are int64 positions into the bars the zigzag was computed on,
    ``price`` the pivot's high or low, ``kind`` +1 (high) / -1 (low), ``atr`` the ATR at the
    confirming bar (price units), ``times`` the UTC open times of all those bars.
    """

    bar: npt.NDArray[np.int64]
    price: FloatArray
    kind: npt.NDArray[np.int8]
    confirmed_bar: npt.NDArray[np.int64]
    atr: FloatArray
    times: pd.DatetimeIndex
    threshold_atr: float
    atr_period: int

    def __len__(self) -> int:
        return int(self.bar.shape[0])

    @property
    def time(self) -> pd.DatetimeIndex:
        """UTC open time of each pivot's extreme bar."""
        return self.times[self.bar]

    @property
    def confirmed_time(self) -> pd.DatetimeIndex:
        """UTC open time of the bar at which each pivot was confirmed."""
        return self.times[self.confirmed_bar]

    def upto(self, bar: int) -> Zigzag:
        """The pivots already confirmed at bar position ``bar`` (what was known then)."""
        keep = int(np.searchsorted(self.confirmed_bar, bar, side="right"))
        return Zigzag(
            bar=self.bar[:keep],
            price=self.price[:keep],
            kind=self.kind[:keep],
            confirmed_bar=self.confirmed_bar[:keep],
            atr=self.atr[:keep],
            times=self.times,
            threshold_atr=self.threshold_atr,
            atr_period=self.atr_period,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per pivot: ``bar, time, price, kind ('high'|'low'), confirmed_bar,
        confirmed_time, atr``."""
        return pd.DataFrame(
            {
                "bar": self.bar,
                "time": self.time,
                "price": self.price,
                "kind": np.where(self.kind > 0, "high", "low"),
                "confirmed_bar": self.confirmed_bar,
                "confirmed_time": self.confirmed_time,
                "atr": self.atr,
            }
        )


def atr_series(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int = DEFAULT_ATR_PERIOD
) -> FloatArray:
    """TA-Lib ATR (Wilder), price units, NaN for the first ``period`` bars."""
    out: FloatArray = np.asarray(talib.ATR(high, low, close, timeperiod=period), dtype=np.float64)
    return out


def zigzag_arrays(
    high: FloatArray,
    low: FloatArray,
    atr: FloatArray,
    threshold_atr: float = DEFAULT_THRESHOLD_ATR,
) -> tuple[npt.NDArray[np.int64], FloatArray, npt.NDArray[np.int8], npt.NDArray[np.int64]]:
    """``(bar, price, kind, confirmed_bar)`` pivot arrays from raw arrays (see the kernel)."""
    if not np.isfinite(threshold_atr) or threshold_atr <= 0:
        raise InvalidInput(f"threshold_atr must be a positive ATR multiple, got {threshold_atr}")
    return zigzag_nb(
        np.ascontiguousarray(high, dtype=np.float64),
        np.ascontiguousarray(low, dtype=np.float64),
        np.ascontiguousarray(atr, dtype=np.float64),
        float(threshold_atr),
    )


def zigzag(
    bars: pd.DataFrame,
    *,
    threshold_atr: float = DEFAULT_THRESHOLD_ATR,
    atr_period: int = DEFAULT_ATR_PERIOD,
    as_of: AsOf = None,
) -> Zigzag:
    """Zigzag pivots of ``bars`` confirmed by a ``threshold_atr`` x ATR(``atr_period``) reversal.

    ``bars``: UTC open-time indexed frame with ``high, low, close``. ``threshold_atr``: e.g.
    ``2.0`` gives swings of about two average bar ranges (~150 pips on EURUSD daily, ~25 pips on
    H1). ``as_of``: only bars opening at or before it are used. Needs ``atr_period + 2`` bars.
    """
    if not isinstance(atr_period, int | np.integer) or atr_period < 1:
        raise InvalidInput(f"atr_period must be a positive number of bars, got {atr_period!r}")
    frame = bars_as_of(bars, as_of, min_bars=int(atr_period) + 2)
    high, low, close = price_arrays(frame)
    atr = atr_series(high, low, close, int(atr_period))
    bar, price, kind, confirmed = zigzag_arrays(high, low, atr, threshold_atr)
    return Zigzag(
        bar=bar,
        price=price,
        kind=kind,
        confirmed_bar=confirmed,
        atr=atr[confirmed],
        times=utc_index(frame),
        threshold_atr=float(threshold_atr),
        atr_period=int(atr_period),
    )


__all__ = [
    "DEFAULT_ATR_PERIOD",
    "DEFAULT_THRESHOLD_ATR",
    "HIGH",
    "LOW",
    "PivotKind",
    "Zigzag",
    "atr_series",
    "zigzag",
    "zigzag_arrays",
]
