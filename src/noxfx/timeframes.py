"""Timeframes and resampling with forex conventions.

Conventions:

* Bars are labelled by their **open time in UTC** and cover ``[open, open + timeframe)``.
* The FX trading day closes at **17:00 America/New_York** (so in UTC it closes at 22:00 in
  northern winter and 21:00 in US summer time). Daily bars run 17:00-17:00 New York; 4h bars are
  cut from that same day (17:00, 21:00, 01:00, 05:00, 09:00, 13:00 New York); weekly bars open
  Sunday 17:00 New York and close Friday 17:00 New York. Intraday frames up to 1h are aligned to
  the UTC clock, which coincides with the New York day boundary because New York's offsets are
  whole hours.
* The trick used throughout: New York wall-clock time shifted by +7 hours puts the FX day
  boundary at midnight, so "trading day" becomes "calendar day" and the week opens Monday 00:00
  (= Sunday 17:00 New York) and closes Saturday 00:00 (= Friday 17:00 New York).
* No bar is built from the future: a resampled bar aggregates only source bars inside its own
  interval; the last bucket may be *partial* (still forming) and ``complete_only=True`` drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from noxfx.errors import InvalidInput, UnknownTimeframe

if TYPE_CHECKING:
    import pandas as pd

NEW_YORK = "America/New_York"
#: Hours added to New York wall time so that the 17:00 roll-over lands on midnight.
DAY_SHIFT_HOURS = 7
DAY_SECONDS = 86_400
#: A trading week (Sunday 17:00 to Friday 17:00 New York) lasts five 24h days.
WEEK_TRADING_SECONDS = 5 * DAY_SECONDS


@dataclass(frozen=True, slots=True, order=True)
class Timeframe:
    """A bar length. Ordered by duration, so ``min(timeframes)`` is the finest."""

    seconds: int
    name: str

    @property
    def minutes(self) -> int:
        return self.seconds // 60

    @property
    def is_intraday(self) -> bool:
        return self.seconds < DAY_SECONDS

    def __str__(self) -> str:
        return self.name


_ALL = [
    Timeframe(60, "1m"),
    Timeframe(300, "5m"),
    Timeframe(900, "15m"),
    Timeframe(1800, "30m"),
    Timeframe(3600, "1h"),
    Timeframe(14_400, "4h"),
    Timeframe(DAY_SECONDS, "1d"),
    Timeframe(7 * DAY_SECONDS, "1w"),
]
#: name -> Timeframe, finest first.
TIMEFRAMES: dict[str, Timeframe] = {tf.name: tf for tf in _ALL}

# Spellings used by MetaTrader (M1, H4, D1, minutes as numbers), pandas and vendors.
_ALIASES: dict[str, str] = {
    "m1": "1m", "1min": "1m", "1": "1m", "min": "1m", "1t": "1m",
    "m5": "5m", "5min": "5m", "5": "5m",
    "m15": "15m", "15min": "15m", "15": "15m",
    "m30": "30m", "30min": "30m", "30": "30m",
    "h1": "1h", "60": "1h", "60m": "1h", "60min": "1h", "1hour": "1h", "hour": "1h",
    "h4": "4h", "240": "4h", "240m": "4h",
    "d1": "1d", "d": "1d", "1440": "1d", "day": "1d", "daily": "1d", "1day": "1d",
    "w1": "1w", "w": "1w", "10080": "1w", "week": "1w", "weekly": "1w", "1wk": "1w",
}  # fmt: skip


def parse_timeframe(value: str | Timeframe) -> Timeframe:
    """Parse ``1h``, ``H1``, ``60``, ``1d``, ``D1``, ``1440``, ... into a :class:`Timeframe`."""
    if isinstance(value, Timeframe):
        return value
    key = str(value).strip().lower()
    key = _ALIASES.get(key, key)
    try:
        return TIMEFRAMES[key]
    except KeyError:
        raise UnknownTimeframe(
            f"Unknown timeframe {value!r}. Valid: {' '.join(TIMEFRAMES)}."
        ) from None


def _shifted_wall(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """New York wall time + 7h, tz-naive: the FX day boundary becomes midnight."""
    import pandas as pd

    wall = index.tz_convert(NEW_YORK).tz_localize(None)
    return wall + pd.Timedelta(hours=DAY_SHIFT_HOURS)


def trading_day(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The FX trading day (tz-naive date at midnight) each UTC timestamp belongs to.

    The day that opens Sunday 17:00 New York is Monday's.
    """
    return _shifted_wall(index).normalize()


def bucket_open(index: pd.DatetimeIndex, timeframe: Timeframe | str) -> pd.DatetimeIndex:
    """UTC open time of the ``timeframe`` bar that contains each UTC timestamp in ``index``."""
    tf = parse_timeframe(timeframe)
    shifted = _shifted_wall(index)
    if tf.name == "1w":
        import pandas as pd

        start = shifted.normalize() - pd.to_timedelta(shifted.day_of_week, unit="D")
    else:
        start = shifted.floor(f"{tf.seconds}s")
    return index - (shifted - start)


