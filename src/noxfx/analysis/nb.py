"""numba kernels for the indicators TA-Lib does not provide.

Array contract (every kernel):

* inputs are 1-D float64 NumPy arrays of equal length ``n``, one element per bar, oldest first
  (``session`` arrays are int64 ids that are non-decreasing over the bars);
* outputs are new float64 arrays of length ``n``; undefined values (warm-up) are NaN;
* the value at index ``t`` depends only on inputs at indices ``<= t`` (no lookahead), so running a
  kernel on a prefix of the bars gives a prefix of the output.

Only the recursive parts live here (band ratchets, running session state); everything that is a
window statistic is done with TA-Lib / NumPy in :mod:`noxfx.analysis.native` and
:mod:`noxfx.analysis.levels`. Kernels are compiled once and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit


@njit(cache=True)
def supertrend_nb(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    atr: npt.NDArray[np.float64],
    multiplier: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Supertrend line and direction from an ATR series (TradingView / Pine semantics).

    Basic bands are ``hl2 ∓ multiplier * atr``. The lower (support) band only rises while the
    previous close stayed above it and the upper (resistance) band only falls while the previous
    close stayed below it. Direction starts at +1 on the first bar with an ATR and flips to -1
    when close crosses under the previous lower band, back to +1 when it crosses over the
    previous upper band. The line is the lower band in an uptrend, the upper band in a downtrend.

    Returns ``(line, direction)`` with direction +1.0 (up) / -1.0 (down), NaN while ATR is NaN.
    """
    n = close.shape[0]
    line = np.full(n, np.nan)
    direction = np.full(n, np.nan)
    up_prev = np.nan
    dn_prev = np.nan
    trend = 1.0
    started = False
    for i in range(n):
        a = atr[i]
        if np.isnan(a):
            continue
        mid = (high[i] + low[i]) / 2.0
        up = mid - multiplier * a
        dn = mid + multiplier * a
        if not started:
            up_prev = up
            dn_prev = dn
            started = True
        else:
            if close[i - 1] > up_prev:
                up = max(up, up_prev)
            if close[i - 1] < dn_prev:
                dn = min(dn, dn_prev)
        if trend == -1.0 and close[i] > dn_prev:
            trend = 1.0
        elif trend == 1.0 and close[i] < up_prev:
            trend = -1.0
        line[i] = up if trend == 1.0 else dn
        direction[i] = trend
        up_prev = up
        dn_prev = dn
    return line, direction


@njit(cache=True)
def heikin_ashi_nb(
    open_: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]:
    """Heikin-Ashi candles ``(ha_open, ha_high, ha_low, ha_close)``.

    ``ha_close = (o+h+l+c)/4``; ``ha_open[0] = (o[0]+c[0])/2`` and afterwards the midpoint of the
    previous Heikin-Ashi body; ``ha_high``/``ha_low`` extend the real high/low to cover the body.
    """
    n = close.shape[0]
    ha_open = np.full(n, np.nan)
    ha_high = np.full(n, np.nan)
    ha_low = np.full(n, np.nan)
    ha_close = (open_ + high + low + close) / 4.0
    for i in range(n):
        if i == 0:
            ha_open[i] = (open_[0] + close[0]) / 2.0
        else:
            ha_open[i] = (ha_open[i - 1] + ha_close[i - 1]) / 2.0
        ha_high[i] = max(high[i], ha_open[i], ha_close[i])
        ha_low[i] = min(low[i], ha_open[i], ha_close[i])
    return ha_open, ha_high, ha_low, ha_close


@njit(cache=True)
def session_vwap_nb(
    price: npt.NDArray[np.float64], volume: npt.NDArray[np.float64], session: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Volume-weighted average of ``price`` since the first bar of each session.

    The running sums restart whenever ``session`` changes. NaN while the session's cumulative
    volume is zero (e.g. sources without volume).
    """
    n = price.shape[0]
    out = np.full(n, np.nan)
    pv = 0.0
    vol = 0.0
    for i in range(n):
        if i == 0 or session[i] != session[i - 1]:
            pv = 0.0
            vol = 0.0
        pv += price[i] * volume[i]
        vol += volume[i]
        if vol > 0.0:
            out[i] = pv / vol
    return out


@njit(cache=True)
def previous_session_nb(
    open_: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    session: npt.NDArray[np.int64],
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]:
    """Per bar: the previous completed session's high, low, close, and this session's open.

    Returns ``(prev_high, prev_low, prev_close, session_open)``. The previous-session values are
    NaN during the first two sessions of the input: the first has no predecessor and the first
    session in the data may have started before the data did (a partial day would give wrong
    levels for the second).
    """
    n = close.shape[0]
    prev_high = np.full(n, np.nan)
    prev_low = np.full(n, np.nan)
    prev_close = np.full(n, np.nan)
    session_open = np.full(n, np.nan)
    cur_high = np.nan
    cur_low = np.nan
    cur_close = np.nan
    cur_open = np.nan
    done_high = np.nan
    done_low = np.nan
    done_close = np.nan
    completed = 0
    for i in range(n):
        if i == 0 or session[i] != session[i - 1]:
            if i > 0:
                done_high = cur_high
                done_low = cur_low
                done_close = cur_close
                completed += 1
            cur_open = open_[i]
            cur_high = high[i]
            cur_low = low[i]
        else:
            cur_high = max(cur_high, high[i])
            cur_low = min(cur_low, low[i])
        cur_close = close[i]
        session_open[i] = cur_open
        if completed >= 2:
            prev_high[i] = done_high
            prev_low[i] = done_low
            prev_close[i] = done_close
    return prev_high, prev_low, prev_close, session_open


__all__ = ["heikin_ashi_nb", "previous_session_nb", "session_vwap_nb", "supertrend_nb"]
