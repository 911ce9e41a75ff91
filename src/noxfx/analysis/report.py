"""The multi-timeframe analysis report: everything ``noxfx analyze`` and the plans read.

Pure computation: bars in (one frame per timeframe, UTC bar open times), a typed report out.

Timing conventions:

* ``as_of`` is the **close** time (UTC) of the last bar of the analysed timeframe, i.e. the
  moment the report could have been produced live.
* A higher-timeframe bar is used only if it had closed by ``as_of`` (its open + length, weekly
  bars closing Friday 17:00 New York). The forming higher bar is dropped, so a 4h/1d view never
  leaks prices from after ``as_of``.
* Indicators and ratings are computed on the last :data:`WINDOW` bars: every indicator used
  here converges well within it (EMA 200 keeps < e^-10 of its seed after 2,000 bars), and it
  keeps a warm report of 5 years of 1h bars fast.

Confluence: the mean of the overall ratings (each in [-1, 1]) of the analysed and the higher
timeframes, with the share of higher timeframes whose rating points the same way as the base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from noxfx.analysis.ratings import Analysis
from noxfx.errors import InsufficientData
from noxfx.instruments import get_instrument
from noxfx.timeframes import Timeframe, bucket_close, parse_timeframe

#: Bars of each timeframe the indicators and ratings are computed on.
WINDOW = 2_000
#: Indicators shown in the report (spec strings of :mod:`noxfx.analysis.indicators`).
KEY_INDICATORS = (
    "rsi:14", "macd:12,26,9", "atr:14", "adx:14", "ema:20", "ema:50", "ema:200",
    "bbands:20,2", "stoch:14,3,3", "supertrend:10,3",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TimeframeView:
    """A higher timeframe as it stood at ``as_of``: its last closed bar, rating and trend."""

    timeframe: str
    last_closed_bar: pd.Timestamp  # UTC open time
    close: float
    rating: float | None
    recommendation: str
    trend: dict[str, Any]


@dataclass
class AnalysisReport:
    """One symbol and timeframe, analysed as of the close of its last bar."""

    symbol: str
    timeframe: str
    as_of: pd.Timestamp
    last_bar: pd.Timestamp
    last_price: float
    indicators: dict[str, float | None]
    #: The ``tradingview_ta.Analysis`` shape (summary, oscillators, moving_averages with
    #: RECOMMENDATION/BUY/SELL/NEUTRAL/COMPUTE, indicators keyed like TradingView's scanner).
    rating: Analysis
    candles: list[dict[str, Any]]
    chart_patterns: list[dict[str, Any]]
    levels: list[dict[str, Any]]
    trend: dict[str, Any]
    higher_timeframes: list[TimeframeView] = field(default_factory=list)
    confluence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rating"] = self.rating.as_dict()
        d["higher_timeframes"] = [asdict(v) for v in self.higher_timeframes]
        return d


def closed_bars(bars: pd.DataFrame, timeframe: Timeframe, as_of: pd.Timestamp) -> pd.DataFrame:
    """The bars of ``timeframe`` that had closed by ``as_of`` (UTC)."""
    if bars.empty:
        return bars
    opens = pd.DatetimeIndex(bars.index)
    if timeframe.name == "1w":
        closes = pd.DatetimeIndex([bucket_close(t, timeframe) for t in opens])
    else:
        closes = opens + pd.Timedelta(seconds=timeframe.seconds)
    return bars[np.asarray(closes <= as_of)]


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _as_dict(obj: Any) -> dict[str, Any]:
    if hasattr(obj, "as_dict"):
        return dict(obj.as_dict())
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)
    return dict(obj)


def _trend(bars: pd.DataFrame) -> dict[str, Any]:
    from noxfx.analysis.trend import trend_state

    return _as_dict(trend_state(bars))


def _view(tf: Timeframe, bars: pd.DataFrame, as_of: pd.Timestamp) -> TimeframeView | None:
    from noxfx.analysis.ratings import rating_series, recommendation

    done = closed_bars(bars, tf, as_of).iloc[-WINDOW:]
    if len(done) < 60:
        return None
    rating = _finite(rating_series(done)["all"].iloc[-1])
    return TimeframeView(
        timeframe=tf.name,
        last_closed_bar=done.index[-1],
        close=float(done["close"].iloc[-1]),
        rating=rating,
        recommendation=recommendation(rating if rating is not None else float("nan")),
        trend=_trend(done),
    )


def analyze(
    symbol: str,
    timeframe: str | Timeframe,
    bars: pd.DataFrame,
    higher: Mapping[str, pd.DataFrame] | None = None,
    *,
    candle_lookback: int = 10,
    max_levels: int = 8,
) -> AnalysisReport:
    """Analyse ``bars`` (the ``timeframe`` frame) and the ``higher`` timeframes' frames."""
    from noxfx.analysis.candles import recent_candles
    from noxfx.analysis.chart_patterns import active_patterns
    from noxfx.analysis.indicators import compute
    from noxfx.analysis.ratings import technical_analysis
    from noxfx.analysis.support_resistance import support_resistance

    inst = get_instrument(symbol)
    tf = parse_timeframe(timeframe)
    if len(bars) < 250:
        raise InsufficientData(f"{inst.symbol} {tf}: {len(bars)} bars, the analysis needs 250.")
    window = bars.iloc[-WINDOW:]
    last_bar = window.index[-1]
    as_of = last_bar + pd.Timedelta(seconds=tf.seconds)
    values = compute(window, list(KEY_INDICATORS)).iloc[-1]
    indicators = {str(k): _finite(v) for k, v in values.items()}
    atr = indicators.get("atr_14")
    indicators["atr_14_pips"] = round(inst.to_pips(atr), 1) if atr is not None else None
    ta = technical_analysis(window, inst.symbol, tf.name)
    candles = [_as_dict(c) for c in recent_candles(window, lookback=candle_lookback)]
    # recent patterns span a handful of pivots: the window holds them (and keeps this fast)
    patterns = [_as_dict(p) for p in active_patterns(window)]
    sr = support_resistance(window, inst.symbol, max_levels=max_levels)
    levels = [_as_dict(lv) for lv in sr.levels] + [
        {**_as_dict(lv), "touches": None} for lv in sr.round_levels
    ]
    views: list[TimeframeView] = []
    for name, frame in (higher or {}).items():
        htf = parse_timeframe(name)
        if htf <= tf:
            continue
        view = _view(htf, frame, as_of)
        if view is not None:
            views.append(view)
    views.sort(key=lambda v: parse_timeframe(v.timeframe))
    return AnalysisReport(
        symbol=inst.symbol,
        timeframe=tf.name,
        as_of=as_of,
        last_bar=last_bar,
        last_price=float(window["close"].iloc[-1]),
        indicators=indicators,
        rating=ta,
        candles=candles,
        chart_patterns=patterns,
        levels=levels,
        trend=_trend(window),
        higher_timeframes=views,
        confluence=confluence(ta.ratings["all"], [v.rating for v in views]),
    )


def confluence(base: float | None, higher: Sequence[float | None]) -> dict[str, Any]:
    """Mean rating across timeframes and the share of higher ones agreeing with the base."""
    ratings = [r for r in (base, *higher) if r is not None]
    score = float(np.mean(ratings)) if ratings else None
    present = [r for r in higher if r is not None]
    if base is None or not present or base == 0:
        agreement = None
    else:
        agreement = sum(1 for r in present if np.sign(r) == np.sign(base)) / len(present)
    from noxfx.analysis.ratings import recommendation

    return {
        "score": score,
        "recommendation": recommendation(score if score is not None else float("nan")),
        "agreement": agreement,
        "timeframes": 1 + len(present),
    }


__all__ = ["KEY_INDICATORS", "WINDOW", "AnalysisReport", "TimeframeView", "analyze", "closed_bars"]
