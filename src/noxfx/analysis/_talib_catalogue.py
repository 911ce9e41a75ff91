"""Indicators computed by TA-Lib, described once in a table.

Each entry maps our parameter names (in column-name order) to TA-Lib keyword arguments; any
TA-Lib argument we do not expose is fixed in ``fixed`` (e.g. moving-average types: SMA for the
Bollinger middle band and the stochastic smoothing, EMA for PPO/APO as charting packages do).
The wrapper adds no copies: TA-Lib receives the contiguous float64 columns from
:class:`~noxfx.analysis._registry.BarArrays` and its result arrays become the output columns.

Units: prices in the quote currency like the input, periods in bars, oscillators in their usual
0..100 (RSI, stochastics, MFI, ADX, Aroon, ...) or ±100 (Williams %R is -100..0, CCI unbounded)
scales, ``atr``/``trange``/``stddev`` in price units, ``natr`` in percent of close.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import talib
import talib.abstract

from noxfx.analysis._registry import (
    BarArrays,
    Category,
    Indicator,
    Outputs,
    Param,
    ParamValue,
    factor,
    period,
)

_HLC = ("high", "low", "close")
_HL = ("high", "low")
_C = ("close",)
_HLCV = ("high", "low", "close", "volume")
_OHLC = ("open", "high", "low", "close")

#: one TA-Lib keyword per parameter, or several that receive the same value
TalibArg = str | tuple[str, ...]


@functools.lru_cache(maxsize=1024)
def talib_lookback(function: str, kwargs: tuple[tuple[str, ParamValue], ...]) -> int:
    """TA-Lib's own count of leading bars without output for these arguments."""
    fn = talib.abstract.Function(function)  # type: ignore[attr-defined]
    fn.set_parameters(**dict(kwargs))
    return int(fn.lookback)


def _kwargs(
    talib_args: Sequence[TalibArg], fixed: dict[str, ParamValue], values: Sequence[ParamValue]
) -> dict[str, ParamValue]:
    kwargs = dict(fixed)
    for arg, value in zip(talib_args, values, strict=True):
        for key in (arg,) if isinstance(arg, str) else arg:
            kwargs[key] = value
    return kwargs


def talib_indicator(
    name: str,
    function: str,
    category: Category,
    description: str,
    inputs: tuple[str, ...],
    params: tuple[Param, ...] = (),
    outputs: tuple[str, ...] = ("",),
    talib_args: tuple[TalibArg, ...] = ("timeperiod",),
    fixed: dict[str, ParamValue] | None = None,
) -> Indicator:
    """Describe a TA-Lib function as a catalogue :class:`Indicator`."""
    func = getattr(talib, function)
    fixed_args = dict(fixed or {})
    args = talib_args[: len(params)]

    def run(bars: BarArrays, *values: ParamValue) -> Outputs:
        kwargs = _kwargs(args, fixed_args, values)
        result = func(*[bars[c] for c in inputs], **kwargs)
        arrays: Outputs = result if isinstance(result, tuple) else (result,)
        if arrays[0].dtype.kind == "i":  # HT_TRENDMODE: integer flags, warm-up as NaN
            lookback = talib_lookback(function, tuple(sorted(kwargs.items())))
            floats = tuple(a.astype(np.float64) for a in arrays)
            for a in floats:
                a[:lookback] = np.nan
            return floats
        return arrays

    def warmup(*values: ParamValue) -> int:
        return talib_lookback(function, tuple(sorted(_kwargs(args, fixed_args, values).items())))

    return Indicator(
        name=name,
        category=category,
        description=description,
        inputs=inputs,
        params=params,
        outputs=outputs,
        fn=run,
        warmup=warmup,
        source="talib",
    )


def _p1(default: int, minimum: int = 2) -> tuple[Param, ...]:
    return (period(default, minimum=minimum),)


_FAST_SLOW = ("fastperiod", "slowperiod")


