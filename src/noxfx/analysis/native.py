"""Indicators NOX computes itself (NumPy + TA-Lib building blocks + numba kernels).

Each indicator is a plain function on float64 arrays (usable from a notebook) plus a catalogue
entry in :data:`INDICATORS` that :func:`noxfx.analysis.indicators.compute` uses.

Conventions shared by every function here:

* arrays are one value per bar, oldest first; prices in quote-currency units, periods in bars;
* the value at bar ``t`` uses bars ``<= t`` only (no lookahead; channel highs/lows *include* bar
  ``t``, so a breakout test compares ``close[t]`` with the channel at ``t - 1``);
* undefined warm-up values are NaN; divisions by zero give NaN, never inf.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import talib

from noxfx.analysis import nb
from noxfx.analysis._registry import (
    BarArrays,
    Category,
    FloatArray,
    Indicator,
    IndicatorFn,
    Outputs,
    Param,
    factor,
    period,
    safe_divide,
    shift_forward,
)


def _f64(values: np.ndarray) -> FloatArray:
    return np.ascontiguousarray(values, dtype=np.float64)


def _diff(values: FloatArray) -> FloatArray:
    out = np.full(values.shape[0], np.nan)
    out[1:] = np.diff(values)
    return out


def supertrend(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int = 10, multiplier: float = 3.0
) -> tuple[FloatArray, FloatArray]:
    """Supertrend ``(line, direction)``: ATR(period) bands at ``multiplier`` ATRs from hl2.

    ATR is Wilder's (TA-Lib ``ATR``). ``direction`` is +1 (uptrend, line below price, acting as
    support) or -1 (downtrend, line above price). See :func:`noxfx.analysis.nb.supertrend_nb` for
    the band ratchet rules.
    """
    high, low, close = _f64(high), _f64(low), _f64(close)
    atr = talib.ATR(high, low, close, period)
    line, direction = nb.supertrend_nb(high, low, close, atr, float(multiplier))
    return line, direction


def ichimoku(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    tenkan: int = 9,
    kijun: int = 26,
    senkou: int = 52,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Ichimoku Kinko Hyo lines as they are *plotted at* bar ``t`` (no lookahead).

    The displacement is ``kijun`` bars (26 by default), as in Hosoda's original.

    * ``tenkan[t]`` = midpoint of the highest high and lowest low of the last ``tenkan`` bars;
    * ``kijun[t]``  = the same over ``kijun`` bars;
    * ``span_a[t]`` = ``(tenkan + kijun) / 2`` computed at bar ``t - kijun``: the leading span
      that a chart shows above bar ``t`` (it was drawn ``kijun`` bars ahead when computed);
    * ``span_b[t]`` = midpoint over ``senkou`` bars computed at bar ``t - kijun``, likewise;
    * ``chikou[t]`` = ``close[t]``: the newest point of the lagging span, which a chart draws
      ``kijun`` bars back, above bar ``t - kijun``. The classic "chikou above price" test at bar
      ``t`` is therefore ``chikou[t] > close[t - kijun]`` (``close.shift(kijun)``). The
      conventional chikou *series* aligned to its plot position (``close[t + kijun]``) is never
      produced: it would put future closes in past rows.

    The cloud ahead of the last bar (``kijun`` bars of projected spans) is not part of this
    output; shift the unshifted spans yourself when drawing it.
    """
    high, low, close = _f64(high), _f64(low), _f64(close)
    tenkan_line = (talib.MAX(high, tenkan) + talib.MIN(low, tenkan)) / 2.0
    kijun_line = (talib.MAX(high, kijun) + talib.MIN(low, kijun)) / 2.0
    span_a = shift_forward((tenkan_line + kijun_line) / 2.0, kijun)
    span_b = shift_forward((talib.MAX(high, senkou) + talib.MIN(low, senkou)) / 2.0, kijun)
    return tenkan_line, kijun_line, span_a, span_b, close.copy()


