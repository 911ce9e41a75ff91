from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noxfx.errors import InvalidInput, UnknownTimeframe
from noxfx.timeframes import (
    TIMEFRAMES,
    bucket_open,
    in_weekend,
    infer_timeframe,
    parse_timeframe,
    resample,
    trading_day,
)

NY = "America/New_York"


# --------------------------------------------------------------- an independent reference
def reference_bucket(t: pd.Timestamp, tf: str) -> pd.Timestamp:
    """Slow, obvious bucketing: find the FX day in New York local time, then cut it."""
    local = t.tz_convert(NY)
    day = local.normalize().tz_localize(None)
    if local.hour >= 17:
        day += pd.Timedelta(days=1)  # after 17:00 New York it is already tomorrow's FX day
    if tf == "1w":
        day -= pd.Timedelta(days=day.weekday())  # Monday of that FX week
    day_open = (day - pd.Timedelta(days=1) + pd.Timedelta(hours=17)).tz_localize(NY)
    day_open = day_open.tz_convert("UTC")
    if tf in ("1d", "1w"):
        return day_open
    step = pd.Timedelta(seconds=TIMEFRAMES[tf].seconds)
    return day_open + ((t - day_open) // step) * step


def reference_resample(bars: pd.DataFrame, tf: str) -> pd.DataFrame:
    keys = [reference_bucket(t, tf) for t in bars.index]
    g = bars.groupby(pd.DatetimeIndex(keys, name="time"))
    out = pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                        "low": g["low"].min(), "close": g["close"].last(),
                        "volume": g["volume"].sum()})  # fmt: skip
    out.index = out.index.as_unit("ns")
    return out


# --------------------------------------------------------------- parsing
@pytest.mark.parametrize(
    ("text", "name"),
    [("1h", "1h"), ("H1", "1h"), ("60", "1h"), ("4H", "4h"), ("240", "4h"), ("D1", "1d"),
     ("1440", "1d"), ("M15", "15m"), ("1W", "1w"), ("w1", "1w"), ("1m", "1m")],
)  # fmt: skip
def test_parse_timeframe_aliases(text: str, name: str) -> None:
    assert parse_timeframe(text).name == name


def test_unknown_timeframe_lists_valid_ones() -> None:
    with pytest.raises(UnknownTimeframe, match="1m 5m 15m 30m 1h 4h 1d 1w"):
        parse_timeframe("7h")


def test_timeframes_order_by_duration() -> None:
    assert min(TIMEFRAMES.values()).name == "1m"
    assert sorted(TIMEFRAMES.values()) == list(TIMEFRAMES.values())


# --------------------------------------------------------------- DST transition days
@pytest.mark.parametrize(
    ("utc", "tf", "expected"),
    [
        # March 2024: US clocks go forward Sunday 10 March. Friday's day closes 17:00 EST = 22:00Z
        ("2024-03-08 21:59", "1d", "2024-03-07 22:00"),
        ("2024-03-08 21:00", "4h", "2024-03-08 18:00"),
        # the week after opens Sunday 17:00 EDT = 21:00Z
        ("2024-03-10 21:00", "1d", "2024-03-10 21:00"),
        ("2024-03-10 21:00", "1w", "2024-03-10 21:00"),
        ("2024-03-11 01:30", "4h", "2024-03-11 01:00"),
        ("2024-03-15 20:59", "1w", "2024-03-10 21:00"),
        # November 2024: clocks go back Sunday 3 November. Friday closes 17:00 EDT = 21:00Z
        ("2024-11-01 20:59", "1d", "2024-10-31 21:00"),
        ("2024-11-01 20:59", "1w", "2024-10-27 21:00"),
        # Sunday opens 17:00 EST = 22:00Z
        ("2024-11-03 22:00", "1d", "2024-11-03 22:00"),
        ("2024-11-03 22:00", "1w", "2024-11-03 22:00"),
        ("2024-11-04 02:00", "4h", "2024-11-04 02:00"),
        ("2024-11-04 12:00", "1h", "2024-11-04 12:00"),
    ],
)
def test_bucket_open_on_dst_transitions(utc: str, tf: str, expected: str) -> None:
    t = pd.Timestamp(utc, tz="UTC")
    got = bucket_open(pd.DatetimeIndex([t]), tf)[0]
    assert got == pd.Timestamp(expected, tz="UTC")
    assert got == reference_bucket(t, tf)


def test_weekend_closure_follows_new_york() -> None:
    idx = pd.DatetimeIndex(
        ["2024-07-12 20:59", "2024-07-12 21:00", "2024-07-14 20:59", "2024-07-14 21:00",
         "2024-01-12 21:30", "2024-01-12 22:00"], tz="UTC",
    )  # fmt: skip
    assert list(in_weekend(idx)) == [False, True, True, False, False, True]


