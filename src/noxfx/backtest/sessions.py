"""Time filters for strategies: trading sessions in local time and days of the week.

Sessions are the catalogue's (:data:`noxfx.instruments.SESSIONS`): London 08:00-17:00
Europe/London, New York 08:00-17:00 America/New_York, Tokyo 09:00-18:00 Asia/Tokyo, Sydney
07:00-16:00 Australia/Sydney. A time is in a session when its local wall-clock time is in
``[open, close)``; converting each UTC time to the session's zone handles daylight saving, so
London opens at 07:00 UTC in summer and 08:00 UTC in winter.

Strategies filter *entries by their fill time*: a signal on bar ``i`` fills at the open of bar
``i + 1``, so it is allowed when that open time (see :func:`fill_times`) passes the filters.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.errors import InvalidInput
from noxfx.instruments import SESSIONS

#: Day names accepted by filters (Monday = 0, as ``pandas.DatetimeIndex.day_of_week``).
DAY_NAMES: dict[str, int] = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def check_sessions(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Normalise and validate session names (``"London"`` -> ``"london"``)."""
    out = []
    for raw in names:
        name = str(raw).strip().lower().replace("-", "_").replace(" ", "_")
        if name == "newyork":
            name = "new_york"
        if name not in SESSIONS:
            known = ", ".join(SESSIONS)
            raise InvalidInput(f"Unknown session {raw!r}; known sessions: {known}.")
        out.append(name)
    return tuple(out)


def check_days(days: list[str | int] | tuple[str | int, ...]) -> tuple[int, ...]:
    """Day names (``mon`` .. ``sun``, case-insensitive, full names too) or numbers 0-6 ->
    sorted weekday numbers (Monday = 0)."""
    out = set()
    for raw in days:
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 6:
            out.add(raw)
            continue
        key = str(raw).strip().lower()[:3]
        if key not in DAY_NAMES:
            raise InvalidInput(f"Unknown day {raw!r}; use mon, tue, wed, thu, fri, sat, sun.")
        out.add(DAY_NAMES[key])
    return tuple(sorted(out))


def session_mask(times: pd.DatetimeIndex, names: tuple[str, ...] | list[str]) -> npt.NDArray:
    """Bool per time: inside any of the named sessions (local wall-clock ``[open, close)``)."""
    if times.tz is None:
        raise InvalidInput("Session filters need tz-aware (UTC) times.")
    mask = np.zeros(len(times), dtype=np.bool_)
    for name in check_sessions(tuple(names)):
        session = SESSIONS[name]
        local = times.tz_convert(session.tz)
        minutes = np.asarray(local.hour * 60 + local.minute)
        start, end = _minutes(session.open_local), _minutes(session.close_local)
        if start < end:
            mask |= (minutes >= start) & (minutes < end)
        else:  # a session crossing local midnight
            mask |= (minutes >= start) | (minutes < end)
    return mask


def weekday_mask(
    times: pd.DatetimeIndex, days: tuple[int, ...] | list[int], tz: str = "UTC"
) -> npt.NDArray:
    """Bool per time: its weekday in ``tz`` (Monday = 0) is one of ``days``."""
    try:
        local = times.tz_convert(tz)
    except Exception as exc:  # zoneinfo raises several types for unknown zones
        raise InvalidInput(f"Unknown time zone {tz!r} for the day filter.") from exc
    return np.isin(np.asarray(local.day_of_week), np.asarray(days, dtype=np.int64))


def fill_times(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The time a signal on each bar is filled: the next bar's open time (for the last bar, its
    open plus the typical bar length; its signal is never acted on)."""
    if len(index) < 2:
        return index
    step = pd.Timedelta(int(np.median(np.diff(index.as_unit("ns").asi8))), unit="ns")
    return pd.DatetimeIndex(index[1:].append(pd.DatetimeIndex([index[-1] + step])))


__all__ = [
    "DAY_NAMES",
    "check_days",
    "check_sessions",
    "fill_times",
    "session_mask",
    "weekday_mask",
]
