"""noxfx.analysis.levels: forex day, pivots from the previous completed day, session VWAP."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from noxfx.analysis import indicators as ind
from noxfx.analysis import levels
from noxfx.errors import InvalidBars

NEW_YORK = "America/New_York"


def ref_forex_day(index: pd.DatetimeIndex) -> list[dt.date]:
    """One timestamp at a time: New York wall clock + 7 hours, then the calendar date."""
    return [(ts.tz_convert(NEW_YORK) + pd.Timedelta(hours=7)).date() for ts in index]


@pytest.mark.parametrize(
    ("utc", "day"),
    [
        ("2024-01-08 21:59", "2024-01-08"),  # 16:59 EST Monday: Monday's session
        ("2024-01-08 22:00", "2024-01-09"),  # 17:00 EST: Tuesday's session opens
        ("2024-07-08 20:59", "2024-07-08"),  # 16:59 EDT
        ("2024-07-08 21:00", "2024-07-09"),  # 17:00 EDT
        ("2024-01-07 22:00", "2024-01-08"),  # Sunday open belongs to Monday
        ("2024-03-10 21:00", "2024-03-11"),  # Sunday of the spring DST change: 17:00 EDT
        ("2024-11-01 20:59", "2024-11-01"),  # Friday close, EDT
    ],
)
def test_forex_session_day_boundaries(utc: str, day: str) -> None:
    index = pd.DatetimeIndex([pd.Timestamp(utc, tz="UTC")])
    days = levels.forex_session_day(index)
    assert pd.Timestamp(int(days[0]), unit="D").date() == dt.date.fromisoformat(day)


def test_forex_session_day_matches_reference_on_real_bars(h1_bars: pd.DataFrame) -> None:
    index = h1_bars.index[-20000:]
    days = levels.forex_session_day(index)
    expected = [(d - dt.date(1970, 1, 1)).days for d in ref_forex_day(index)]
    np.testing.assert_array_equal(days, expected)


def test_forex_session_day_rejects_unsorted_or_non_time_index(h1_recent: pd.DataFrame) -> None:
    with pytest.raises(InvalidBars, match="sorted"):
        levels.forex_session_day(h1_recent.index[::-1])
    with pytest.raises(InvalidBars, match="DatetimeIndex"):
        ind.compute(h1_recent.reset_index(drop=True), ["vwap"])


def _reference_pivots(bars: pd.DataFrame) -> pd.DataFrame:
    """groupby on the reference forex day; levels from the previous session's H/L/C."""
    day = pd.Series(ref_forex_day(bars.index), index=bars.index)
    daily = bars.groupby(day).agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"), close=("close", "last")
    )
    prev = daily.shift(1)
    prev.iloc[:2] = np.nan  # first session has no predecessor, and may itself be partial
    per_bar = prev.loc[day.to_numpy()].set_axis(bars.index)
    today_open = daily["open"].loc[day.to_numpy()].to_numpy()
    h, lo, c = per_bar["high"], per_bar["low"], per_bar["close"]
    r = h - lo
    pp = (h + lo + c) / 3
    out = {
        "pivot_classic_pp": pp,
        "pivot_classic_r1": 2 * pp - lo,
        "pivot_classic_r2": pp + r,
        "pivot_classic_r3": h + 2 * (pp - lo),
        "pivot_classic_s1": 2 * pp - h,
        "pivot_classic_s2": pp - r,
        "pivot_classic_s3": lo - 2 * (h - pp),
        "pivot_fibonacci_pp": pp,
        "pivot_fibonacci_r1": pp + 0.382 * r,
        "pivot_fibonacci_r2": pp + 0.618 * r,
        "pivot_fibonacci_r3": pp + r,
        "pivot_fibonacci_s1": pp - 0.382 * r,
        "pivot_fibonacci_s2": pp - 0.618 * r,
        "pivot_fibonacci_s3": pp - r,
        "pivot_camarilla_pp": pp,
    }
    for i, div in enumerate((12, 6, 4, 2), start=1):
        out[f"pivot_camarilla_r{i}"] = c + r * 1.1 / div
        out[f"pivot_camarilla_s{i}"] = c - r * 1.1 / div
    wpp = (h + lo + 2 * today_open) / 4
    out |= {
        "pivot_woodie_pp": wpp,
        "pivot_woodie_r1": 2 * wpp - lo,
        "pivot_woodie_r2": wpp + r,
        "pivot_woodie_r3": h + 2 * (wpp - lo),
        "pivot_woodie_s1": 2 * wpp - h,
        "pivot_woodie_s2": wpp - r,
        "pivot_woodie_s3": lo - 2 * (h - wpp),
    }
    return pd.DataFrame(out, index=bars.index)


