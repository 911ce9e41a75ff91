"""Session-based levels: the forex trading day, daily pivot points and session VWAP.

The forex day closes at 17:00 America/New_York (with its daylight-saving changes). Bars are
indexed by their UTC *open* time; a bar belongs to the trading day whose date is that of its New
York wall-clock open time shifted by +7 hours (so 17:00 New York Monday -> Tuesday 00:00 -> the
Tuesday session, and Sunday's 17:00 open belongs to Monday). Sessions are identified by that
date as days since 1970-01-01.

Pivot levels at bar ``t`` come from the **previous completed session** (its high, low and close;
Woodie also uses the current session's open, already known at ``t``), so they are constant within
a session and never look ahead. The first two sessions of the input get NaN: the first has no
predecessor and may itself be partial (data starting mid-day would give wrong levels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.analysis import nb
from noxfx.analysis._registry import BarArrays, FloatArray, Indicator, Outputs
from noxfx.errors import InvalidBars
from noxfx.timeframes import trading_day

PivotMethod = Literal["classic", "fibonacci", "camarilla", "woodie"]
PIVOT_METHODS: tuple[PivotMethod, ...] = ("classic", "fibonacci", "camarilla", "woodie")

_LEVELS_3 = ("pp", "r1", "r2", "r3", "s1", "s2", "s3")
_LEVELS_4 = ("pp", "r1", "r2", "r3", "r4", "s1", "s2", "s3", "s4")
PIVOT_OUTPUTS: dict[PivotMethod, tuple[str, ...]] = {
    "classic": _LEVELS_3,
    "fibonacci": _LEVELS_3,
    "camarilla": _LEVELS_4,
    "woodie": _LEVELS_3,
}


def forex_session_day(index: pd.Index) -> npt.NDArray[np.int64]:
    """The forex trading day of each bar (17:00 New York close), as days since 1970-01-01.

    Same convention as :func:`noxfx.timeframes.trading_day` (which it uses), as integers for the
    numba kernels. ``index`` holds bar open times, tz-aware (any zone) or naive UTC, sorted.
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise InvalidBars("session-based indicators need bars indexed by a DatetimeIndex")
    if not index.is_monotonic_increasing:
        raise InvalidBars("bars must be sorted by time for session-based indicators")
    utc = index.tz_localize("UTC") if index.tz is None else index
    day = trading_day(utc).to_numpy().astype("datetime64[D]")
    days: npt.NDArray[np.int64] = day.astype(np.int64)
    return days