def _overlap() -> list[Indicator]:
    ma = "moving average of close"
    return [
        talib_indicator("sma", "SMA", "overlap", f"Simple {ma}.", _C, _p1(20)),
        talib_indicator("ema", "EMA", "overlap", f"Exponential {ma} (SMA-seeded).", _C, _p1(20)),
        talib_indicator("wma", "WMA", "overlap", f"Linearly weighted {ma}.", _C, _p1(20)),
        talib_indicator("dema", "DEMA", "overlap", f"Double exponential {ma}.", _C, _p1(20)),
        talib_indicator("tema", "TEMA", "overlap", f"Triple exponential {ma}.", _C, _p1(20)),
        talib_indicator("trima", "TRIMA", "overlap", f"Triangular {ma}.", _C, _p1(20)),
        talib_indicator("kama", "KAMA", "overlap", f"Kaufman adaptive {ma}.", _C, _p1(10)),
        talib_indicator(
            "t3",
            "T3",
            "overlap",
            f"Tillson T3 {ma} (six chained EMAs with volume factor).",
            _C,
            (period(5), factor(0.7, "vfactor", 0.0, 1.0, "volume factor")),
            talib_args=("timeperiod", "vfactor"),
        ),
        talib_indicator(
            "mama",
            "MAMA",
            "overlap",
            "MESA adaptive moving average of close; `fama` is the following average.",
            _C,
            (
                factor(0.5, "fastlimit", 0.01, 0.99, "upper limit of the adaptive alpha"),
                factor(0.05, "slowlimit", 0.01, 0.99, "lower limit of the adaptive alpha"),
            ),
            outputs=("", "fama"),
            talib_args=("fastlimit", "slowlimit"),
        ),
        talib_indicator(
            "ht_trendline",
            "HT_TRENDLINE",
            "overlap",
            "Hilbert-transform instantaneous trendline of close.",
            _C,
        ),
        talib_indicator(
            "midpoint",
            "MIDPOINT",
            "overlap",
            "(highest + lowest close) / 2 over the period.",
            _C,
            _p1(14),
        ),
        talib_indicator(
            "midprice",
            "MIDPRICE",
            "overlap",
            "(highest high + lowest low) / 2 over the period.",
            _HL,
            _p1(14),
        ),
        talib_indicator(
            "linearreg",
            "LINEARREG",
            "overlap",
            "End point of the least-squares line through the last `period` closes.",
            _C,
            _p1(14),
        ),
        talib_indicator(
            "linearreg_intercept",
            "LINEARREG_INTERCEPT",
            "overlap",
            "Intercept (value at the oldest bar of the window) of the least-squares line.",
            _C,
            _p1(14),
        ),
        talib_indicator(
            "tsf",
            "TSF",
            "overlap",
            "Time-series forecast: the least-squares line extended one bar ahead.",
            _C,
            _p1(14),
        ),
        talib_indicator(
            "bbands",
            "BBANDS",
            "volatility",
            "Bollinger bands: SMA(close) ± nbdev population standard deviations.",
            _C,
            (period(20), factor(2.0, "nbdev", 0.01, 50.0, "band width in standard deviations")),
            outputs=("upper", "middle", "lower"),
            talib_args=("timeperiod", ("nbdevup", "nbdevdn")),
            fixed={"matype": 0},
        ),
        talib_indicator(
            "sar",
            "SAR",
            "trend",
            "Parabolic stop-and-reverse (Wilder): a trailing stop in price units.",
            _HL,
            (
                factor(0.02, "acceleration", 0.001, 1.0, "acceleration factor step"),
                factor(0.2, "maximum", 0.001, 10.0, "acceleration factor cap"),
            ),
            talib_args=("acceleration", "maximum"),
        ),
        talib_indicator("avgprice", "AVGPRICE", "overlap", "(open+high+low+close)/4.", _OHLC),
        talib_indicator("medprice", "MEDPRICE", "overlap", "Median price (high+low)/2.", _HL),
        talib_indicator(
            "typprice", "TYPPRICE", "overlap", "Typical price (high+low+close)/3.", _HLC
        ),
        talib_indicator(
            "wclprice", "WCLPRICE", "overlap", "Weighted close (high+low+2*close)/4.", _HLC
        ),
    ]


