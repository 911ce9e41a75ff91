"""TradingView-style technical ratings: 15 moving-average votes and 11 oscillator votes.

Each constituent votes +1 (buy), -1 (sell) or 0 (neutral) on every bar; a group's rating is the
mean of its votes that have a value (warm-up votes are left out, as ``tradingview-ta`` leaves out
missing values), the overall rating is the mean of the two group ratings, and a rating maps to a
recommendation: > 0.5 STRONG_BUY, > 0.1 BUY, < -0.1 SELL, < -0.5 STRONG_SELL, else NEUTRAL.

Rules. Where TradingView's website widget (reproduced by the MIT-licensed ``tradingview-ta``
package, ``technicals.Compute``) and its Pine "Technical Ratings" help differ, the website's rule
is used because that is what users compare against:

* every MA (SMA/EMA 10, 20, 30, 50, 100, 200, VWMA 20, Hull 9): buy if MA < close, sell if > close
* Ichimoku (9, 26, 52): buy if span A > span B, base line > span A, conversion > base line and
  close > conversion; sell if all four are reversed (the spans are the cloud plotted *at* the bar,
  computed 26 bars earlier, so no future data is read)
* RSI 14: buy < 30 and rising; sell > 70 and falling
* Stochastic 14,3,3 (website rule): buy if K < 20, D < 20, K > D and K[1] < D[1]; sell mirrored
* CCI 20: buy < -100 and rising; sell > 100 and falling
* ADX 14: buy if ADX > 20 and +DI crosses above -DI; sell if ADX > 20 and +DI crosses below
* Awesome Oscillator: buy on a cross above zero or a bullish saucer (AO > 0, AO[1] > 0,
  AO > AO[1], AO[2] > AO[1]); sell mirrored
* Momentum 10: buy if rising, sell if falling
* MACD 12,26,9: buy if MACD > signal, sell if below
* Stochastic RSI 3,3,14,14: buy in a downtrend with K, D < 20 and K crossing above D; sell in an
  uptrend with K, D > 80 and K crossing below D (trend: close vs SMA 50)
* Williams %R 14: buy < -80 and rising; sell > -20 and falling
* Bull Bear Power 13 (Elder): buy in an uptrend with bear power < 0 and rising; sell in a
  downtrend with bull power > 0 and falling
* Ultimate Oscillator 7,14,28: buy > 70, sell < 30

All votes at bar t use bars up to t only. The result of :func:`technical_analysis` has the shape
of ``tradingview_ta.Analysis`` (``summary``, ``oscillators``, ``moving_averages`` with
``RECOMMENDATION``, ``BUY``, ``SELL``, ``NEUTRAL``, ``COMPUTE``, and ``indicators`` keyed like the
TradingView scanner columns), so code written against that library runs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.errors import InsufficientData

FloatArray = npt.NDArray[np.float64]

MA_PERIODS = (10, 20, 30, 50, 100, 200)
MA_NAMES = (
    *tuple(f"{kind}{p}" for p in MA_PERIODS for kind in ("EMA", "SMA")),
    "Ichimoku",
    "VWMA",
    "HullMA",
)
OSCILLATOR_NAMES = (
    "RSI", "STOCH.K", "CCI", "ADX", "AO", "Mom", "MACD", "Stoch.RSI", "W%R", "BBP", "UO",
)  # fmt: skip

#: TradingView's scanner columns in the order ``tradingview_ta`` requests them
#: (``TradingView.indicators``, v3.3): :attr:`Analysis.indicators` has every one of these keys,
#: in this order, so ``tradingview_ta.main.calculate`` reads ours unchanged. The monthly pivot
#: columns are not computed (None).
SCANNER_COLUMNS = (
    "Recommend.Other", "Recommend.All", "Recommend.MA", "RSI", "RSI[1]", "Stoch.K", "Stoch.D",
    "Stoch.K[1]", "Stoch.D[1]", "CCI20", "CCI20[1]", "ADX", "ADX+DI", "ADX-DI", "ADX+DI[1]",
    "ADX-DI[1]", "AO", "AO[1]", "Mom", "Mom[1]", "MACD.macd", "MACD.signal", "Rec.Stoch.RSI",
    "Stoch.RSI.K", "Rec.WR", "W.R", "Rec.BBPower", "BBPower", "Rec.UO", "UO", "close", "EMA5",
    "SMA5", "EMA10", "SMA10", "EMA20", "SMA20", "EMA30", "SMA30", "EMA50", "SMA50", "EMA100",
    "SMA100", "EMA200", "SMA200", "Rec.Ichimoku", "Ichimoku.BLine", "Rec.VWMA", "VWMA",
    "Rec.HullMA9", "HullMA9", "Pivot.M.Classic.S3", "Pivot.M.Classic.S2", "Pivot.M.Classic.S1",
    "Pivot.M.Classic.Middle", "Pivot.M.Classic.R1", "Pivot.M.Classic.R2", "Pivot.M.Classic.R3",
    "Pivot.M.Fibonacci.S3", "Pivot.M.Fibonacci.S2", "Pivot.M.Fibonacci.S1",
    "Pivot.M.Fibonacci.Middle", "Pivot.M.Fibonacci.R1", "Pivot.M.Fibonacci.R2",
    "Pivot.M.Fibonacci.R3", "Pivot.M.Camarilla.S3", "Pivot.M.Camarilla.S2",
    "Pivot.M.Camarilla.S1", "Pivot.M.Camarilla.Middle", "Pivot.M.Camarilla.R1",
    "Pivot.M.Camarilla.R2", "Pivot.M.Camarilla.R3", "Pivot.M.Woodie.S3", "Pivot.M.Woodie.S2",
    "Pivot.M.Woodie.S1", "Pivot.M.Woodie.Middle", "Pivot.M.Woodie.R1", "Pivot.M.Woodie.R2",
    "Pivot.M.Woodie.R3", "Pivot.M.Demark.S1", "Pivot.M.Demark.Middle", "Pivot.M.Demark.R1",
    "open", "P.SAR", "BB.lower", "BB.upper", "AO[2]", "volume", "change", "low", "high",
)  # fmt: skip

#: ``Rec.*`` scanner columns: the vote (+1 / -1 / 0) of the constituent named.
_REC_COLUMNS = {
    "Rec.Stoch.RSI": "Stoch.RSI", "Rec.WR": "W%R", "Rec.BBPower": "BBP", "Rec.UO": "UO",
    "Rec.Ichimoku": "Ichimoku", "Rec.VWMA": "VWMA", "Rec.HullMA9": "HullMA",
}  # fmt: skip

#: Indicator specs the ratings need (computed once through the indicator registry).
SPECS = (
    *(f"sma:{p}" for p in MA_PERIODS),
    *(f"ema:{p}" for p in MA_PERIODS),
    "vwma:20", "hma:9", "ichimoku:9,26,52", "rsi:14", "stoch:14,3,3", "cci:20", "adx:14",
    "plus_di:14", "minus_di:14", "ao:5,34", "mom:10", "macd:12,26,9", "willr:14", "elder:13",
    "ultosc:7,14,28", "sma:50",
)  # fmt: skip


def recommendation(value: float) -> str:
    """Map a rating in [-1, 1] to TradingView's five words (NaN -> NEUTRAL)."""
    if not np.isfinite(value):
        return "NEUTRAL"
    if value > 0.5:
        return "STRONG_BUY"
    if value > 0.1:
        return "BUY"
    if value < -0.5:
        return "STRONG_SELL"
    if value < -0.1:
        return "SELL"
    return "NEUTRAL"


