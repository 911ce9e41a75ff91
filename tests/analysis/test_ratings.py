"""TradingView-style ratings checked against a slow, scalar re-statement of the rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import talib

from noxfx.analysis.ratings import (
    MA_NAMES,
    OSCILLATOR_NAMES,
    rating_series,
    recommendation,
    technical_analysis,
    vote_table,
)


def word(buy: bool, sell: bool) -> float:
    return 1.0 if buy else -1.0 if sell else 0.0


def reference_votes(bars: pd.DataFrame, t: int) -> dict[str, float]:
    """Votes at bar t, rule by rule, from raw TA-Lib/pandas values (no shared code)."""
    _o, h, lo, c, v = (bars[k].to_numpy() for k in ("open", "high", "low", "close", "volume"))
    close = c[t]
    out: dict[str, float] = {}
    for p in (10, 20, 30, 50, 100, 200):
        for name, fn in (("EMA", talib.EMA), ("SMA", talib.SMA)):
            ma = fn(c, timeperiod=p)[t]
            out[f"{name}{p}"] = math.nan if math.isnan(ma) else word(ma < close, ma > close)
    mid = lambda n, i: (max(h[i - n + 1 : i + 1]) + min(lo[i - n + 1 : i + 1])) / 2  # noqa: E731
    tenkan, kijun = mid(9, t), mid(26, t)
    span_a = (mid(9, t - 26) + mid(26, t - 26)) / 2
    span_b = mid(52, t - 26)
    out["Ichimoku"] = word(
        span_a > span_b and kijun > span_a and tenkan > kijun and close > tenkan,
        span_a < span_b and kijun < span_a and tenkan < kijun and close < tenkan,
    )
    vw = pd.Series(c * v).rolling(20).sum() / pd.Series(v).rolling(20).sum()
    out["VWMA"] = word(vw[t] < close, vw[t] > close)
    wma = lambda x, n: talib.WMA(x, timeperiod=n)  # noqa: E731
    hull = wma(2 * wma(c, 4) - wma(c, 9), 3)[t]  # Hull 9: WMA(2 WMA(n/2) - WMA(n), sqrt(n))
    out["HullMA"] = word(hull < close, hull > close)
    rsi = talib.RSI(c, 14)
    out["RSI"] = word(rsi[t] < 30 and rsi[t - 1] < rsi[t], rsi[t] > 70 and rsi[t - 1] > rsi[t])
    k, d = (np.round(x, 9) for x in talib.STOCH(h, lo, c, 14, 3, 0, 3, 0))
    out["STOCH.K"] = word(
        k[t] < 20 and d[t] < 20 and k[t] > d[t] and k[t - 1] < d[t - 1],
        k[t] > 80 and d[t] > 80 and k[t] < d[t] and k[t - 1] > d[t - 1],
    )
    cci = talib.CCI(h, lo, c, 20)
    out["CCI"] = word(cci[t] < -100 and cci[t] > cci[t - 1], cci[t] > 100 and cci[t] < cci[t - 1])
    adx, pdi, mdi = (
        talib.ADX(h, lo, c, 14),
        talib.PLUS_DI(h, lo, c, 14),
        talib.MINUS_DI(h, lo, c, 14),
    )
    out["ADX"] = word(
        adx[t] > 20 and pdi[t - 1] < mdi[t - 1] and pdi[t] > mdi[t],
        adx[t] > 20 and pdi[t - 1] > mdi[t - 1] and pdi[t] < mdi[t],
    )
    med = (h + lo) / 2
    ao = talib.SMA(med, 5) - talib.SMA(med, 34)
    a0, a1, a2 = ao[t], ao[t - 1], ao[t - 2]
    out["AO"] = word(
        (a0 > 0 and a1 < 0) or (a0 > 0 and a1 > 0 and a0 > a1 and a2 > a1),
        (a0 < 0 and a1 > 0) or (a0 < 0 and a1 < 0 and a0 < a1 and a2 < a1),
    )
    mom = c[t] - c[t - 10], c[t - 1] - c[t - 11]
    out["Mom"] = word(mom[0] > mom[1], mom[0] < mom[1])
    macd, signal, _ = talib.MACD(c, 12, 26, 9)
    out["MACD"] = word(macd[t] > signal[t], macd[t] < signal[t])
    sma50 = talib.SMA(c, 50)[t]
    stoch_of_rsi = (
        (pd.Series(rsi) - pd.Series(rsi).rolling(14).min())
        / (pd.Series(rsi).rolling(14).max() - pd.Series(rsi).rolling(14).min())
        * 100
    )
    sk = stoch_of_rsi.rolling(3).mean().round(9)
    sd = sk.rolling(3).mean().round(9)
    out["Stoch.RSI"] = word(
        close < sma50 and sk[t] < 20 and sd[t] < 20 and sk[t] > sd[t] and sk[t - 1] < sd[t - 1],
        close > sma50 and sk[t] > 80 and sd[t] > 80 and sk[t] < sd[t] and sk[t - 1] > sd[t - 1],
    )
    wr = talib.WILLR(h, lo, c, 14)
    out["W%R"] = word(wr[t] < -80 and wr[t] > wr[t - 1], wr[t] > -20 and wr[t] < wr[t - 1])
    ema13 = talib.EMA(c, 13)
    bull, bear = h - ema13, lo - ema13
    out["BBP"] = word(
        close > sma50 and bear[t] < 0 and bear[t] > bear[t - 1],
        close < sma50 and bull[t] > 0 and bull[t] < bull[t - 1],
    )
    uo = talib.ULTOSC(h, lo, c, 7, 14, 28)[t]
    out["UO"] = word(uo > 70, uo < 30)
    return out


@pytest.mark.parametrize("offset", [1, 7, 50, 333, 1500])
def test_votes_match_the_rules(h1_bars: pd.DataFrame, offset: int) -> None:
    bars = h1_bars.iloc[-3000:]
    votes, _ = vote_table(bars)
    t = len(bars) - offset
    expected = reference_votes(bars, t)
    got = votes.iloc[t]
    for name in (*MA_NAMES, *OSCILLATOR_NAMES):
        assert got[name] == pytest.approx(expected[name], abs=1e-12) or (
            np.isnan(got[name]) and np.isnan(expected[name])
        ), name


def test_many_bars_agree_with_the_reference(d1_bars: pd.DataFrame) -> None:
    bars = d1_bars.iloc[-700:]
    votes, _ = vote_table(bars)
    mismatches = 0
    for t in range(300, 700, 7):
        expected = reference_votes(bars, t)
        mismatches += sum(votes.iloc[t][n] != expected[n] for n in expected)
    assert mismatches == 0


def test_recommendation_thresholds() -> None:
    cases = [(0.51, "STRONG_BUY"), (0.5, "BUY"), (0.11, "BUY"), (0.1, "NEUTRAL"), (0.0, "NEUTRAL"),
             (-0.1, "NEUTRAL"), (-0.11, "SELL"), (-0.5, "SELL"), (-0.51, "STRONG_SELL"),
             (math.nan, "NEUTRAL")]  # fmt: skip
    for value, expected in cases:
        assert recommendation(value) == expected


def test_analysis_has_the_tradingview_ta_shape(h1_bars: pd.DataFrame) -> None:
    a = technical_analysis(h1_bars.iloc[-2000:], "FX_IDC:EURUSD", "1h")
    assert (a.exchange, a.screener, a.symbol, a.interval) == ("FX_IDC", "forex", "EURUSD", "1h")
    for group, size in ((a.oscillators, 11), (a.moving_averages, 15)):
        assert set(group) == {"RECOMMENDATION", "BUY", "SELL", "NEUTRAL", "COMPUTE"}
        assert group["BUY"] + group["SELL"] + group["NEUTRAL"] == len(group["COMPUTE"]) == size
        assert set(group["COMPUTE"].values()) <= {"BUY", "SELL", "NEUTRAL"}
    assert a.summary["BUY"] == a.oscillators["BUY"] + a.moving_averages["BUY"]
    for key in ("Recommend.All", "Recommend.MA", "Recommend.Other", "RSI", "RSI[1]", "Stoch.K",
                "MACD.macd", "EMA200", "SMA10", "close", "Ichimoku.BLine", "HullMA9"):  # fmt: skip
        assert key in a.indicators
    ma = (a.moving_averages["BUY"] - a.moving_averages["SELL"]) / 15
    assert a.indicators["Recommend.MA"] == pytest.approx(ma)
    assert a.summary["RECOMMENDATION"] == recommendation(a.indicators["Recommend.All"] or 0.0)
    assert a.time == h1_bars.index[-1]


def test_rating_uses_no_future_bars(h1_bars: pd.DataFrame) -> None:
    bars = h1_bars.iloc[-1500:]
    full = rating_series(bars)
    for cut in (400, 901, 1499):
        part = rating_series(bars.iloc[:cut])
        pd.testing.assert_frame_equal(part, full.iloc[:cut])
    as_of = bars.index[1000]
    a = technical_analysis(bars, "EURUSD", "1h", as_of=as_of)
    assert a.time == as_of
    assert a.ratings["all"] == pytest.approx(full["all"].iloc[1000])


def test_ratings_stay_in_range(d1_bars: pd.DataFrame) -> None:
    r = rating_series(d1_bars).dropna()
    assert ((r >= -1) & (r <= 1)).all().all()
    assert len(r) > len(d1_bars) - 60
