"""numba kernels behind :mod:`noxfx.backtest.rollover` (swap days per bar).

Array contract: ``utc_ns`` is int64 nanoseconds since the epoch (UTC bar open times, sorted
ascending); ``hour_starts``/``hour_offsets`` (int64, same length) give, for each distinct UTC hour
of ``utc_ns`` in ascending order, the hour's start and the New York UTC offset + 7 h valid in it
(New York offsets only change on whole UTC hours). Outputs have one element per bar.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

HOUR_NS = 3_600_000_000_000
DAY_NS = 24 * HOUR_NS
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


@njit(cache=True)
def distinct_hours_nb(utc_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Start of each distinct UTC hour of sorted ``utc_ns``, ascending."""
    n = utc_ns.shape[0]
    out = np.empty(n, dtype=np.int64)
    k = 0
    end = np.int64(-(2**62))  # end of the current hour; divide only when crossing it
    for i in range(n):
        if utc_ns[i] >= end:
            h = (utc_ns[i] // HOUR_NS) * HOUR_NS
            out[k] = h
            k += 1
            end = h + HOUR_NS
    return out[:k]


@njit(cache=True)
def shifted_ns_nb(
    utc_ns: npt.NDArray[np.int64],
    hour_starts: npt.NDArray[np.int64],
    hour_offsets: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """New York wall time + 7 h in nanoseconds for each sorted UTC time."""
    n = utc_ns.shape[0]
    out = np.empty(n, dtype=np.int64)
    k = 0
    m = hour_starts.shape[0]
    for i in range(n):
        while k + 1 < m and hour_starts[k + 1] <= utc_ns[i]:
            k += 1
        out[i] = utc_ns[i] + hour_offsets[k]
    return out


@njit(cache=True)
def rollover_days_nb(
    shifted_ns: npt.NDArray[np.int64], weight: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Swap days of the shifted midnights in ``(t[i-1], t[i]]``; ``weight[w]`` is the swap days
    of the midnight starting shifted weekday ``w`` (Monday = 0). Negative if unsorted."""
    n = shifted_ns.shape[0]
    out = np.zeros(n)
    week = weight.sum()
    prefix = np.cumsum(weight)
    prev = 0
    cum = 0
    start = np.int64(2**62)  # current day's [start, end); divide only when leaving it
    end = np.int64(-(2**62))
    for i in range(n):
        t = shifted_ns[i]
        if t >= end or t < start:
            day = t // DAY_NS
            start = day * DAY_NS
            end = start + DAY_NS
            day += EPOCH_WEEKDAY
            cum = (day // 7) * week + prefix[day % 7]
        if i > 0:
            out[i] = cum - prev
        prev = cum
    return out


__all__ = ["distinct_hours_nb", "rollover_days_nb", "shifted_ns_nb"]