def _vote(
    buy: npt.NDArray[np.bool_], sell: npt.NDArray[np.bool_], *inputs: FloatArray
) -> FloatArray:
    """+1 / -1 / 0 per bar; NaN where any input is NaN (warm-up)."""
    out = np.where(buy, 1.0, np.where(sell, -1.0, 0.0))
    missing = np.zeros(len(out), dtype=bool)
    for x in inputs:
        missing |= np.isnan(x)
    out[missing] = np.nan
    return out


def _prev(x: FloatArray, n: int = 1) -> FloatArray:
    out = np.full_like(x, np.nan)
    out[n:] = x[:-n]
    return out


def _tidy(x: FloatArray) -> FloatArray:
    """Round a 0-100 oscillator to 1e-9: TA-Lib leaves ~1e-14 noise where a value is exactly 0,
    and a K/D "cross" must not hinge on it."""
    return np.round(x, 9)


def _stoch_rsi(close: FloatArray) -> tuple[FloatArray, FloatArray]:
    """TradingView's Stochastic RSI (3, 3, 14, 14): K = SMA3 of the 14-bar stochastic of RSI 14,
    D = SMA3 of K (TA-Lib's STOCHRSI smooths differently, so it is built from RSI + STOCH)."""
    import talib

    rsi = talib.RSI(close, timeperiod=14)
    sma = talib.MA_Type.SMA
    k, d = talib.STOCH(rsi, rsi, rsi, fastk_period=14, slowk_period=3, slowk_matype=sma,
                       slowd_period=3, slowd_matype=sma)  # fmt: skip
    return np.asarray(k, dtype=np.float64), np.asarray(d, dtype=np.float64)


