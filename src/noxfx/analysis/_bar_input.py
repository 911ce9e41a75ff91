"""Bar-frame checks and ``as_of`` truncation shared by the pivot-based analysis modules.

Used by :mod:`noxfx.analysis.zigzag`, :mod:`~noxfx.analysis.chart_patterns`,
:mod:`~noxfx.analysis.support_resistance` and :mod:`~noxfx.analysis.trend`. A bar frame is
indexed by a tz-aware UTC ``DatetimeIndex`` of bar **open** times, sorted and unique, with float
``open, high, low, close`` columns in quote-currency prices (``volume`` is not used here).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.errors import InsufficientData, InvalidInput

FloatArray = npt.NDArray[np.float64]
AsOf = pd.Timestamp | datetime | str | None

_PRICE_COLUMNS = ("open", "high", "low", "close")


def to_utc_timestamp(value: pd.Timestamp | datetime | str) -> pd.Timestamp:
    """A UTC ``Timestamp`` from a timestamp, datetime or ISO string (naive values mean UTC)."""
    message = f"as_of {value!r} is not a date/time; write e.g. 2020-06-30T12:00Z"
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(message) from exc
    if ts is pd.NaT:
        raise InvalidInput(message)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def bars_as_of(bars: pd.DataFrame, as_of: AsOf = None, *, min_bars: int = 1) -> pd.DataFrame:
    """``bars`` checked and cut to the bars whose **open** time is ``<= as_of``.

    Raises :class:`~noxfx.errors.InvalidInput` when the frame is not a bar frame (missing price
    columns, non-UTC/unsorted index, non-finite prices) and
    :class:`~noxfx.errors.InsufficientData` when fewer than ``min_bars`` bars remain.
    """
    if not isinstance(bars, pd.DataFrame):
        raise InvalidInput(f"bars must be a pandas DataFrame, got {type(bars).__name__}")
    missing = [c for c in _PRICE_COLUMNS if c not in bars.columns]
    if missing:
        raise InvalidInput(f"bars lack the price column(s) {', '.join(missing)}")
    index = bars.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InvalidInput("bars must be indexed by a tz-aware (UTC) DatetimeIndex of open times")
    if not index.is_monotonic_increasing or not index.is_unique:
        raise InvalidInput("bars must be sorted by open time without duplicate times")
    if as_of is not None:
        cut = to_utc_timestamp(as_of)
        bars = bars.iloc[: int(index.searchsorted(cut, side="right"))]
    if len(bars) < min_bars:
        when = "" if as_of is None else f" up to {as_of}"
        raise InsufficientData(f"need at least {min_bars} bars{when}, got {len(bars)}")
    prices = bars[list(_PRICE_COLUMNS)].to_numpy(dtype=np.float64)
    if not np.isfinite(prices).all():
        raise InvalidInput("bars contain NaN or infinite prices; clean or drop those rows first")
    return bars


def price_arrays(bars: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Contiguous float64 ``(high, low, close)`` arrays of a checked bar frame."""
    high = np.ascontiguousarray(bars["high"].to_numpy(dtype=np.float64))
    low = np.ascontiguousarray(bars["low"].to_numpy(dtype=np.float64))
    close = np.ascontiguousarray(bars["close"].to_numpy(dtype=np.float64))
    return high, low, close


def utc_index(bars: pd.DataFrame) -> pd.DatetimeIndex:
    """The bars' open times converted to UTC."""
    index = bars.index
    assert isinstance(index, pd.DatetimeIndex)
    return index.tz_convert("UTC")