def _momentum() -> list[Indicator]:
    fast_slow = (period(12, name="fast"), period(26, name="slow"))
    return [
        talib_indicator(
            "rsi", "RSI", "momentum", "Wilder's relative strength index, 0..100.", _C, _p1(14)
        ),
        talib_indicator(
            "macd",
            "MACD",
            "momentum",
            "EMA(fast) - EMA(slow) of close in price units; signal = EMA(signal) of it; "
            "hist = macd - signal.",
            _C,
            (*fast_slow, period(9, name="signal", minimum=1)),
            outputs=("", "signal", "hist"),
            talib_args=("fastperiod", "slowperiod", "signalperiod"),
        ),
        talib_indicator(
            "stoch",
            "STOCH",
            "momentum",
            "Slow stochastic oscillator 0..100: %K smoothed by SMA(k_smooth), %D = SMA(d) of %K.",
            _HLC,
            (
                period(14, name="k_period", minimum=1),
                period(3, name="k_smooth", minimum=1),
                period(3, name="d_period", minimum=1),
            ),
            outputs=("k", "d"),
            talib_args=("fastk_period", "slowk_period", "slowd_period"),
            fixed={"slowk_matype": 0, "slowd_matype": 0},
        ),
        talib_indicator(
            "stochf",
            "STOCHF",
            "momentum",
            "Fast stochastic oscillator 0..100: raw %K and %D = SMA(d) of it.",
            _HLC,
            (period(14, name="k_period", minimum=1), period(3, name="d_period", minimum=1)),
            outputs=("k", "d"),
            talib_args=("fastk_period", "fastd_period"),
            fixed={"fastd_matype": 0},
        ),
        talib_indicator(
            "stochrsi",
            "STOCHRSI",
            "momentum",
            "Stochastic of RSI(period) over k_period bars, 0..100; %D = SMA(d) of %K.",
            _C,
            (
                period(14),
                period(14, name="k_period", minimum=1),
                period(3, name="d_period", minimum=1),
            ),
            outputs=("k", "d"),
            talib_args=("timeperiod", "fastk_period", "fastd_period"),
            fixed={"fastd_matype": 0},
        ),
        talib_indicator(
            "cci",
            "CCI",
            "momentum",
            "Commodity channel index (typical price vs its mean deviation).",
            _HLC,
            _p1(20),
        ),
        talib_indicator(
            "mfi",
            "MFI",
            "momentum",
            "Money flow index 0..100 (volume-weighted RSI of typical price).",
            _HLCV,
            _p1(14),
        ),
        talib_indicator(
            "mom",
            "MOM",
            "momentum",
            "close - close[period bars ago], price units.",
            _C,
            _p1(10, minimum=1),
        ),
        talib_indicator(
            "roc", "ROC", "momentum", "Rate of change in percent.", _C, _p1(10, minimum=1)
        ),
        talib_indicator(
            "rocp", "ROCP", "momentum", "Rate of change as a fraction.", _C, _p1(10, minimum=1)
        ),
        talib_indicator(
            "rocr",
            "ROCR",
            "momentum",
            "Ratio close / close[period bars ago].",
            _C,
            _p1(10, minimum=1),
        ),
        talib_indicator("willr", "WILLR", "momentum", "Williams %R, -100..0.", _HLC, _p1(14)),
        talib_indicator(
            "ultosc",
            "ULTOSC",
            "momentum",
            "Ultimate oscillator 0..100 from three buying-pressure averages.",
            _HLC,
            (
                period(7, name="period1", minimum=1),
                period(14, name="period2", minimum=1),
                period(28, name="period3", minimum=1),
            ),
            talib_args=("timeperiod1", "timeperiod2", "timeperiod3"),
        ),
        talib_indicator(
            "trix",
            "TRIX",
            "momentum",
            "1-bar rate of change (percent) of a triple EMA of close.",
            _C,
            _p1(15, minimum=1),
        ),
        talib_indicator(
            "bop", "BOP", "momentum", "Balance of power (close-open)/(high-low), -1..1.", _OHLC
        ),
        talib_indicator(
            "cmo", "CMO", "momentum", "Chande momentum oscillator, -100..100.", _C, _p1(14)
        ),
        talib_indicator(
            "ppo",
            "PPO",
            "momentum",
            "Percentage price oscillator: (EMA(fast) - EMA(slow)) / EMA(slow) * 100.",
            _C,
            fast_slow,
            talib_args=_FAST_SLOW,
            fixed={"matype": 1},
        ),
        talib_indicator(
            "apo",
            "APO",
            "momentum",
            "Absolute price oscillator: EMA(fast) - EMA(slow), price units.",
            _C,
            fast_slow,
            talib_args=_FAST_SLOW,
            fixed={"matype": 1},
        ),
    ]