def _indicators(bars: pd.DataFrame) -> pd.DataFrame:
    """The indicators behind the votes; those without enough bars yet are all-NaN (their votes
    are left out, as a short history leaves out SMA 200 on TradingView)."""
    from noxfx.analysis.indicators import column_names, compute, parse_spec

    ready = [s for s in SPECS if parse_spec(s).warmup < len(bars)]
    ind = compute(bars, ready) if ready else pd.DataFrame(index=bars.index)
    for col in column_names(list(SPECS)):
        if col not in ind:
            ind[col] = np.nan
    return ind


def vote_table(bars: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-bar votes of every constituent (columns :data:`MA_NAMES` + :data:`OSCILLATOR_NAMES`)
    and the indicator values behind them (same index as ``bars``)."""
    if len(bars) < 2:
        raise InsufficientData("ratings need at least 2 bars")
    ind = _indicators(bars)
    close = bars["close"].to_numpy(dtype=np.float64)
    col = {c: ind[c].to_numpy(dtype=np.float64) for c in ind.columns}
    votes: dict[str, FloatArray] = {}
    for p in MA_PERIODS:
        for kind in ("ema", "sma"):
            ma = col[f"{kind}_{p}"]
            votes[f"{kind.upper()}{p}"] = _vote(ma < close, ma > close, ma)
    tenkan, kijun = col["ichimoku_9_26_52_tenkan"], col["ichimoku_9_26_52_kijun"]
    span_a, span_b = col["ichimoku_9_26_52_span_a"], col["ichimoku_9_26_52_span_b"]
    votes["Ichimoku"] = _vote(
        (span_a > span_b) & (kijun > span_a) & (tenkan > kijun) & (close > tenkan),
        (span_a < span_b) & (kijun < span_a) & (tenkan < kijun) & (close < tenkan),
        tenkan, kijun, span_a, span_b,
    )  # fmt: skip
    for name, c in (("VWMA", "vwma_20"), ("HullMA", "hma_9")):
        votes[name] = _vote(col[c] < close, col[c] > close, col[c])

    rsi = col["rsi_14"]
    rsi1 = _prev(rsi)
    votes["RSI"] = _vote((rsi < 30) & (rsi1 < rsi), (rsi > 70) & (rsi1 > rsi), rsi, rsi1)
    k, d = _tidy(col["stoch_14_3_3_k"]), _tidy(col["stoch_14_3_3_d"])
    k1, d1 = _prev(k), _prev(d)
    votes["STOCH.K"] = _vote(
        (k < 20) & (d < 20) & (k > d) & (k1 < d1), (k > 80) & (d > 80) & (k < d) & (k1 > d1),
        k, d, k1, d1,
    )  # fmt: skip
    cci = col["cci_20"]
    cci1 = _prev(cci)
    votes["CCI"] = _vote((cci < -100) & (cci > cci1), (cci > 100) & (cci < cci1), cci, cci1)
    adx, pdi, mdi = col["adx_14"], col["plus_di_14"], col["minus_di_14"]
    pdi1, mdi1 = _prev(pdi), _prev(mdi)
    votes["ADX"] = _vote(
        (adx > 20) & (pdi1 < mdi1) & (pdi > mdi), (adx > 20) & (pdi1 > mdi1) & (pdi < mdi),
        adx, pdi, mdi, pdi1, mdi1,
    )  # fmt: skip
    ao = col["ao_5_34"]
    ao1, ao2 = _prev(ao), _prev(ao, 2)
    votes["AO"] = _vote(
        ((ao > 0) & (ao1 < 0)) | ((ao > 0) & (ao1 > 0) & (ao > ao1) & (ao2 > ao1)),
        ((ao < 0) & (ao1 > 0)) | ((ao < 0) & (ao1 < 0) & (ao < ao1) & (ao2 < ao1)),
        ao, ao1, ao2,
    )  # fmt: skip
    mom = col["mom_10"]
    mom1 = _prev(mom)
    votes["Mom"] = _vote(mom > mom1, mom < mom1, mom, mom1)
    macd, signal = col["macd_12_26_9"], col["macd_12_26_9_signal"]
    votes["MACD"] = _vote(macd > signal, macd < signal, macd, signal)

    sma50 = col["sma_50"]
    up, down = close > sma50, close < sma50
    sk, sd = (_tidy(x) for x in _stoch_rsi(close))
    sk1, sd1 = _prev(sk), _prev(sd)
    votes["Stoch.RSI"] = _vote(
        down & (sk < 20) & (sd < 20) & (sk > sd) & (sk1 < sd1),
        up & (sk > 80) & (sd > 80) & (sk < sd) & (sk1 > sd1),
        sk, sd, sk1, sd1, sma50,
    )  # fmt: skip
    wr = col["willr_14"]
    wr1 = _prev(wr)
    votes["W%R"] = _vote((wr < -80) & (wr > wr1), (wr > -20) & (wr < wr1), wr, wr1)
    bull, bear = col["elder_13_bull"], col["elder_13_bear"]
    bull1, bear1 = _prev(bull), _prev(bear)
    votes["BBP"] = _vote(
        up & (bear < 0) & (bear > bear1), down & (bull > 0) & (bull < bull1),
        bull, bear, bull1, bear1, sma50,
    )  # fmt: skip
    uo = col["ultosc_7_14_28"]
    votes["UO"] = _vote(uo > 70, uo < 30, uo)

    values = {
        **{f"{kind.upper()}{p}": col[f"{kind}_{p}"] for p in MA_PERIODS for kind in ("ema", "sma")},
        "close": close, "open": bars["open"].to_numpy(dtype=np.float64),
        "RSI": rsi, "RSI[1]": rsi1, "Stoch.K": k, "Stoch.D": d, "Stoch.K[1]": k1,
        "Stoch.D[1]": d1, "CCI20": cci, "CCI20[1]": cci1, "ADX": adx, "ADX+DI": pdi,
        "ADX-DI": mdi, "ADX+DI[1]": pdi1, "ADX-DI[1]": mdi1, "AO": ao, "AO[1]": ao1, "AO[2]": ao2,
        "Mom": mom, "Mom[1]": mom1, "MACD.macd": macd, "MACD.signal": signal,
        "Stoch.RSI.K": sk, "W.R": wr, "BBPower": bull + bear, "UO": uo,
        "Ichimoku.BLine": kijun, "VWMA": col["vwma_20"], "HullMA9": col["hma_9"],
    }  # fmt: skip
    order = [*MA_NAMES, *OSCILLATOR_NAMES]
    return (
        pd.DataFrame({n: votes[n] for n in order}, index=bars.index),
        pd.DataFrame(values, index=bars.index),
    )


def _mean_of_present(votes: pd.DataFrame) -> FloatArray:
    arr = votes.to_numpy(dtype=np.float64)
    count = np.sum(~np.isnan(arr), axis=1)
    total = np.nansum(arr, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def rating_series(bars: pd.DataFrame) -> pd.DataFrame:
    """Per-bar ratings: ``ma``, ``oscillators`` and ``all`` in [-1, 1] (NaN before any vote)."""
    votes, _ = vote_table(bars)
    ma = _mean_of_present(votes[list(MA_NAMES)])
    osc = _mean_of_present(votes[list(OSCILLATOR_NAMES)])
    both = np.where(np.isnan(ma), osc, np.where(np.isnan(osc), ma, (ma + osc) / 2))
    return pd.DataFrame({"ma": ma, "oscillators": osc, "all": both}, index=bars.index)


_WORD = {1.0: "BUY", -1.0: "SELL", 0.0: "NEUTRAL"}


@dataclass
class Analysis:
    """Same attributes as ``tradingview_ta.Analysis``; ``time`` is the UTC open time of the bar
    rated (not the wall-clock time of the call), ``ratings`` the three numbers behind it."""

    exchange: str
    symbol: str
    screener: str
    interval: str
    time: datetime
    summary: dict[str, Any] = field(default_factory=dict)
    oscillators: dict[str, Any] = field(default_factory=dict)
    moving_averages: dict[str, Any] = field(default_factory=dict)
    indicators: dict[str, float | None] = field(default_factory=dict)
    ratings: dict[str, float | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange, "symbol": self.symbol, "screener": self.screener,
            "interval": self.interval, "time": self.time.isoformat(), "summary": self.summary,
            "oscillators": self.oscillators, "moving_averages": self.moving_averages,
            "indicators": self.indicators, "ratings": self.ratings,
        }  # fmt: skip


def _group(votes: pd.Series, rating: float) -> dict[str, Any]:
    present = votes.dropna()
    compute = {name: _WORD[float(v)] for name, v in present.items()}
    counts = {w: sum(1 for x in compute.values() if x == w) for w in ("BUY", "SELL", "NEUTRAL")}
    return {"RECOMMENDATION": recommendation(rating), **counts, "COMPUTE": compute}


def _scanner_extras(bars: pd.DataFrame) -> dict[str, float | None]:
    """The last bar's other scanner columns: EMA/SMA 5, high, low, volume, change (% from the
    previous close), Bollinger 20,2 bands, Parabolic SAR 0.02/0.2."""
    import talib

    tail = bars.iloc[-300:]
    h, lo, c = (np.ascontiguousarray(tail[k].to_numpy(dtype=np.float64))
                for k in ("high", "low", "close"))  # fmt: skip
    upper, _, lower = talib.BBANDS(c, timeperiod=20, nbdevup=2, nbdevdn=2)
    volume = float(tail["volume"].iloc[-1]) if "volume" in tail else float("nan")
    return {
        "EMA5": _finite(talib.EMA(c, 5)[-1]), "SMA5": _finite(talib.SMA(c, 5)[-1]),
        "high": _finite(h[-1]), "low": _finite(lo[-1]), "volume": _finite(volume),
        "change": _finite(100.0 * (c[-1] / c[-2] - 1.0)) if len(c) > 1 else None,
        "BB.lower": _finite(lower[-1]), "BB.upper": _finite(upper[-1]),
        "P.SAR": _finite(talib.SAR(h, lo, acceleration=0.02, maximum=0.2)[-1]),
    }  # fmt: skip


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def technical_analysis(
    bars: pd.DataFrame,
    symbol: str,
    interval: str,
    *,
    as_of: pd.Timestamp | None = None,
) -> Analysis:
    """The rating of the last bar (or the last bar opened at or before ``as_of``)."""
    from noxfx.instruments import get_instrument

    if as_of is not None:
        bars = bars[bars.index <= as_of]
    if len(bars) < 2:
        raise InsufficientData(f"{symbol}: not enough bars to rate")
    votes, values = vote_table(bars)
    last_votes = votes.iloc[-1]
    ma = float(_mean_of_present(votes[list(MA_NAMES)].iloc[[-1]])[0])
    osc = float(_mean_of_present(votes[list(OSCILLATOR_NAMES)].iloc[[-1]])[0])
    both = osc if np.isnan(ma) else ma if np.isnan(osc) else (ma + osc) / 2
    mas = _group(last_votes[list(MA_NAMES)], ma)
    oscs = _group(last_votes[list(OSCILLATOR_NAMES)], osc)
    summary = {
        "RECOMMENDATION": recommendation(both),
        **{w: mas[w] + oscs[w] for w in ("BUY", "SELL", "NEUTRAL")},
    }
    known = {str(k): _finite(float(v)) for k, v in values.iloc[-1].items()}
    known.update({"Recommend.All": _finite(both), "Recommend.MA": _finite(ma),
                  "Recommend.Other": _finite(osc), **_scanner_extras(bars)})  # fmt: skip
    known.update({col: _finite(float(last_votes[name])) for col, name in _REC_COLUMNS.items()})
    indicators = {col: known.get(col) for col in SCANNER_COLUMNS}
    time = bars.index[-1]
    return Analysis(
        exchange="FX_IDC",
        symbol=get_instrument(symbol).symbol,
        screener="forex",
        interval=interval,
        time=time.to_pydatetime(),
        summary=summary,
        oscillators=oscs,
        moving_averages=mas,
        indicators=indicators,
        ratings={"all": _finite(both), "ma": _finite(ma), "oscillators": _finite(osc)},
    )


__all__ = [
    "MA_NAMES",
    "OSCILLATOR_NAMES",
    "SCANNER_COLUMNS",
    "Analysis",
    "rating_series",
    "recommendation",
    "technical_analysis",
    "vote_table",
]
