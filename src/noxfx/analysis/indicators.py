"""Technical indicators: the catalogue and the one function that computes them.

>>> frame = compute(bars, ["rsi:14", "macd", "bbands:20,2", "supertrend"])
>>> list(frame.columns)[:4]
['rsi_14', 'macd_12_26_9', 'macd_12_26_9_signal', 'macd_12_26_9_hist']

``bars`` is a DataFrame indexed by the UTC bar *open* time (tz-aware ``DatetimeIndex`` named
``time``) with float64 columns ``open, high, low, close, volume``. The result has the same index
and one column per indicator output, named as described in :mod:`noxfx.analysis._registry`
(``rsi_14``, ``bbands_20_2_upper``, ``supertrend_10_3_direction``, ``cdl_engulfing``, ...).
Warm-up rows are NaN (0 for candle patterns). Every value at row ``t`` is computed from rows
``<= t`` only, so computing on ``bars[:n]`` gives the first ``n`` rows of computing on ``bars``
(tests check this for every indicator).

Sources: TA-Lib for what it covers (:mod:`noxfx.analysis._talib_catalogue`, 63 indicators, and
the 61 candle patterns in :mod:`noxfx.analysis.candles`), NumPy/numba for the rest
(:mod:`noxfx.analysis.native`, :mod:`noxfx.analysis.levels`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import pandas as pd

from noxfx.analysis import _talib_catalogue, candles, levels, native
from noxfx.analysis._registry import (
    CATEGORIES,
    BarArrays,
    Category,
    Indicator,
    IndicatorRequest,
    Param,
    Registry,
    format_value,
)
from noxfx.errors import InsufficientData, InvalidBars, InvalidInput

REGISTRY = Registry(
    [
        *_talib_catalogue.INDICATORS,
        *native.INDICATORS,
        *levels.INDICATORS,
        *candles.INDICATORS,
    ]
)

Spec = str | IndicatorRequest

#: parsed specs are immutable, so repeated ``compute`` calls reuse them (errors are not cached)
_parse_cached = functools.lru_cache(maxsize=4096)(REGISTRY.parse)


@functools.lru_cache(maxsize=1024)
def _column_index(names: tuple[str, ...]) -> pd.Index:
    """The result's column Index, built once per column set (an Index is immutable)."""
    return pd.Index(names)


def parse_spec(spec: str) -> IndicatorRequest:
    """Parse ``"rsi:14"`` / ``"rsi_14"`` / ``"RSI(14)"`` / ``"rsi"`` (defaults) into a request.

    Raises :class:`~noxfx.errors.InvalidInput` naming the indicator and its allowed parameters,
    or, for an unknown name, suggesting close ones.
    """
    return _parse_cached(spec)


def get_indicator(name: str) -> Indicator:
    """The catalogue entry called ``name`` (case-insensitive; a few aliases such as ``bb``)."""
    return REGISTRY.get(name)


def indicator_specs(category: Category | None = None) -> list[Indicator]:
    """All catalogue entries (optionally of one category), sorted by category then name."""
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(f"unknown category {category!r}; choose one of {', '.join(CATEGORIES)}")
    return sorted(
        (ind for ind in REGISTRY if category is None or ind.category == category),
        key=lambda ind: (ind.category, ind.name),
    )


def list_indicators(category: str | None = None) -> list[dict[str, Any]]:
    """The catalogue as JSON-ready dicts: name, category, description, inputs, parameters
    (name, type, default, min, max), output columns at the defaults, warm-up bars, source."""
    return REGISTRY.to_rows(category)


def _requests(specs: Iterable[Spec]) -> list[IndicatorRequest]:
    seen: set[str] = set()
    requests: list[IndicatorRequest] = []
    for spec in specs:
        request = spec if isinstance(spec, IndicatorRequest) else _parse_cached(spec)
        if request.label not in seen:
            seen.add(request.label)
            requests.append(request)
    return requests


def column_names(specs: Spec | Iterable[Spec]) -> list[str]:
    """The columns :func:`compute` would return for ``specs``, without computing anything."""
    items = [specs] if isinstance(specs, str | IndicatorRequest) else specs
    return [col for request in _requests(items) for col in request.columns]


def compute(bars: pd.DataFrame, specs: Spec | Iterable[Spec]) -> pd.DataFrame:
    """Compute indicators on ``bars``; one column per output, same index as ``bars``.

    ``specs`` is one spec or a list (duplicates are computed once). Raises
    :class:`~noxfx.errors.InvalidInput` for a bad spec, :class:`~noxfx.errors.InvalidBars` when a
    needed column is missing, and :class:`~noxfx.errors.InsufficientData` when there are fewer
    bars than an indicator's warm-up plus one (its column would hold no value at all).
    """
    items = [specs] if isinstance(specs, str | IndicatorRequest) else specs
    requests = _requests(items)
    if not requests:
        raise InvalidInput("no indicator requested; pass specs such as ['rsi:14', 'macd']")
    n_bars = len(bars)
    for request in requests:
        missing = [c for c in request.indicator.inputs if c not in bars.columns]
        if missing:
            raise InvalidBars(
                f"{request.label} needs column(s) {', '.join(missing)}; "
                f"bars have {', '.join(map(str, bars.columns))}"
            )
        needed = request.warmup + 1
        if n_bars < needed:
            raise InsufficientData(
                f"{request.label} needs at least {needed} bars "
                f"(warm-up {request.warmup}); got {n_bars}"
            )
    arrays = BarArrays(bars)
    names: list[str] = []
    values: list[Any] = []
    for request in requests:
        outputs = request.compute(arrays)
        for name, output in zip(request.columns, outputs, strict=True):
            names.append(name)
            values.append(output)
    # no copies: the result columns are the arrays the indicators returned; the column Index is
    # cached because building a string Index costs as much as a small indicator on 1M bars
    frame = pd.DataFrame(dict(enumerate(values)), index=bars.index, copy=False)
    frame.columns = _column_index(tuple(names))
    return frame


__all__ = [
    "CATEGORIES",
    "REGISTRY",
    "Indicator",
    "IndicatorRequest",
    "Param",
    "column_names",
    "compute",
    "format_value",
    "get_indicator",
    "indicator_specs",
    "list_indicators",
    "parse_spec",
]