def test_trading_day_after_17_new_york_is_tomorrow() -> None:
    idx = pd.DatetimeIndex(["2024-03-11 20:59", "2024-03-11 21:00"], tz="UTC")
    assert list(trading_day(idx).strftime("%Y-%m-%d")) == ["2024-03-11", "2024-03-12"]


# --------------------------------------------------------------- resampling real bars
@pytest.mark.parametrize("tf", ["4h", "1d", "1w"])
def test_resample_real_h1_matches_reference(eurusd_h1: pd.DataFrame, tf: str) -> None:
    bars = eurusd_h1.loc["2019-02-20":"2019-04-10"]  # spans the March 2019 DST change
    got = resample(bars, tf, source="1h")
    pd.testing.assert_frame_equal(got, reference_resample(bars, tf), check_freq=False)


def test_daily_bars_from_h1_open_at_new_york_close(eurusd_h1: pd.DataFrame) -> None:
    daily = resample(eurusd_h1.loc["2018"], "1d", source="1h")
    local = daily.index.tz_convert(NY)
    assert (local.hour == 17).all()
    assert set(daily.index.hour) == {21, 22}  # 21:00Z in US summer time, 22:00Z in winter
    assert not in_weekend(daily.index).any()


def test_resample_m1_to_every_coarser_timeframe(eurusd_m1: pd.DataFrame) -> None:
    bars = eurusd_m1.loc["2017-01-05 12:00":"2017-01-10 12:00"]  # across a weekend
    for tf in ("5m", "15m", "30m", "1h", "4h", "1d", "1w"):
        got = resample(bars, tf, source="1m")
        pd.testing.assert_frame_equal(got, reference_resample(bars, tf), check_freq=False)
        assert got["volume"].sum() == bars["volume"].sum()


def test_cannot_resample_into_a_finer_timeframe(eurusd_h1: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="finer"):
        resample(eurusd_h1.iloc[:100], "15m", source="1h")


def test_infer_timeframe_from_spacing(eurusd_h1: pd.DataFrame, eurusd_m1: pd.DataFrame) -> None:
    assert infer_timeframe(eurusd_h1.index) == TIMEFRAMES["1h"]
    assert infer_timeframe(eurusd_m1.index) == TIMEFRAMES["1m"]


# --------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(
    start=st.integers(0, 25_000),
    length=st.integers(1, 4_000),
    drop_seed=st.integers(0, 2**31),
    tf=st.sampled_from(["5m", "15m", "30m", "1h", "4h", "1d", "1w"]),
)
def test_resample_properties(
    eurusd_m1: pd.DataFrame, start: int, length: int, drop_seed: int, tf: str
) -> None:
    """high = max of highs, low = min of lows, volume sums, open/close from first/last bar,
    and each bucket holds only bars inside its own interval."""
    bars = eurusd_m1.iloc[start : start + length]
    keep = np.random.default_rng(drop_seed).random(len(bars)) > 0.3  # missing minutes
    bars = bars[keep]
    if bars.empty:
        return
    out = resample(bars, tf, source="1m")
    keys = bucket_open(bars.index, tf)
    for t, row in out.iterrows():
        members = bars[keys == t]
        assert row["open"] == members["open"].iloc[0]
        assert row["close"] == members["close"].iloc[-1]
        assert row["high"] == members["high"].max()
        assert row["low"] == members["low"].min()
        assert row["volume"] == members["volume"].sum()
        assert (members.index >= t).all()
    assert len(out) == len(np.unique(keys))


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(1, 31_000), tf=st.sampled_from(["15m", "1h", "4h", "1d", "1w"]))
def test_no_bar_is_built_from_the_future(eurusd_m1: pd.DataFrame, cut: int, tf: str) -> None:
    """Resampling history cut at any bar gives the same completed bars as the full history,
    and the forming bar only uses bars up to the cut."""
    full = resample(eurusd_m1, tf, source="1m")
    prefix_bars = eurusd_m1.iloc[:cut]
    prefix = resample(prefix_bars, tf, source="1m")
    completed = prefix.iloc[:-1]
    pd.testing.assert_frame_equal(completed, full.loc[completed.index], check_freq=False)
    last = prefix.iloc[-1]
    members = prefix_bars[prefix_bars.index >= prefix.index[-1]]
    assert last["high"] == members["high"].max() and last["close"] == members["close"].iloc[-1]
    only_complete = resample(prefix_bars, tf, source="1m", complete_only=True)
    assert len(only_complete) in (len(prefix) - 1, len(prefix))
    if len(only_complete) == len(prefix):  # kept only if the cut reached the bucket's close
        pd.testing.assert_series_equal(only_complete.iloc[-1], full.loc[prefix.index[-1]])
