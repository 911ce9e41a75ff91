"""Candlestick patterns: the 61 TA-Lib ``CDL*`` recognisers under one naming scheme.

Each pattern is an indicator named ``cdl_<talib name without CDL, lowercase>`` (``CDLENGULFING``
-> ``cdl_engulfing``) whose column holds TA-Lib's integer code per bar: ``0`` (no pattern; also the
warm-up value), ``+100``/``-100`` (bullish/bearish form), ``±80`` for the weaker engulfing/harami
forms of TA-Lib >= 0.6 (bodies sharing an open or close) and ``±200`` for a confirmed Hikkake.
TA-Lib marks the bar on which the pattern *completes*, using that bar and earlier ones only.

The sign is not always the meaning: TA-Lib reports some one-sided patterns as ``+100`` (gravestone
doji is bearish) and the sign of indecision patterns (doji, spinning top, high wave, ...) is just
the candle colour. :data:`CANDLE_PATTERNS` records, per pattern, how to read it; that is what
:func:`recent_candles` uses for its ``direction`` and human ``label``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import talib

from noxfx.analysis._registry import BarArrays, Indicator, Outputs
from noxfx.analysis._talib_catalogue import talib_lookback
from noxfx.errors import InvalidInput

Direction = Literal["bullish", "bearish", "neutral"]
#: how a pattern's code maps to a direction: by its sign, or fixed whatever the sign
Reading = Literal["sign", "bullish", "bearish", "neutral"]


@dataclass(frozen=True, slots=True)
class CandlePattern:
    """One TA-Lib pattern: its NOX name, TA-Lib function, labels and how to read its sign."""

    name: str
    function: str
    bullish_label: str
    bearish_label: str
    reading: Reading

    def direction(self, code: int) -> Direction:
        if self.reading == "sign":
            return "bullish" if code > 0 else "bearish"
        return self.reading

    def label(self, code: int) -> str:
        return self.bullish_label if self.direction(code) != "bearish" else self.bearish_label


@dataclass(frozen=True, slots=True)
class CandleOccurrence:
    """A pattern found on one bar.

    ``time`` is the UTC open time of the bar that completes the pattern; ``strength`` is TA-Lib's
    absolute code: 100, 80 for a weaker engulfing/harami (TA-Lib >= 0.6), 200 for a confirmed
    Hikkake. ``direction`` is ``"neutral"`` for indecision patterns (doji,
    spinning top, high wave, long-legged doji, rickshaw man, short line).
    """

    time: pd.Timestamp
    name: str
    label: str
    direction: Direction
    strength: int


def _p(function: str, label: str | tuple[str, str], reading: Reading = "sign") -> CandlePattern:
    """Table row: a plain label gets "Bullish "/"Bearish " prefixes when read by sign."""
    if isinstance(label, tuple):
        bullish, bearish = label
    elif reading == "sign":
        bullish, bearish = f"Bullish {label}", f"Bearish {label}"
    else:
        bullish = bearish = label
    return CandlePattern(f"cdl_{function[3:].lower()}", function, bullish, bearish, reading)


CANDLE_PATTERNS: tuple[CandlePattern, ...] = (
    _p("CDL2CROWS", "Two Crows", "bearish"),
    _p("CDL3BLACKCROWS", "Three Black Crows", "bearish"),
    _p("CDL3INSIDE", ("Three Inside Up", "Three Inside Down")),
    _p("CDL3LINESTRIKE", "Three-Line Strike"),
    _p("CDL3OUTSIDE", ("Three Outside Up", "Three Outside Down")),
    _p("CDL3STARSINSOUTH", "Three Stars in the South", "bullish"),
    _p("CDL3WHITESOLDIERS", "Three White Soldiers", "bullish"),
    _p("CDLABANDONEDBABY", "Abandoned Baby"),
    _p("CDLADVANCEBLOCK", "Advance Block", "bearish"),
    _p("CDLBELTHOLD", "Belt Hold"),
    _p("CDLBREAKAWAY", "Breakaway"),
    _p("CDLCLOSINGMARUBOZU", "Closing Marubozu"),
    _p("CDLCONCEALBABYSWALL", "Concealing Baby Swallow", "bullish"),
    _p("CDLCOUNTERATTACK", "Counterattack"),
    _p("CDLDARKCLOUDCOVER", "Dark Cloud Cover", "bearish"),
    _p("CDLDOJI", "Doji", "neutral"),
    _p("CDLDOJISTAR", "Doji Star"),
    _p("CDLDRAGONFLYDOJI", "Dragonfly Doji", "bullish"),
    _p("CDLENGULFING", "Engulfing"),
    _p("CDLEVENINGDOJISTAR", "Evening Doji Star", "bearish"),
    _p("CDLEVENINGSTAR", "Evening Star", "bearish"),
    _p(
        "CDLGAPSIDESIDEWHITE",
        ("Upside Gap Side-by-Side White Lines", "Downside Gap Side-by-Side White Lines"),
    ),
    _p("CDLGRAVESTONEDOJI", "Gravestone Doji", "bearish"),
    _p("CDLHAMMER", "Hammer", "bullish"),
    _p("CDLHANGINGMAN", "Hanging Man", "bearish"),
    _p("CDLHARAMI", "Harami"),
    _p("CDLHARAMICROSS", "Harami Cross"),
    _p("CDLHIGHWAVE", "High Wave Candle", "neutral"),
    _p("CDLHIKKAKE", "Hikkake"),
    _p("CDLHIKKAKEMOD", "Modified Hikkake"),
    _p("CDLHOMINGPIGEON", "Homing Pigeon", "bullish"),
    _p("CDLIDENTICAL3CROWS", "Identical Three Crows", "bearish"),
    _p("CDLINNECK", "In-Neck", "bearish"),
    _p("CDLINVERTEDHAMMER", "Inverted Hammer", "bullish"),
    _p("CDLKICKING", "Kicking"),
    _p("CDLKICKINGBYLENGTH", "Kicking (by the longer marubozu)"),
    _p("CDLLADDERBOTTOM", "Ladder Bottom", "bullish"),
    _p("CDLLONGLEGGEDDOJI", "Long-Legged Doji", "neutral"),
    _p("CDLLONGLINE", ("Long White Candle", "Long Black Candle")),
    _p("CDLMARUBOZU", ("White Marubozu", "Black Marubozu")),
    _p("CDLMATCHINGLOW", "Matching Low", "bullish"),
    _p("CDLMATHOLD", "Mat Hold"),
    _p("CDLMORNINGDOJISTAR", "Morning Doji Star", "bullish"),
    _p("CDLMORNINGSTAR", "Morning Star", "bullish"),
    _p("CDLONNECK", "On-Neck", "bearish"),
    _p("CDLPIERCING", "Piercing Line", "bullish"),
    _p("CDLRICKSHAWMAN", "Rickshaw Man", "neutral"),
    _p("CDLRISEFALL3METHODS", ("Rising Three Methods", "Falling Three Methods")),
    _p("CDLSEPARATINGLINES", "Separating Lines"),
    _p("CDLSHOOTINGSTAR", "Shooting Star", "bearish"),
    _p("CDLSHORTLINE", "Short Line Candle", "neutral"),
    _p("CDLSPINNINGTOP", "Spinning Top", "neutral"),
    _p("CDLSTALLEDPATTERN", "Stalled Pattern", "bearish"),
    _p("CDLSTICKSANDWICH", "Stick Sandwich", "bullish"),
    _p("CDLTAKURI", "Takuri Line", "bullish"),
    _p("CDLTASUKIGAP", ("Upside Tasuki Gap", "Downside Tasuki Gap")),
    _p("CDLTHRUSTING", "Thrusting", "bearish"),
    _p("CDLTRISTAR", "Tri-Star"),
    _p("CDLUNIQUE3RIVER", "Unique Three River", "bullish"),
    _p("CDLUPSIDEGAP2CROWS", "Upside Gap Two Crows", "bearish"),
    _p("CDLXSIDEGAP3METHODS", ("Upside Gap Three Methods", "Downside Gap Three Methods")),
)
_BY_NAME: dict[str, CandlePattern] = {p.name: p for p in CANDLE_PATTERNS}
_OHLC = ("open", "high", "low", "close")


def pattern_lookback(pattern: CandlePattern) -> int:
    """Bars TA-Lib needs before the first bar it can mark (default penetration)."""
    return talib_lookback(pattern.function, ())


#: history kept before the scanned window so its codes equal those on the full history
_TAIL_MARGIN = max(pattern_lookback(p) for p in CANDLE_PATTERNS) + 8


def _select(names: Iterable[str] | None) -> list[CandlePattern]:
    if names is None:
        return list(CANDLE_PATTERNS)
    chosen = []
    for name in names:
        pattern = _BY_NAME.get(name.lower())
        if pattern is None:
            raise InvalidInput(f"unknown candle pattern {name!r}; names look like 'cdl_doji'")
        chosen.append(pattern)
    return chosen


def candle_patterns(bars: pd.DataFrame, names: Iterable[str] | None = None) -> pd.DataFrame:
    """Integer pattern codes per bar (index of ``bars``; one int32 column per pattern)."""
    arrays = BarArrays(bars)
    inputs = [arrays[c] for c in _OHLC]
    columns = {p.name: getattr(talib, p.function)(*inputs) for p in _select(names)}
    return pd.DataFrame(columns, index=bars.index, copy=False)


def recent_candles(
    bars: pd.DataFrame, lookback: int = 20, names: Iterable[str] | None = None
) -> list[CandleOccurrence]:
    """Patterns completed on the last ``lookback`` bars, oldest first (then by name).

    Only the tail of ``bars`` (``lookback`` plus TA-Lib's warm-up) is scanned; the codes equal
    those computed on the full history.
    """
    if lookback < 1:
        raise InvalidInput(f"lookback must be at least 1 bar, got {lookback}")
    tail = bars.iloc[-(lookback + _TAIL_MARGIN) :]
    codes = candle_patterns(tail, names).iloc[-lookback:]
    times = codes.index
    if isinstance(times, pd.DatetimeIndex):
        times = times.tz_localize("UTC") if times.tz is None else times.tz_convert("UTC")
    found: list[CandleOccurrence] = []
    for name in codes.columns:
        pattern = _BY_NAME[name]
        values = codes[name].to_numpy()
        for i in np.flatnonzero(values):
            code = int(values[i])
            found.append(
                CandleOccurrence(
                    time=times[int(i)],
                    name=name,
                    label=pattern.label(code),
                    direction=pattern.direction(code),
                    strength=abs(code),
                )
            )
    found.sort(key=lambda o: (o.time, o.name))
    return found


def _pattern_fn(function: str) -> Callable[[BarArrays], Outputs]:
    func = getattr(talib, function)

    def run(bars: BarArrays) -> Outputs:
        return (func(bars["open"], bars["high"], bars["low"], bars["close"]),)

    return run


def _describe(p: CandlePattern) -> str:
    if p.reading == "sign":
        return (
            f"{p.bullish_label} (positive) / {p.bearish_label} (negative); "
            f"TA-Lib {p.function}, 0 when absent."
        )
    return f"{p.bullish_label}, a {p.reading} pattern; TA-Lib {p.function}, nonzero when present."


INDICATORS: tuple[Indicator, ...] = tuple(
    Indicator(
        name=p.name,
        category="pattern",
        description=_describe(p),
        inputs=_OHLC,
        params=(),
        outputs=("",),
        fn=_pattern_fn(p.function),
        warmup=functools.partial(talib_lookback, p.function, ()),
        source="talib",
    )
    for p in CANDLE_PATTERNS
)

__all__ = [
    "CANDLE_PATTERNS",
    "INDICATORS",
    "CandleOccurrence",
    "CandlePattern",
    "candle_patterns",
    "recent_candles",
]
