"""Trend state on real bars: regression slope against numpy, known trends, no lookahead."""

from __future__ import annotations

import json

import numpy as np
import pytest

from noxfx.analysis.trend import trend_frame, trend_state
from noxfx.errors import InsufficientData, InvalidInput
from tests.analysis._pattern_fixtures import eurusd_d1, eurusd_h1, usdjpy_h4


def test_regression_numbers_match_numpy() -> None:
    bars = eurusd_d1()
    frame = trend_frame(bars, regression_bars=50)
    close = bars["close"].to_numpy()
    for t in (60, 777, 2500, 4321, len(bars) - 1):
        window = close[t - 49 : t + 1]
        slope, _ = np.polyfit(np.arange(50.0), window, 1)
        r = np.corrcoef(np.arange(50.0), window)[0, 1]
        row = frame.iloc[t]
        assert row["slope_atr_per_bar"] == pytest.approx(slope / row["atr"], rel=1e-6)
        assert row["move_atr"] == pytest.approx(slope * 49 / row["atr"], rel=1e-6)
        assert row["r_squared"] == pytest.approx(r * r, abs=1e-6)
        if t >= 199:
            assert row["sma_200"] == pytest.approx(close[t - 199 : t + 1].mean())
        else:
            assert np.isnan(row["sma_200"])


def test_strength_and_direction_rule() -> None:
    frame = trend_frame(usdjpy_h4()).dropna()
    agree = np.sign(frame["plus_di"] - frame["minus_di"]) == np.sign(frame["move_atr"])
    adx_score = np.where(agree, ((frame["adx"] - 15) / 25).clip(0, 1), 0.0)
    slope_score = (frame["move_atr"].abs() * frame["r_squared"] / 6).clip(0, 1)
    assert np.allclose(frame["strength"], 0.5 * adx_score + 0.5 * slope_score)
    assert frame["strength"].between(0, 1).all()
    trending = (frame["move_atr"].abs() >= 2.0) & (frame["strength"] >= 0.3)
    assert (frame.loc[trending & (frame["move_atr"] > 0), "direction"] == "up").all()
    assert (frame.loc[trending & (frame["move_atr"] < 0), "direction"] == "down").all()
    assert (frame.loc[~trending, "direction"] == "sideways").all()
    assert set(frame["direction"]) == {"up", "down", "sideways"}


@pytest.mark.parametrize(
    ("as_of", "direction"),
    [
        ("2015-03-10", "down"),  # EURUSD 1.39 -> 1.05 (2014-05 .. 2015-03)
        ("2017-08-01", "up"),  # 1.04 -> 1.18 (2017)
        ("2020-08-01", "up"),  # 1.07 -> 1.18 (2020-05 .. 2020-07)
        ("2021-11-25", "down"),  # 1.16 -> 1.12 (2021-10 .. 2021-11)
    ],
)
def test_known_trends(as_of: str, direction: str) -> None:
    state = trend_state(eurusd_d1(), as_of=as_of)
    assert state.direction == direction
    assert state.strength >= 0.4
    assert state.above_sma_200 == (direction == "up")
    assert (state.slope_atr_per_bar > 0) == (direction == "up")


def test_state_uses_only_past_bars() -> None:
    bars = eurusd_h1()
    frame = trend_frame(bars)
    for t in (500, 20_000, len(bars) - 3):
        state = trend_state(bars, as_of=bars.index[t - 1])
        assert state == trend_state(bars.iloc[:t])
        assert state.time == bars.index[t - 1]
        row = frame.iloc[t - 1]
        assert state.adx == pytest.approx(row["adx"]) and state.direction == row["direction"]
        assert state.close == bars["close"].iloc[t - 1]
    data = trend_state(bars).as_dict()
    assert set(data) >= {"direction", "strength", "adx", "slope_atr_per_bar", "above_sma_200"}
    json.dumps(data)


def test_short_history() -> None:
    bars = eurusd_d1()
    state = trend_state(bars.iloc[:60])
    assert np.isnan(state.sma_200) and state.above_sma_200 is None
    assert state.as_dict()["sma_200"] is None
    with pytest.raises(InsufficientData):
        trend_state(bars.iloc[:20])
    with pytest.raises(InvalidInput):
        trend_state(bars, regression_bars=1)
