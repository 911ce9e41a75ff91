"""The multi-timeframe report: closed higher bars only, and the same answer from cut history."""

from __future__ import annotations

import pandas as pd
import pytest

from noxfx.analysis.report import analyze, closed_bars, confluence
from noxfx.timeframes import parse_timeframe, resample


@pytest.fixture(scope="module")
def frames(h1_bars: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    bars = h1_bars.loc["2018-01-01":"2020-06-30"]
    return bars, {"4h": resample(bars, "4h", source="1h"), "1d": resample(bars, "1d", source="1h")}


def test_report_fields(frames: tuple[pd.DataFrame, dict[str, pd.DataFrame]]) -> None:
    bars, higher = frames
    r = analyze("EURUSD", "1h", bars, higher)
    assert r.as_of == bars.index[-1] + pd.Timedelta(hours=1)
    assert r.last_price == bars["close"].iloc[-1]
    assert r.rating.summary["RECOMMENDATION"] in {
        "STRONG_BUY",
        "BUY",
        "NEUTRAL",
        "SELL",
        "STRONG_SELL",
    }
    assert {"rsi_14", "atr_14", "atr_14_pips", "macd_12_26_9"} <= r.indicators.keys()
    assert [v.timeframe for v in r.higher_timeframes] == ["4h", "1d"]
    assert r.trend["direction"] in {"up", "down", "sideways"}
    assert r.levels and all("price" in lv for lv in r.levels)
    assert -1 <= r.confluence["score"] <= 1
    d = r.as_dict()
    assert d["symbol"] == "EURUSD" and isinstance(d["higher_timeframes"][0], dict)


def test_higher_timeframes_use_only_closed_bars(
    frames: tuple[pd.DataFrame, dict[str, pd.DataFrame]],
) -> None:
    bars, higher = frames
    # cut mid-day and mid-4h-bar: the forming higher bars must not be used
    cut = bars.loc[:"2020-03-11 14:00"]
    as_of = cut.index[-1] + pd.Timedelta(hours=1)
    r = analyze("EURUSD", "1h", cut, higher)  # full higher frames, which run into the future
    for v in r.higher_timeframes:
        tf = parse_timeframe(v.timeframe)
        assert v.last_closed_bar + pd.Timedelta(seconds=tf.seconds) <= as_of
    # and it equals the report computed from higher bars resampled from the cut history
    own = {k: resample(cut, k, source="1h") for k in ("4h", "1d")}
    r2 = analyze("EURUSD", "1h", cut, own)
    assert [(v.timeframe, v.last_closed_bar, v.rating) for v in r.higher_timeframes] == [
        (v.timeframe, v.last_closed_bar, v.rating) for v in r2.higher_timeframes
    ]


def test_closed_bars_weekly() -> None:
    idx = pd.DatetimeIndex(["2024-03-03 22:00", "2024-03-10 21:00"], tz="UTC")
    w = pd.DataFrame({"close": [1.0, 2.0]}, index=idx)
    friday_close = pd.Timestamp("2024-03-15 21:00", tz="UTC")  # 17:00 New York (EDT)
    assert len(closed_bars(w, parse_timeframe("1w"), friday_close)) == 2
    assert len(closed_bars(w, parse_timeframe("1w"), friday_close - pd.Timedelta(1, "s"))) == 1


def test_confluence() -> None:
    c = confluence(0.6, [0.4, -0.2])
    assert c["score"] == pytest.approx(0.8 / 3) and c["agreement"] == 0.5
    assert confluence(None, [])["score"] is None