def hma(close: FloatArray, period: int = 20) -> FloatArray:
    """Hull moving average: ``WMA(2*WMA(close, n//2) - WMA(close, n), floor(sqrt(n)))``."""
    close = _f64(close)
    raw = 2.0 * talib.WMA(close, period // 2) - talib.WMA(close, period)
    result: FloatArray = talib.WMA(raw, math.isqrt(period))
    return result


def vwma(close: FloatArray, volume: FloatArray, period: int = 20) -> FloatArray:
    """Volume-weighted moving average ``sum(close*volume) / sum(volume)`` over ``period`` bars.

    NaN where the window's volume is zero (sources without volume).
    """
    close, volume = _f64(close), _f64(volume)
    return safe_divide(talib.SUM(close * volume, period), talib.SUM(volume, period))


def keltner(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    period: int = 20,
    multiplier: float = 2.0,
    atr_period: int = 10,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Keltner channel ``(upper, middle, lower)``: EMA(close, period) ± multiplier * ATR."""
    high, low, close = _f64(high), _f64(low), _f64(close)
    middle = talib.EMA(close, period)
    width = multiplier * talib.ATR(high, low, close, atr_period)
    return middle + width, middle, middle - width


def donchian(
    high: FloatArray, low: FloatArray, period: int = 20
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Donchian channel ``(upper, middle, lower)``: highest high / lowest low incl. bar ``t``."""
    upper = talib.MAX(_f64(high), period)
    lower = talib.MIN(_f64(low), period)
    return upper, (upper + lower) / 2.0, lower


def heikin_ashi(
    open_: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Heikin-Ashi ``(open, high, low, close)``; path dependent from the first bar given."""
    ha_open, ha_high, ha_low, ha_close = nb.heikin_ashi_nb(
        _f64(open_), _f64(high), _f64(low), _f64(close)
    )
    return ha_open, ha_high, ha_low, ha_close


def awesome_oscillator(
    high: FloatArray, low: FloatArray, fast: int = 5, slow: int = 34
) -> FloatArray:
    """Bill Williams' awesome oscillator ``SMA(hl2, fast) - SMA(hl2, slow)``, price units."""
    median = (_f64(high) + _f64(low)) / 2.0
    result: FloatArray = talib.SMA(median, fast) - talib.SMA(median, slow)
    return result


def elder_ray(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int = 13
) -> tuple[FloatArray, FloatArray]:
    """Elder-ray ``(bull_power, bear_power)`` = ``(high - EMA(close), low - EMA(close))``."""
    ema = talib.EMA(_f64(close), period)
    return _f64(high) - ema, _f64(low) - ema


def vortex(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14
) -> tuple[FloatArray, FloatArray]:
    """Vortex indicator ``(vi_plus, vi_minus)``: sums of ``|high - prev low|`` and
    ``|low - prev high|`` over ``period`` bars, each divided by the summed true range."""
    high, low, close = _f64(high), _f64(low), _f64(close)
    vm_plus = np.full(high.shape[0], np.nan)
    vm_minus = np.full(high.shape[0], np.nan)
    vm_plus[1:] = np.abs(high[1:] - low[:-1])
    vm_minus[1:] = np.abs(low[1:] - high[:-1])
    tr_sum = talib.SUM(talib.TRANGE(high, low, close), period)
    return (
        safe_divide(talib.SUM(vm_plus, period), tr_sum),
        safe_divide(talib.SUM(vm_minus, period), tr_sum),
    )


def choppiness(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14
) -> FloatArray:
    """Choppiness index 0..100: ``100 * log10(sum(TR) / (highest - lowest)) / log10(period)``.

    Near 100: sideways; near 0: trending. True range from the second bar on (it needs the
    previous close).
    """
    high, low, close = _f64(high), _f64(low), _f64(close)
    tr_sum = talib.SUM(talib.TRANGE(high, low, close), period)
    span = talib.MAX(high, period) - talib.MIN(low, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * np.log10(safe_divide(tr_sum, span)) / math.log10(period)


def zscore(close: FloatArray, period: int = 20) -> FloatArray:
    """``(close - SMA) / population standard deviation`` over ``period`` bars (unitless)."""
    close = _f64(close)
    return safe_divide(close - talib.SMA(close, period), talib.STDDEV(close, period, 1.0))


def chaikin_money_flow(
    high: FloatArray, low: FloatArray, close: FloatArray, volume: FloatArray, period: int = 20
) -> FloatArray:
    """Chaikin money flow, -1..1: summed money-flow volume over summed volume.

    The money-flow multiplier ``((close-low) - (high-close)) / (high-low)`` is 0 for bars with
    ``high == low``.
    """
    high, low, close, volume = _f64(high), _f64(low), _f64(close), _f64(volume)
    multiplier = np.nan_to_num(safe_divide((close - low) - (high - close), high - low), nan=0.0)
    return safe_divide(talib.SUM(multiplier * volume, period), talib.SUM(volume, period))


def force_index(close: FloatArray, volume: FloatArray, period: int = 13) -> FloatArray:
    """Elder's force index: ``EMA((close - previous close) * volume, period)``."""
    result: FloatArray = talib.EMA(_diff(_f64(close)) * _f64(volume), period)
    return result


def dpo(close: FloatArray, period: int = 20) -> FloatArray:
    """Detrended price oscillator, non-centred (no lookahead).

    ``close[t] - SMA(close, period)[t - (period // 2 + 1)]``, price units. The centred textbook
    version compares with a *later* average and cannot be used in signals.
    """
    close = _f64(close)
    return close - shift_forward(talib.SMA(close, period), period // 2 + 1)


def tsi(close: FloatArray, long: int = 25, short: int = 13) -> FloatArray:
    """True strength index, -100..100: doubly EMA-smoothed momentum over its absolute value."""
    momentum = _diff(_f64(close))
    num = talib.EMA(talib.EMA(momentum, long), short)
    den = talib.EMA(talib.EMA(np.abs(momentum), long), short)
    return 100.0 * safe_divide(num, den)


def chande_kroll(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    atr_period: int = 10,
    multiplier: float = 1.0,
    stop_period: int = 9,
) -> tuple[FloatArray, FloatArray]:
    """Chande-Kroll stops ``(long_stop, short_stop)`` (Chande & Kroll, *The New Technical Trader*).

    ``long_stop`` trails *below* price, for long positions:
    ``highest(highest(high, p) - x*ATR(p), q)``; ``short_stop`` trails *above* price, for short
    positions: ``lowest(lowest(low, p) + x*ATR(p), q)`` with ``p = atr_period``,
    ``x = multiplier``, ``q = stop_period``. (TradingView labels the two the other way round.)
    """
    high, low, close = _f64(high), _f64(low), _f64(close)
    atr = talib.ATR(high, low, close, atr_period)
    first_long = talib.MAX(high, atr_period) - multiplier * atr
    first_short = talib.MIN(low, atr_period) + multiplier * atr
    return talib.MAX(first_long, stop_period), talib.MIN(first_short, stop_period)


# ---------------------------------------------------------------------------------------------
# catalogue entries


def _entry(
    name: str,
    category: Category,
    description: str,
    inputs: tuple[str, ...],
    params: tuple[Param, ...],
    outputs: tuple[str, ...],
    fn: IndicatorFn,
    warmup: Callable[..., int],
) -> Indicator:
    return Indicator(name, category, description, inputs, params, outputs, fn, warmup)


_HLC = ("high", "low", "close")


def _run_supertrend(b: BarArrays, p: int, m: float) -> Outputs:
    return supertrend(b["high"], b["low"], b["close"], p, m)


def _run_ichimoku(b: BarArrays, t: int, k: int, s: int) -> Outputs:
    return ichimoku(b["high"], b["low"], b["close"], t, k, s)


def _ichimoku_warmup(t: int, k: int, s: int) -> int:
    return max(t, k, s) - 1 + k


def _run_keltner(b: BarArrays, p: int, m: float, a: int) -> Outputs:
    return keltner(b["high"], b["low"], b["close"], p, m, a)


def _run_chande_kroll(b: BarArrays, p: int, m: float, q: int) -> Outputs:
    return chande_kroll(b["high"], b["low"], b["close"], p, m, q)


def _w(offset: int) -> Callable[[int], int]:
    """Warm-up ``period + offset`` for single-period indicators."""
    return lambda n: n + offset


INDICATORS: tuple[Indicator, ...] = (
    _entry(
        "supertrend",
        "trend",
        "Supertrend trailing line (price units) and direction (+1 up / -1 down), ATR bands.",
        _HLC,
        (period(10, minimum=1), factor(3.0, "multiplier", 0.1, 50.0, "band width in ATRs")),
        ("", "direction"),
        _run_supertrend,
        lambda p, m: p,
    ),
    _entry(
        "ichimoku",
        "trend",
        "Ichimoku lines as plotted at each bar (spans displaced by kijun bars; chikou = close, "
        "drawn kijun bars back): no value depends on later bars.",
        _HLC,
        (period(9, name="tenkan"), period(26, name="kijun"), period(52, name="senkou")),
        ("tenkan", "kijun", "span_a", "span_b", "chikou"),
        _run_ichimoku,
        _ichimoku_warmup,
    ),
    _entry(
        "hma",
        "overlap",
        "Hull moving average of close.",
        ("close",),
        (period(20, minimum=4),),
        ("",),
        lambda b, n: (hma(b["close"], n),),
        lambda n: n - 2 + math.isqrt(n),
    ),
    _entry(
        "vwma",
        "overlap",
        "Volume-weighted moving average of close.",
        ("close", "volume"),
        (period(20),),
        ("",),
        lambda b, n: (vwma(b["close"], b["volume"], n),),
        _w(-1),
    ),
    _entry(
        "keltner",
        "volatility",
        "Keltner channel: EMA(close) ± multiplier * ATR(atr_period).",
        _HLC,
        (
            period(20),
            factor(2.0, "multiplier", 0.1, 50.0, "band width in ATRs"),
            period(10, name="atr_period", minimum=1),
        ),
        ("upper", "middle", "lower"),
        _run_keltner,
        lambda p, m, a: max(p - 1, a),
    ),
    _entry(
        "donchian",
        "trend",
        "Donchian channel: highest high / lowest low incl. the current bar.",
        ("high", "low"),
        (period(20),),
        ("upper", "middle", "lower"),
        lambda b, n: donchian(b["high"], b["low"], n),
        _w(-1),
    ),
    _entry(
        "ha",
        "overlap",
        "Heikin-Ashi candles (smoothed open/high/low/close).",
        ("open", "high", "low", "close"),
        (),
        ("open", "high", "low", "close"),
        lambda b: heikin_ashi(b["open"], b["high"], b["low"], b["close"]),
        lambda: 0,
    ),
    _entry(
        "ao",
        "momentum",
        "Awesome oscillator: SMA(hl2, fast) - SMA(hl2, slow), price units.",
        ("high", "low"),
        (period(5, name="fast"), period(34, name="slow")),
        ("",),
        lambda b, f, s: (awesome_oscillator(b["high"], b["low"], f, s),),
        lambda f, s: max(f, s) - 1,
    ),
    _entry(
        "elder",
        "momentum",
        "Elder-ray bull power (high - EMA) and bear power (low - EMA), price units.",
        _HLC,
        (period(13),),
        ("bull", "bear"),
        lambda b, n: elder_ray(b["high"], b["low"], b["close"], n),
        _w(-1),
    ),
    _entry(
        "vortex",
        "trend",
        "Vortex indicator VI+ and VI- (around 1; VI+ > VI- in uptrends).",
        _HLC,
        (period(14),),
        ("plus", "minus"),
        lambda b, n: vortex(b["high"], b["low"], b["close"], n),
        _w(0),
    ),
    _entry(
        "chop",
        "trend",
        "Choppiness index 0..100 (high: ranging, low: trending).",
        _HLC,
        (period(14),),
        ("",),
        lambda b, n: (choppiness(b["high"], b["low"], b["close"], n),),
        _w(0),
    ),
    _entry(
        "zscore",
        "momentum",
        "Z-score of close against its SMA and standard deviation.",
        ("close",),
        (period(20),),
        ("",),
        lambda b, n: (zscore(b["close"], n),),
        _w(-1),
    ),
    _entry(
        "cmf",
        "volume",
        "Chaikin money flow, -1..1.",
        ("high", "low", "close", "volume"),
        (period(20),),
        ("",),
        lambda b, n: (chaikin_money_flow(b["high"], b["low"], b["close"], b["volume"], n),),
        _w(-1),
    ),
    _entry(
        "efi",
        "volume",
        "Elder's force index: EMA of price change * volume.",
        ("close", "volume"),
        (period(13),),
        ("",),
        lambda b, n: (force_index(b["close"], b["volume"], n),),
        _w(0),
    ),
    _entry(
        "dpo",
        "momentum",
        "Detrended price oscillator (non-centred, no lookahead).",
        ("close",),
        (period(20),),
        ("",),
        lambda b, n: (dpo(b["close"], n),),
        lambda n: n + n // 2,
    ),
    _entry(
        "tsi",
        "momentum",
        "True strength index, -100..100.",
        ("close",),
        (period(25, name="long"), period(13, name="short")),
        ("",),
        lambda b, lo, sh: (tsi(b["close"], lo, sh),),
        lambda lo, sh: lo + sh - 1,
    ),
    _entry(
        "chandekroll",
        "volatility",
        "Chande-Kroll stops: `long` trails below price, `short` above (price units).",
        _HLC,
        (
            period(10, name="atr_period"),
            factor(1.0, "multiplier", 0.1, 50.0, "ATR multiple"),
            period(9, name="stop_period"),
        ),
        ("long", "short"),
        _run_chande_kroll,
        lambda p, m, q: p + q - 1,
    ),
)

__all__ = [
    "INDICATORS",
    "awesome_oscillator",
    "chaikin_money_flow",
    "chande_kroll",
    "choppiness",
    "donchian",
    "dpo",
    "elder_ray",
    "force_index",
    "heikin_ashi",
    "hma",
    "ichimoku",
    "keltner",
    "supertrend",
    "tsi",
    "vortex",
    "vwma",
    "zscore",
]
