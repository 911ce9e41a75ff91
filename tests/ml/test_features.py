"""Features use bars <= t only: perturbing the future never changes the past."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from noxfx.errors import InsufficientData
from noxfx.ml.features import build_features, warmup_rows
from noxfx.timeframes import resample


@pytest.fixture(scope="module")
def bars(eurusd_h1: pd.DataFrame) -> pd.DataFrame:
    return eurusd_h1.iloc[-4000:]


@pytest.fixture(scope="module")
def features(bars: pd.DataFrame) -> pd.DataFrame:
    return build_features(bars, "1h")


def _scramble_after(bars: pd.DataFrame, t: int, seed: int) -> pd.DataFrame:
    """Shuffle the bars after position t (keeping each bar's OHLC together) and shift their
    level by 3 %: a future that has nothing to do with the real one."""
    rng = np.random.default_rng(seed)
    out = bars.copy()
    future = out.iloc[t + 1 :, :4].to_numpy()
    out.iloc[t + 1 :, :4] = future[rng.permutation(len(future))] * 1.03
    return out


@pytest.mark.parametrize("t", [2500, 2517, 3001, 3998])
def test_future_perturbation_leaves_past_unchanged(
    bars: pd.DataFrame, features: pd.DataFrame, t: int
) -> None:
    changed = build_features(_scramble_after(bars, t, seed=t), "1h")
    pd.testing.assert_frame_equal(changed.iloc[: t + 1], features.iloc[: t + 1])
    # the perturbation is real: some later feature rows differ
    if t < len(bars) - 2:
        assert not changed.iloc[t + 1 :].equals(features.iloc[t + 1 :])


def test_truncated_history_gives_the_same_rows(bars: pd.DataFrame, features: pd.DataFrame) -> None:
    for t in (2999, 3210):
        prefix = build_features(bars.iloc[: t + 1], "1h")
        pd.testing.assert_frame_equal(prefix, features.iloc[: t + 1])


def test_daily_features_only_after_the_daily_bar_closed(
    bars: pd.DataFrame, features: pd.DataFrame
) -> None:
    """Reference: for each hourly bar, the last daily bar whose close (open + 24h) is at or
    before the hourly bar's close (open + 1h), found by a plain loop."""
    daily = resample(bars[["open", "high", "low", "close"]], "1d", source="1h")
    rsi = (talib.RSI(daily["close"].to_numpy(), 14) - 50.0) / 50.0
    daily_close = list(daily.index + pd.Timedelta(days=1))
    hourly_close = bars.index + pd.Timedelta(hours=1)
    checked = 0
    for i in range(0, len(bars), 7):
        j = max((k for k, c in enumerate(daily_close) if c <= hourly_close[i]), default=None)
        got = features["d1_rsi"].iloc[i]
        if j is None or np.isnan(rsi[j]):
            assert np.isnan(got)
            continue
        assert got == pytest.approx(rsi[j], abs=1e-12)
        assert daily_close[j] <= hourly_close[i]  # the daily bar had closed
        checked += 1
    assert checked > 400


def test_the_bar_closing_the_day_sees_that_day(bars: pd.DataFrame, features: pd.DataFrame) -> None:
    """The hourly bar that ends at 17:00 New York sees the day it completes; the one before
    does not (it still sees the previous day)."""
    ny = bars.index.tz_convert("America/New_York")
    last_of_day = np.flatnonzero((ny.hour == 16) & (ny.minute == 0))
    i = int(last_of_day[len(last_of_day) // 2])
    assert features["d1_rsi"].iloc[i] != features["d1_rsi"].iloc[i - 1]
    assert features["d1_rsi"].iloc[i - 1] == features["d1_rsi"].iloc[i - 2]


def test_sessions_follow_local_time_with_dst(eurusd_h1: pd.DataFrame) -> None:
    f = build_features(eurusd_h1.iloc[-10000:], "1h")
    summer = pd.Timestamp("2020-07-01 07:00", tz="UTC")  # 08:00 in London (BST)
    winter = pd.Timestamp("2020-01-08 07:00", tz="UTC")  # 07:00 in London (GMT)
    assert f.loc[summer, "session_london"] == 1.0
    assert f.loc[winter, "session_london"] == 0.0
    assert f.loc[winter + pd.Timedelta(hours=1), "session_london"] == 1.0
    ny_open_summer = pd.Timestamp("2020-07-01 12:00", tz="UTC")  # 08:00 New York (EDT)
    assert f.loc[ny_open_summer, "session_new_york"] == 1.0
    assert f.loc[ny_open_summer, "session_overlap"] == 1.0
    # Sunday 22:00 UTC in winter = 17:00 New York: the first hour of Monday's trading day
    sunday = pd.Timestamp("2020-01-05 22:00", tz="UTC")
    assert f.loc[sunday, "day_of_week"] == 0.0 and f.loc[sunday, "hour_of_day"] == 0.0


def test_feature_frame_shape_and_finiteness(features: pd.DataFrame) -> None:
    assert (features.dtypes == np.float64).all()
    assert not np.isinf(features.to_numpy()).any()
    start = warmup_rows(features)
    assert 200 < start < 1500
    tail = features.iloc[start:]
    assert tail.notna().all(axis=1).mean() > 0.999
    for group in (
        "ret_1_atr",
        "rv_24",
        "rsi",
        "macd_hist_atr",
        "ema200_dist_atr",
        "bb_pctb",
        "stoch_k",
        "cdl_engulfing",
        "session_london",
        "high_24_atr",
        "h4_rsi",
        "d1_prev_high_atr",
    ):
        assert group in features.columns


def test_four_hour_bars_get_daily_but_not_4h_features(usdjpy_h4: pd.DataFrame) -> None:
    f = build_features(usdjpy_h4.iloc[-1500:], "4h")
    assert not any(c.startswith("h4_") for c in f.columns)
    assert f["d1_rsi"].iloc[-1000:].notna().all()


def test_too_few_bars_is_an_insufficient_data_error(bars: pd.DataFrame) -> None:
    with pytest.raises(InsufficientData):
        build_features(bars.iloc[:150], "1h")