def _trend() -> list[Indicator]:
    return [
        talib_indicator(
            "adx", "ADX", "trend", "Average directional index 0..100 (strength).", _HLC, _p1(14)
        ),
        talib_indicator(
            "adxr", "ADXR", "trend", "ADX rating: mean of ADX now and period ago.", _HLC, _p1(14)
        ),
        talib_indicator(
            "plus_di",
            "PLUS_DI",
            "trend",
            "+DI directional indicator 0..100.",
            _HLC,
            _p1(14, minimum=1),
        ),
        talib_indicator(
            "minus_di",
            "MINUS_DI",
            "trend",
            "-DI directional indicator 0..100.",
            _HLC,
            _p1(14, minimum=1),
        ),
        talib_indicator(
            "plus_dm", "PLUS_DM", "trend", "Smoothed +DM, price units.", _HL, _p1(14, minimum=1)
        ),
        talib_indicator(
            "minus_dm", "MINUS_DM", "trend", "Smoothed -DM, price units.", _HL, _p1(14, minimum=1)
        ),
        talib_indicator("dx", "DX", "trend", "Directional movement index 0..100.", _HLC, _p1(14)),
        talib_indicator(
            "aroon",
            "AROON",
            "trend",
            "Aroon down/up 0..100: bars since the lowest low / highest high.",
            _HL,
            _p1(14),
            outputs=("down", "up"),
        ),
        talib_indicator(
            "aroonosc", "AROONOSC", "trend", "Aroon up - Aroon down, -100..100.", _HL, _p1(14)
        ),
        talib_indicator(
            "linearreg_slope",
            "LINEARREG_SLOPE",
            "trend",
            "Slope of the least-squares line, price units per bar.",
            _C,
            _p1(14),
        ),
        talib_indicator(
            "linearreg_angle",
            "LINEARREG_ANGLE",
            "trend",
            "Angle of the least-squares line in degrees (price units per bar).",
            _C,
            _p1(14),
        ),
        talib_indicator(
            "ht_dcperiod",
            "HT_DCPERIOD",
            "trend",
            "Hilbert transform dominant cycle period, bars.",
            _C,
        ),
        talib_indicator(
            "ht_dcphase",
            "HT_DCPHASE",
            "trend",
            "Hilbert transform dominant cycle phase, degrees.",
            _C,
        ),
        talib_indicator(
            "ht_phasor",
            "HT_PHASOR",
            "trend",
            "Hilbert transform phasor components.",
            _C,
            outputs=("inphase", "quadrature"),
        ),
        talib_indicator(
            "ht_sine",
            "HT_SINE",
            "trend",
            "Hilbert transform sine wave.",
            _C,
            outputs=("sine", "leadsine"),
        ),
        talib_indicator(
            "ht_trendmode",
            "HT_TRENDMODE",
            "trend",
            "Hilbert transform trend (1) vs cycle (0) mode.",
            _C,
        ),
    ]


def _volatility_volume() -> list[Indicator]:
    return [
        talib_indicator(
            "atr",
            "ATR",
            "volatility",
            "Average true range (Wilder smoothing), price units.",
            _HLC,
            _p1(14, minimum=1),
        ),
        talib_indicator(
            "natr", "NATR", "volatility", "ATR as a percent of close.", _HLC, _p1(14, minimum=1)
        ),
        talib_indicator(
            "trange", "TRANGE", "volatility", "True range of each bar, price units.", _HLC
        ),
        talib_indicator(
            "stddev",
            "STDDEV",
            "volatility",
            "Population standard deviation of close, price units.",
            _C,
            _p1(20),
            fixed={"nbdev": 1.0},
        ),
        talib_indicator(
            "var",
            "VAR",
            "volatility",
            "Population variance of close.",
            _C,
            _p1(20, minimum=1),
            fixed={"nbdev": 1.0},
        ),
        talib_indicator(
            "obv",
            "OBV",
            "volume",
            "On-balance volume (cumulative signed volume).",
            ("close", "volume"),
        ),
        talib_indicator("ad", "AD", "volume", "Chaikin accumulation/distribution line.", _HLCV),
        talib_indicator(
            "adosc",
            "ADOSC",
            "volume",
            "Chaikin A/D oscillator: EMA(fast) - EMA(slow) of the A/D line.",
            _HLCV,
            (period(3, name="fast"), period(10, name="slow")),
            talib_args=_FAST_SLOW,
        ),
    ]


INDICATORS: tuple[Indicator, ...] = (
    *_overlap(),
    *_momentum(),
    *_trend(),
    *_volatility_volume(),
)

__all__ = ["INDICATORS", "talib_indicator", "talib_lookback"]