def trading_seconds(index: pd.DatetimeIndex) -> np.ndarray:
    """Cumulative seconds of open market (Sunday 17:00 to Friday 17:00 New York) since 1970.

    The difference between two values is the trading time between them, which is how gaps are
    told apart from the weekend closure.
    """
    shifted = _shifted_wall(index)
    secs = shifted.as_unit("s").asi8  # naive -> seconds since epoch (a Thursday)
    # 1970-01-05 was a Monday: count weeks from there
    rel = secs - 4 * DAY_SECONDS
    weeks, into = np.divmod(rel, 7 * DAY_SECONDS)
    return weeks * WEEK_TRADING_SECONDS + np.minimum(into, WEEK_TRADING_SECONDS)


def in_weekend(index: pd.DatetimeIndex) -> np.ndarray:
    """True where a UTC timestamp falls in the weekend closure (Fri 17:00 to Sun 17:00 NY)."""
    return np.asarray(_shifted_wall(index).day_of_week >= 5)


def infer_timeframe(index: pd.DatetimeIndex) -> Timeframe | None:
    """The timeframe whose length is the most common spacing of ``index`` (None if unclear)."""
    if len(index) < 3:
        return None
    diffs = np.diff(index.as_unit("s").asi8)
    diffs = diffs[diffs > 0]
    if len(diffs) == 0:
        return None
    values, counts = np.unique(diffs, return_counts=True)
    step = int(values[np.argmax(counts)])
    for tf in _ALL:
        if tf.seconds == step:
            return tf
    return None


def resample(
    bars: pd.DataFrame,
    timeframe: Timeframe | str,
    *,
    source: Timeframe | str | None = None,
    complete_only: bool = False,
) -> pd.DataFrame:
    """Aggregate bars into a coarser ``timeframe`` with the conventions in the module docstring.

    ``bars`` is indexed by UTC bar open time, sorted, with ``open high low close`` (and optional
    ``volume``, ``spread``). Each source bar goes to the bucket holding its *last instant*, which
    equals the bucket of its open when the frames align, and is right for daily files cut at UTC
    midnight (their short Sunday bar joins the new week). open/close are the first/last source
    bar's, high/low the max/min, volume the sum and spread the mean. The last bucket may be
    partial; ``complete_only`` drops it unless the source reaches the bucket's close.
    """
    import pandas as pd

    tf = parse_timeframe(timeframe)
    index = pd.DatetimeIndex(bars.index)
    src = parse_timeframe(source) if source is not None else infer_timeframe(index)
    if src is not None and src > tf:
        raise InvalidInput(f"Cannot resample {src} bars into finer {tf} bars.")
    if len(bars) == 0:
        return bars.copy()
    src_seconds = src.seconds if src is not None else 0
    last_instant = index + (pd.Timedelta(seconds=src_seconds) - pd.Timedelta(1, "ns"))
    keys = bucket_open(last_instant if src_seconds else index, tf).as_unit("ns").asi8
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    if np.any(np.diff(keys[starts]) <= 0):
        raise InvalidInput("Bars must be sorted by time, without duplicates, to be resampled.")
    ends = np.r_[starts[1:], len(keys)] - 1
    out: dict[str, np.ndarray] = {
        "open": bars["open"].to_numpy()[starts],
        "high": np.maximum.reduceat(bars["high"].to_numpy(), starts),
        "low": np.minimum.reduceat(bars["low"].to_numpy(), starts),
        "close": bars["close"].to_numpy()[ends],
    }
    if "volume" in bars:
        out["volume"] = np.add.reduceat(bars["volume"].to_numpy(dtype="float64"), starts)
    if "spread" in bars:
        spread = bars["spread"].to_numpy(dtype="float64")
        out["spread"] = np.add.reduceat(spread, starts) / np.diff(np.r_[starts, len(keys)])
    index = pd.DatetimeIndex(keys[starts], tz="UTC", name=bars.index.name or "time")
    result = pd.DataFrame(out, index=index)
    if complete_only and not _last_bucket_complete(bars, result, tf, src_seconds):
        result = result.iloc[:-1]
    return result


def bucket_close(open_utc: pd.Timestamp, timeframe: Timeframe) -> pd.Timestamp:
    """When the bar opened at ``open_utc`` closes (weekly bars close Friday 17:00 New York)."""
    import pandas as pd

    if timeframe.name == "1w":
        return open_utc + pd.Timedelta(seconds=WEEK_TRADING_SECONDS)
    return open_utc + pd.Timedelta(seconds=timeframe.seconds)


def _last_bucket_complete(
    bars: pd.DataFrame, result: pd.DataFrame, tf: Timeframe, src_seconds: int
) -> bool:
    import pandas as pd

    source_end = bars.index[-1] + pd.Timedelta(seconds=src_seconds)
    return bool(source_end >= bucket_close(result.index[-1], tf))


__all__ = [
    "NEW_YORK",
    "TIMEFRAMES",
    "Timeframe",
    "bucket_close",
    "bucket_open",
    "in_weekend",
    "infer_timeframe",
    "parse_timeframe",
    "resample",
    "trading_day",
    "trading_seconds",
]