PIVOT_SPECS = ["pivot_classic", "pivot_fibonacci", "pivot_camarilla", "pivot_woodie"]


def test_pivots_match_groupby_reference_on_h1(h1_recent: pd.DataFrame) -> None:
    result = ind.compute(h1_recent, PIVOT_SPECS)
    expected = _reference_pivots(h1_recent)
    pd.testing.assert_frame_equal(result[expected.columns], expected, check_exact=False, rtol=1e-12)
    # every level is constant within a session and comes from the session before
    day = levels.forex_session_day(h1_recent.index)
    per_session = result.groupby(day).nunique(dropna=False)
    assert (per_session <= 1).all().all()
    first_two = np.isin(day, np.unique(day)[:2])
    assert result[first_two].isna().all().all()
    assert result[~first_two].notna().all().all()


def test_pivots_on_daily_bars_use_the_previous_bar(d1_bars: pd.DataFrame) -> None:
    bars = d1_bars.iloc[-500:]
    # MetaTrader D1 bars open at 00:00 UTC, i.e. 19:00/20:00 New York: one session per bar
    assert len(np.unique(levels.forex_session_day(bars.index))) == len(bars)
    pp = ind.compute(bars, ["pivot_classic"])["pivot_classic_pp"].to_numpy()
    typical = ((bars["high"] + bars["low"] + bars["close"]) / 3).to_numpy()
    assert np.isnan(pp[:2]).all()
    np.testing.assert_allclose(pp[2:], typical[1:-1], rtol=1e-14)


def test_session_vwap_matches_groupby_cumsum(h1_recent: pd.DataFrame) -> None:
    day = pd.Series(ref_forex_day(h1_recent.index), index=h1_recent.index)
    typical = (h1_recent["high"] + h1_recent["low"] + h1_recent["close"]) / 3
    pv = (typical * h1_recent["volume"]).groupby(day).cumsum()
    vol = h1_recent["volume"].groupby(day).cumsum()
    np.testing.assert_allclose(ind.compute(h1_recent, ["vwap"])["vwap"], pv / vol, rtol=1e-12)


def test_session_vwap_resets_at_new_york_close(h1_recent: pd.DataFrame) -> None:
    vwap = ind.compute(h1_recent, ["vwap"])["vwap"]
    typical = (h1_recent["high"] + h1_recent["low"] + h1_recent["close"]) / 3
    ny = h1_recent.index.tz_convert(NEW_YORK)
    first_bars = (ny.hour == 17) & (h1_recent["volume"].to_numpy() > 0)
    assert first_bars.sum() > 100
    np.testing.assert_allclose(vwap[first_bars], typical[first_bars], rtol=1e-14)


def test_session_vwap_is_nan_without_volume(h1_recent: pd.DataFrame) -> None:
    assert ind.compute(h1_recent.assign(volume=0.0), ["vwap"])["vwap"].isna().all()


def test_naive_index_is_read_as_utc(h1_recent: pd.DataFrame) -> None:
    naive = h1_recent.tz_localize(None)
    pd.testing.assert_frame_equal(
        ind.compute(naive, ["pivot_classic", "vwap"]).set_axis(h1_recent.index),
        ind.compute(h1_recent, ["pivot_classic", "vwap"]),
    )
