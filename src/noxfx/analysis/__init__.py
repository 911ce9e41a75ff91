"""Technical analysis on bar DataFrames: indicators and candlestick patterns.

Public surface (imported on first use, so ``import noxfx.analysis`` does not load TA-Lib/numba)::

    from noxfx.analysis import compute, parse_spec, list_indicators, recent_candles

* :func:`compute` -- ``compute(bars, ["rsi:14", "macd", "supertrend:10,3"]) -> DataFrame``
* :func:`indicator_specs` / :func:`list_indicators` -- the catalogue (objects / JSON-ready dicts)
* :func:`recent_candles` -- candlestick patterns completed on the last bars

Layout: ``indicators`` (public API), ``_registry`` (catalogue types, naming, spec parsing),
``_talib_catalogue`` (TA-Lib-backed entries), ``native`` (NumPy/numba indicators), ``levels``
(forex-session pivots and VWAP), ``candles`` (TA-Lib patterns), ``nb`` (numba kernels).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from noxfx.analysis.candles import CandleOccurrence, candle_patterns, recent_candles
    from noxfx.analysis.indicators import (
        Indicator,
        IndicatorRequest,
        Param,
        column_names,
        compute,
        get_indicator,
        indicator_specs,
        list_indicators,
        parse_spec,
    )

_LAZY = {
    "CandleOccurrence": "noxfx.analysis.candles",
    "candle_patterns": "noxfx.analysis.candles",
    "recent_candles": "noxfx.analysis.candles",
    "Indicator": "noxfx.analysis.indicators",
    "IndicatorRequest": "noxfx.analysis.indicators",
    "Param": "noxfx.analysis.indicators",
    "column_names": "noxfx.analysis.indicators",
    "compute": "noxfx.analysis.indicators",
    "get_indicator": "noxfx.analysis.indicators",
    "indicator_specs": "noxfx.analysis.indicators",
    "list_indicators": "noxfx.analysis.indicators",
    "parse_spec": "noxfx.analysis.indicators",
}


def __getattr__(name: str) -> Any:
    """Import public names on first use (TA-Lib and numba load only when needed)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'noxfx.analysis' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "CandleOccurrence",
    "Indicator",
    "IndicatorRequest",
    "Param",
    "candle_patterns",
    "column_names",
    "compute",
    "get_indicator",
    "indicator_specs",
    "list_indicators",
    "parse_spec",
    "recent_candles",
]
