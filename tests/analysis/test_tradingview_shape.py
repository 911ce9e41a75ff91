"""The rating is ``tradingview_ta``'s Analysis, checked with that library's own code: its
``calculate`` reads our indicators (by its column order) and must reach our votes (issue 13)."""

from __future__ import annotations

import pandas as pd
import pytest
from tradingview_ta.main import TradingView, calculate

from noxfx.analysis.ratings import SCANNER_COLUMNS, technical_analysis
from noxfx.analysis.report import analyze
from noxfx.plans.generator import PlanRequest, generate_plan
from noxfx.timeframes import resample


@pytest.mark.parametrize("cut", ["2016-03-01 10:00", "2018-06-15 14:00", "2020-03-12 09:00",
                                 "2020-11-04 08:00", "2020-12-29 08:00"])  # fmt: skip
def test_tradingview_ta_computes_our_votes_from_our_indicators(
    h1_bars: pd.DataFrame, cut: str
) -> None:
    bars = h1_bars.loc[:cut].iloc[-2000:]
    ours = technical_analysis(bars, "EURUSD", "1h")
    assert tuple(ours.indicators) == tuple(TradingView.indicators) == SCANNER_COLUMNS
    theirs = calculate(dict(ours.indicators), TradingView.indicators, "forex", "EURUSD",
                       "FX_IDC", "1h")  # fmt: skip
    assert theirs is not None
    assert theirs.summary == ours.summary
    assert theirs.oscillators == ours.oscillators
    assert theirs.moving_averages == ours.moving_averages


def test_the_same_rating_object_in_analyze_and_the_plan(eurusd_h1: pd.DataFrame) -> None:
    bars = eurusd_h1.loc["2016-01-01":"2020-12-29 08:00"]
    higher = {"4h": resample(bars, "4h", source="1h"), "1d": resample(bars, "1d", source="1h")}
    report = analyze("EURUSD", "1h", bars, higher).as_dict()
    rating = report["rating"]
    assert {"summary", "oscillators", "moving_averages", "indicators"} <= rating.keys()
    for group in ("oscillators", "moving_averages"):
        assert {"RECOMMENDATION", "BUY", "SELL", "NEUTRAL", "COMPUTE"} <= rating[group].keys()
    for key in ("close", "RSI", "RSI[1]", "EMA10", "MACD.macd", "Recommend.All"):
        assert rating["indicators"][key] is not None
    plan = generate_plan(PlanRequest("EURUSD"), bars, higher).as_dict()
    assert plan["rating"] == rating
