"""numba kernels for ATR-scaled zigzag pivots and the bar scans built on them.

Array contract (every kernel):

* bar inputs (``high``, ``low``, ``close``, ``atr``) are 1-D float64 arrays of equal length ``n``,
  one element per bar, oldest first; ``atr`` is NaN during its warm-up;
* bar positions are int64 indices into those arrays;
* nothing at position ``t`` is decided from bars after ``t`` (no lookahead).

The readable APIs are :mod:`noxfx.analysis.zigzag` and :mod:`noxfx.analysis.chart_patterns`;
each kernel has a slow pure-Python reference in the tests. Compiled once, cached on disk.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

#: Pattern status codes returned by :func:`pattern_status_nb`.
STATUS_FORMING = 0
STATUS_CONFIRMED = 1
STATUS_INVALIDATED = 2
STATUS_EXPIRED = 3


@njit(cache=True)
def _counter_extreme(
    high: npt.NDArray[np.float64], low: npt.NDArray[np.float64], leg: int, first: int, last: int
) -> tuple[int, float]:
    """Best reversal price of a leg over bars ``first..last``: the lowest low of an up-leg
    (``leg=+1``), the highest high of a down-leg. ``(-1, leg * inf)`` if the range is empty."""
    pos = -1
    value = leg * np.inf
    for j in range(first, last + 1):
        price = low[j] if leg > 0 else high[j]
        if leg * (price - value) < 0:
            pos = j
            value = price
    return pos, value


@njit(cache=True)
def _first_swing(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    atr: npt.NDArray[np.float64],
    threshold: float,
) -> tuple[int, int, float, int, float]:
    """Scan from the first finite ATR until the range covers ``threshold * atr[t]``.

    Returns ``(t, hi_i, hi_p, lo_i, lo_p)``: the bar where the first pivot is confirmed (``n``
    if never) and the highest high / lowest low seen up to it (on different bars).
    """
    n = high.shape[0]
    first = 0
    while first < n and not np.isfinite(atr[first]):
        first += 1
    if first >= n:
        return n, -1, np.nan, -1, np.nan
    hi_i, hi_p, lo_i, lo_p = first, high[first], first, low[first]
    for t in range(first + 1, n):
        if high[t] > hi_p:
            hi_i, hi_p = t, high[t]
        if low[t] < lo_p:
            lo_i, lo_p = t, low[t]
        if hi_i != lo_i and hi_p - lo_p >= threshold * atr[t]:
            return t, hi_i, hi_p, lo_i, lo_p
    return n, hi_i, hi_p, lo_i, lo_p


@njit(cache=True)
def zigzag_nb(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    atr: npt.NDArray[np.float64],
    threshold: float,
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.int64]
]:
    """Zigzag pivots confirmed by a reversal of ``threshold * atr[t]`` from the leg's extreme.

    The scan starts at the first bar with a finite ATR. Until the first pivot it tracks the
    highest high and lowest low; once they are ``threshold * atr[t]`` apart, the older of the two
    is the first pivot. In an up-leg the kernel tracks the leg's highest high (the candidate
    pivot) and the lowest low *after* it; at bar ``t`` the high is confirmed as a pivot when
    ``candidate - lowest_low_since >= threshold * atr[t]``, and the leg flips, the lowest low
    becoming the candidate of the down-leg (and symmetrically). A bar that makes a new extreme
    cannot also confirm the reversal, and its opposite price does not count for the next leg
    (the order of high and low inside a bar is unknown), so pivots alternate high/low on strictly
    increasing bars. The last, unconfirmed extreme is not reported.

    Returns ``(bar, price, kind, confirmed_bar)`` per pivot, oldest first: the bar position of
    the extreme, its price (the bar's high or low), kind ``+1`` high / ``-1`` low, and the bar
    position at which the pivot was confirmed (``bar < confirmed_bar``).
    """
    n = high.shape[0]
    out_bar = np.empty(n, dtype=np.int64)
    out_price = np.empty(n, dtype=np.float64)
    out_kind = np.empty(n, dtype=np.int8)
    out_conf = np.empty(n, dtype=np.int64)
    start, hi_i, hi_p, lo_i, lo_p = _first_swing(high, low, atr, threshold)
    if start >= n:
        return out_bar[:0], out_price[:0], out_kind[:0], out_conf[:0]
    # leg: +1 up-leg (the candidate extreme is a high), -1 down-leg
    if lo_i < hi_i:
        out_bar[0], out_price[0], out_kind[0] = lo_i, lo_p, -1
        leg, ext_i, ext_p = 1, hi_i, hi_p
    else:
        out_bar[0], out_price[0], out_kind[0] = hi_i, hi_p, 1
        leg, ext_i, ext_p = -1, lo_i, lo_p
    out_conf[0] = start
    count = 1
    opp_i, opp_p = _counter_extreme(high, low, leg, ext_i + 1, start)
    for t in range(start + 1, n):
        extreme = high[t] if leg > 0 else low[t]
        if leg * (extreme - ext_p) > 0:  # the leg extends: new candidate, reset the reversal
            ext_i, ext_p, opp_i, opp_p = t, extreme, -1, leg * np.inf
            continue
        reverse = low[t] if leg > 0 else high[t]
        if leg * (reverse - opp_p) < 0:
            opp_i, opp_p = t, reverse
        if leg * (ext_p - opp_p) >= threshold * atr[t]:
            out_bar[count], out_price[count], out_kind[count] = ext_i, ext_p, leg
            out_conf[count] = t
            count += 1
            leg, ext_i, ext_p = -leg, opp_i, opp_p
            opp_i, opp_p = _counter_extreme(high, low, leg, ext_i + 1, t)
    return out_bar[:count], out_price[:count], out_kind[:count], out_conf[:count]


@njit(cache=True)
def pattern_status_nb(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    first: npt.NDArray[np.int64],
    expiry: npt.NDArray[np.int64],
    sign: npt.NDArray[np.int64],
    breakout_level: npt.NDArray[np.float64],
    breakout_slope: npt.NDArray[np.float64],
    invalid_level: npt.NDArray[np.float64],
    invalid_slope: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Status of each pattern after its first visible bar, scanning bars up to the last one.

    Pattern ``i`` is watched from bar ``first[i]`` (inclusive). Its breakout line at bar ``t`` is
    ``breakout_level[i] + breakout_slope[i] * (t - first[i])`` (prices; slope in price per bar)
    and likewise its invalidation line. For a bullish pattern (``sign = +1``) a bar whose low is
    below the invalidation line invalidates it, otherwise a close above the breakout line
    confirms it; bearish patterns mirror this (high above / close below). Invalidation is tested
    first, so a bar doing both counts as a failure. With neither by bar ``expiry[i]`` the
    pattern expires at ``expiry[i] + 1``, or earlier at the first bar where the two lines have
    crossed (no longer a pattern); if the bars end before, it is still forming.

    Returns ``(code, bar)``: :data:`STATUS_FORMING` / ``CONFIRMED`` / ``INVALIDATED`` /
    ``EXPIRED`` and the bar position where that was decided (-1 while forming).
    """
    n = close.shape[0]
    m = first.shape[0]
    code = np.zeros(m, dtype=np.int64)
    at = np.full(m, -1, dtype=np.int64)
    for i in range(m):
        stop = min(expiry[i], n - 1)
        for t in range(first[i], stop + 1):
            dt = t - first[i]
            brk = breakout_level[i] + breakout_slope[i] * dt
            inv = invalid_level[i] + invalid_slope[i] * dt
            if sign[i] * (brk - inv) <= 0:  # the lines crossed (past a pennant's apex)
                code[i], at[i] = STATUS_EXPIRED, t
                break
            if sign[i] > 0:
                if low[t] < inv:
                    code[i], at[i] = STATUS_INVALIDATED, t
                    break
                if close[t] > brk:
                    code[i], at[i] = STATUS_CONFIRMED, t
                    break
            else:
                if high[t] > inv:
                    code[i], at[i] = STATUS_INVALIDATED, t
                    break
                if close[t] < brk:
                    code[i], at[i] = STATUS_CONFIRMED, t
                    break
        if code[i] == STATUS_FORMING and expiry[i] < n - 1:
            code[i], at[i] = STATUS_EXPIRED, expiry[i] + 1
    return code, at


@njit(cache=True)
def share_near_floor_nb(
    close: npt.NDArray[np.float64],
    first: npt.NDArray[np.int64],
    last: npt.NDArray[np.int64],
    floor: npt.NDArray[np.float64],
    ceiling: npt.NDArray[np.float64],
    fraction: float,
) -> npt.NDArray[np.float64]:
    """Share of closes in ``close[first[i]:last[i] + 1]`` at or below ``floor + fraction * depth``.

    ``depth = ceiling - floor``. A rounded (U-shaped) bottom spends much more of its time near
    its floor than a V: about 58% of a parabola lies in its lower third against 33% of a V.
    """
    m = first.shape[0]
    out = np.full(m, np.nan)
    for i in range(m):
        level = floor[i] + fraction * (ceiling[i] - floor[i])
        total = 0
        near = 0
        for t in range(first[i], last[i] + 1):
            total += 1
            if close[t] <= level:
                near += 1
        if total > 0:
            out[i] = near / total
    return out