def previous_session(
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    session: npt.NDArray[np.int64],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(prev_high, prev_low, prev_close, session_open)`` per bar; see the module docstring."""
    ph, pl, pc, so = nb.previous_session_nb(open_, high, low, close, session)
    return ph, pl, pc, so


def pivot_levels(
    prev_high: FloatArray,
    prev_low: FloatArray,
    prev_close: FloatArray,
    session_open: FloatArray,
    method: PivotMethod = "classic",
) -> dict[str, FloatArray]:
    """Pivot point ``pp`` with resistances ``r1..`` and supports ``s1..`` (price units).

    With ``H, L, C`` the previous session's high, low, close and ``R = H - L``:

    * classic: ``pp = (H+L+C)/3``, ``r1 = 2pp-L``, ``s1 = 2pp-H``, ``r2/s2 = pp ± R``,
      ``r3 = H + 2(pp-L)``, ``s3 = L - 2(H-pp)``;
    * fibonacci: ``pp = (H+L+C)/3``, ``r/s 1,2,3 = pp ± 0.382R, 0.618R, 1.0R``;
    * camarilla: ``pp = (H+L+C)/3``, ``r/s 1..4 = C ± 1.1R/12, /6, /4, /2``;
    * woodie (TradingView): ``pp = (H + L + 2*O)/4`` with ``O`` the current session's open, then
      the classic formulas for ``r1..r3``, ``s1..s3``.
    """
    h, lo, c = prev_high, prev_low, prev_close
    rng = h - lo
    if method == "camarilla":
        pp = (h + lo + c) / 3.0
        levels = {"pp": pp}
        for i, div in enumerate((12.0, 6.0, 4.0, 2.0), start=1):
            levels[f"r{i}"] = c + rng * 1.1 / div
        for i, div in enumerate((12.0, 6.0, 4.0, 2.0), start=1):
            levels[f"s{i}"] = c - rng * 1.1 / div
        return levels
    if method == "fibonacci":
        pp = (h + lo + c) / 3.0
        return {
            "pp": pp,
            "r1": pp + 0.382 * rng,
            "r2": pp + 0.618 * rng,
            "r3": pp + rng,
            "s1": pp - 0.382 * rng,
            "s2": pp - 0.618 * rng,
            "s3": pp - rng,
        }
    if method == "woodie":
        pp = (h + lo + 2.0 * session_open) / 4.0
    elif method == "classic":
        pp = (h + lo + c) / 3.0
    else:
        raise ValueError(f"unknown pivot method {method!r}; choose one of {PIVOT_METHODS}")
    return {
        "pp": pp,
        "r1": 2.0 * pp - lo,
        "r2": pp + rng,
        "r3": h + 2.0 * (pp - lo),
        "s1": 2.0 * pp - h,
        "s2": pp - rng,
        "s3": lo - 2.0 * (h - pp),
    }


def session_vwap(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    session: npt.NDArray[np.int64],
) -> FloatArray:
    """VWAP of the typical price ``(h+l+c)/3`` since the session's first bar (price units).

    Forex volume is tick volume; NaN while the session's volume is still zero.
    """
    typical = (high + low + close) / 3.0
    result: FloatArray = nb.session_vwap_nb(typical, volume, session)
    return result


# ---------------------------------------------------------------------------------------------
# catalogue entries


def _session(bars: BarArrays) -> npt.NDArray[np.int64]:
    session: npt.NDArray[np.int64] = bars.cached("session", lambda: forex_session_day(bars.index))
    return session


def _pivot_fn(method: PivotMethod) -> Callable[[BarArrays], Outputs]:
    def run(bars: BarArrays) -> Outputs:
        prev = bars.cached(
            "previous_session",
            lambda: previous_session(
                bars["open"], bars["high"], bars["low"], bars["close"], _session(bars)
            ),
        )
        prev_high, prev_low, prev_close, session_open = prev
        levels = pivot_levels(prev_high, prev_low, prev_close, session_open, method)
        return tuple(levels[name] for name in PIVOT_OUTPUTS[method])

    return run


def _vwap(bars: BarArrays) -> Outputs:
    return (session_vwap(bars["high"], bars["low"], bars["close"], bars["volume"], _session(bars)),)


def _no_warmup() -> int:
    """Levels warm up in sessions, not bars: the first two sessions are NaN."""
    return 0


_DESCRIPTIONS: dict[PivotMethod, str] = {
    "classic": "Classic (floor) pivot points from the previous forex day's H/L/C.",
    "fibonacci": "Fibonacci pivot points (0.382/0.618/1.0 of the previous day's range).",
    "camarilla": "Camarilla levels: previous close ± 1.1*range/12, /6, /4, /2.",
    "woodie": "Woodie pivot points: (prev H + prev L + 2*today's open)/4 and classic levels.",
}

INDICATORS: tuple[Indicator, ...] = (
    *(
        Indicator(
            name=f"pivot_{method}",
            category="levels",
            description=_DESCRIPTIONS[method],
            inputs=("open", "high", "low", "close"),
            params=(),
            outputs=PIVOT_OUTPUTS[method],
            fn=_pivot_fn(method),
            warmup=_no_warmup,
        )
        for method in PIVOT_METHODS
    ),
    Indicator(
        name="vwap",
        category="levels",
        description="Session VWAP of the typical price, reset at the 17:00 New York day close.",
        inputs=("high", "low", "close", "volume"),
        params=(),
        outputs=("",),
        fn=_vwap,
        warmup=_no_warmup,
    ),
)

__all__ = [
    "INDICATORS",
    "PIVOT_METHODS",
    "forex_session_day",
    "pivot_levels",
    "previous_session",
    "session_vwap",
]
