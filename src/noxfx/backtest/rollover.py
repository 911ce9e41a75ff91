"""Swap days charged at the 17:00 New York rollover, per bar, without a per-bar Python loop.

A position carried over the daily rollover (17:00 America/New_York, Monday to Friday) is charged
(or credited) one day of swap; because spot settles T+2, the Wednesday rollover is charged three
days (it covers the weekend). Some brokers triple on Friday for metals and CFDs: that is the
``triple_weekday`` parameter.

Convention used by the engine: ``rollover_days(index)[i]`` is the number of swap days of the
rollovers falling in ``(open_time[i-1], open_time[i]]``; they are charged to a position carried
*into* bar ``i`` (open before bar ``i``'s open). On bars aligned to the New York hour the rollover
is exactly a bar open: a position still open when the 17:00 New York bar opens pays it; one
opened at that bar's open does not. Over a weekend gap the Friday rollover counts once.

The trick from :mod:`noxfx.timeframes`: New York wall time + 7 h puts 17:00 New York at
midnight, so rollovers are the midnights of that shifted clock (Tuesday to Saturday midnights are
the Monday to Friday rollovers). New York offsets change only on whole UTC hours, so they are
computed once per distinct hour (a few thousand tz conversions for a million 1-minute bars);
the per-bar work is in :mod:`noxfx.backtest.rollover_nb`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.backtest.rollover_nb import (
    DAY_NS,
    HOUR_NS,
    distinct_hours_nb,
    rollover_days_nb,
    shifted_ns_nb,
)
from noxfx.errors import InvalidInput
from noxfx.timeframes import DAY_SHIFT_HOURS, NEW_YORK


def shifted_wall_ns(index: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
    """New York wall time + 7 h as int64 nanoseconds (FX day boundary at midnight).

    Same values as ``noxfx.timeframes._shifted_wall(index)``, computed with one time-zone
    conversion per distinct UTC hour instead of one per timestamp.
    """
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InvalidInput("Bars need a tz-aware DatetimeIndex of UTC bar open times.")
    ns = np.ascontiguousarray(index.tz_convert("UTC").as_unit("ns").asi8)
    if len(ns) == 0:
        return ns.copy()
    order = None
    if not index.is_monotonic_increasing:
        order = np.argsort(ns, kind="stable")
        ns = ns[order]
    hours = distinct_hours_nb(ns)
    wall = pd.DatetimeIndex(hours, tz="UTC").tz_convert(NEW_YORK).tz_localize(None)
    offsets = wall.as_unit("ns").asi8 - hours + DAY_SHIFT_HOURS * HOUR_NS
    shifted = shifted_ns_nb(ns, hours, offsets)
    if order is not None:
        out = np.empty_like(shifted)
        out[order] = shifted
        return out
    return shifted


def fx_day_number(index: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
    """The FX trading day of each UTC timestamp as days since 1970-01-01 (17:00 New York cut)."""
    return shifted_wall_ns(index) // DAY_NS


def rollover_days(index: pd.DatetimeIndex, triple_weekday: int = 2) -> npt.NDArray[np.float64]:
    """Swap days charged to a position carried into each bar (0, 1, 3, ...; see module doc).

    ``triple_weekday`` is the New York weekday (Monday = 0) whose rollover counts three days:
    2 (Wednesday) for currency pairs at almost every broker.
    """
    if not 0 <= triple_weekday <= 4:
        raise InvalidInput("triple_weekday must be a weekday, 0 (Monday) to 4 (Friday).")
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InvalidInput("Bars need a tz-aware DatetimeIndex of UTC bar open times.")
    if not index.is_monotonic_increasing:
        raise InvalidInput("Bars must be sorted by time to compute rollovers.")
    # the shifted midnight starting weekday w (Monday = 0) is the rollover of New York's w - 1
    weight = np.zeros(7, dtype=np.int64)
    weight[1:6] = 1  # Tuesday..Saturday midnights = Monday..Friday 17:00 New York
    weight[triple_weekday + 1] = 3
    return rollover_days_nb(shifted_wall_ns(index), weight)


__all__ = ["fx_day_number", "rollover_days", "shifted_wall_ns"]
