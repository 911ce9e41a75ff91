"""The indicator catalogue: parameters, outputs, column naming and spec parsing.

One naming scheme for every output column::

    <indicator>[_<param>...][_<output>]

* parameters in declaration order, integers as written, floats without a trailing ``.0``
  (``2.0 -> "2"``, ``2.5 -> "2.5"``, never scientific notation);
* the output suffix is omitted for an indicator's primary output (``rsi_14``,
  ``supertrend_10_3``) and present for the others (``supertrend_10_3_direction``,
  ``macd_12_26_9_signal``, ``bbands_20_2_upper``).

A *spec* is what a person writes to ask for an indicator. These all mean the same request::

    "bbands:20,2"   "bbands_20_2"   "BBANDS(20, 2)"   "bbands:period=20,nbdev=2"

Omitted parameters take their defaults (``"macd"`` is ``macd_12_26_9``). Malformed specs raise
:class:`~noxfx.errors.InvalidInput` naming the indicator and its allowed parameters.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.errors import InvalidBars, InvalidInput

Category = Literal["trend", "momentum", "volatility", "volume", "overlap", "pattern", "levels"]
CATEGORIES: tuple[Category, ...] = (
    "trend",
    "momentum",
    "volatility",
    "volume",
    "overlap",
    "pattern",
    "levels",
)
ParamValue = int | float
FloatArray = npt.NDArray[np.float64]
#: what an indicator function returns: one array per declared output, in order
Outputs = tuple[np.ndarray, ...]

#: a few everyday names people type for an indicator we file under another name
ALIASES: dict[str, str] = {
    "bb": "bbands",
    "bollinger": "bbands",
    "hull": "hma",
    "psar": "sar",
    "kc": "keltner",
    "keltner_channels": "keltner",
    "heikin_ashi": "ha",
    "heikinashi": "ha",
    "bull_bear_power": "elder",
    "bullbear": "elder",
    "elder_ray": "elder",
    "stochastic": "stoch",
    "williams_r": "willr",
    "momentum": "mom",
    "choppiness": "chop",
    "chande_kroll": "chandekroll",
    "pivots": "pivot_classic",
    "pivot": "pivot_classic",
}


def format_value(value: ParamValue) -> str:
    """Write a parameter value as it appears in a column name (``2.0 -> "2"``, ``0.02``)."""
    if isinstance(value, bool):  # bool is an int subclass; never a valid parameter here
        raise TypeError("boolean parameter values are not supported")
    if isinstance(value, int):
        return str(value)
    text: str = np.format_float_positional(float(value), trim="-")
    return text


@dataclass(frozen=True, slots=True)
class Param:
    """One numeric parameter of an indicator, with its inclusive range.

    ``type`` is ``"int"`` (periods, in bars) or ``"float"`` (multipliers, factors).
    """

    name: str
    default: ParamValue
    min: ParamValue
    max: ParamValue
    type: Literal["int", "float"] = "int"
    description: str = ""

    def describe(self) -> str:
        """``"period: int 2..100000, default 14"``."""
        lo, hi, dflt = format_value(self.min), format_value(self.max), format_value(self.default)
        return f"{self.name}: {self.type} {lo}..{hi}, default {dflt}"

    def coerce(self, raw: str | ParamValue, indicator: str, usage: str) -> ParamValue:
        """Parse and range-check one value; ``InvalidInput`` names the indicator on failure."""
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"{indicator}: {self.name} must be a number, got {raw!r}. {usage}"
            ) from None
        if not math.isfinite(number):
            raise InvalidInput(f"{indicator}: {self.name} must be finite, got {raw!r}. {usage}")
        value: ParamValue
        if self.type == "int":
            if not number.is_integer():
                raise InvalidInput(
                    f"{indicator}: {self.name} must be a whole number, got {raw!r}. {usage}"
                )
            value = int(number)
        else:
            value = number
        if not self.min <= value <= self.max:
            raise InvalidInput(
                f"{indicator}: {self.name}={format_value(value)} is out of range "
                f"{format_value(self.min)}..{format_value(self.max)}. {usage}"
            )
        return value


def period(
    default: int, *, name: str = "period", minimum: int = 2, maximum: int = 100_000
) -> Param:
    """A look-back length in bars (the common case)."""
    return Param(name, default, minimum, maximum, "int", "look-back length in bars")


def factor(default: float, name: str, minimum: float, maximum: float, description: str) -> Param:
    """A float parameter (band width in ATRs or standard deviations, acceleration, ...)."""
    return Param(name, float(default), float(minimum), float(maximum), "float", description)


class BarArrays:
    """The columns of one bar frame as contiguous float64 arrays, each extracted on first use.

    Indicator functions receive this instead of the DataFrame so that no column is copied more
    than once per :func:`~noxfx.analysis.indicators.compute` call, and none is copied at all when
    the frame already holds float64 (the usual case). Derived per-bar data that several
    indicators share (the forex session of each bar) is memoised with :meth:`cached`.
    """

    __slots__ = ("_arrays", "_cache", "frame")

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._arrays: dict[str, FloatArray] = {}
        self._cache: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, column: str) -> FloatArray:
        array = self._arrays.get(column)
        if array is None:
            if column not in self.frame.columns:
                raise InvalidBars(
                    f"bars have no {column!r} column (columns: {', '.join(map(str, self.frame))})"
                )
            array = np.ascontiguousarray(self.frame[column].to_numpy(dtype=np.float64))
            self._arrays[column] = array
        return array

    @property
    def index(self) -> pd.Index:
        return self.frame.index

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        """Return ``make()``, computed once per bar frame."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


#: ``fn(bars, *param_values) -> one array per output``
IndicatorFn = Callable[..., Outputs]


@dataclass(frozen=True, slots=True)
class Indicator:
    """A catalogue entry: what an indicator needs, takes and returns.

    ``outputs`` are column suffixes in the order ``fn`` returns them; ``""`` is the primary output
    (its column is the bare label). ``warmup(*values)`` is the number of leading bars whose value
    is undefined (NaN; 0 for candle patterns), so at least ``warmup + 1`` bars are needed.
    """

    name: str
    category: Category
    description: str
    inputs: tuple[str, ...]
    params: tuple[Param, ...]
    outputs: tuple[str, ...]
    fn: IndicatorFn = field(repr=False, compare=False)
    warmup: Callable[..., int] = field(repr=False, compare=False)
    source: Literal["talib", "noxfx"] = "noxfx"

    @property
    def defaults(self) -> tuple[ParamValue, ...]:
        return tuple(p.default for p in self.params)

    def usage(self) -> str:
        """One sentence listing the allowed parameters, for error messages and help."""
        if not self.params:
            return f"{self.name} takes no parameters."
        return f"{self.name} takes ({'; '.join(p.describe() for p in self.params)})."

    def label(self, values: Iterable[ParamValue]) -> str:
        """``rsi_14``: the indicator name followed by its parameter values."""
        return "_".join([self.name, *(format_value(v) for v in values)])

    def columns(self, values: Iterable[ParamValue] | None = None) -> tuple[str, ...]:
        """Output column names for these parameter values (defaults when omitted)."""
        base = self.label(self.defaults if values is None else values)
        return tuple(f"{base}_{out}" if out else base for out in self.outputs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (what ``noxfx indicators list --json`` prints)."""
        return {
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "inputs": list(self.inputs),
            "parameters": [
                {
                    "name": p.name,
                    "type": p.type,
                    "default": p.default,
                    "min": p.min,
                    "max": p.max,
                    "description": p.description,
                }
                for p in self.params
            ],
            "outputs": list(self.columns()),
            "warmup_bars": self.warmup(*self.defaults),
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class IndicatorRequest:
    """A parsed spec: one indicator with all its parameter values bound."""

    indicator: Indicator
    values: tuple[ParamValue, ...]

    @property
    def label(self) -> str:
        return self.indicator.label(self.values)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.indicator.columns(self.values)

    @property
    def warmup(self) -> int:
        return self.indicator.warmup(*self.values)

    def compute(self, bars: BarArrays) -> Outputs:
        return self.indicator.fn(bars, *self.values)


_CALL_RE = re.compile(r"^([a-z][a-z0-9_]*)\s*\((.*)\)$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class Registry:
    """Indicators by name, and the parser from spec strings to :class:`IndicatorRequest`."""

    def __init__(self, indicators: Iterable[Indicator]) -> None:
        self._by_name: dict[str, Indicator] = {}
        for ind in indicators:
            if ind.name in self._by_name:
                raise ValueError(f"indicator {ind.name!r} registered twice")
            if not _NAME_RE.match(ind.name):
                raise ValueError(f"bad indicator name {ind.name!r}")
            self._by_name[ind.name] = ind
        # longest first, so "linearreg_slope_14" is not read as "linearreg" + ("slope", "14")
        self._names_longest_first = sorted([*self._by_name, *ALIASES], key=lambda n: (-len(n), n))

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Indicator:
        """The indicator called ``name`` (case-insensitive, aliases accepted)."""
        key = name.strip().lower().replace("-", "_")
        key = ALIASES.get(key, key)
        ind = self._by_name.get(key)
        if ind is None:
            raise InvalidInput(self._unknown_message(name))
        return ind

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name.lower(), [*self._by_name, *ALIASES], n=4, cutoff=0.6)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        return f"unknown indicator {name!r}.{hint} See `noxfx indicators list` for the catalogue."

    def parse(self, spec: str) -> IndicatorRequest:
        """Parse ``"rsi:14"``, ``"rsi_14"``, ``"RSI(14)"`` or ``"rsi"`` into a request."""
        if not isinstance(spec, str) or not spec.strip():
            raise InvalidInput(f"empty indicator spec {spec!r}; write e.g. 'rsi:14'")
        text = spec.strip().lower().replace("-", "_")
        name: str
        args: list[str]
        if (match := _CALL_RE.match(text)) is not None:
            name, args = match.group(1), _split_args(match.group(2))
        elif ":" in text:
            name, _, rest = text.partition(":")
            name, args = name.strip(), _split_args(rest)
        else:
            name, args = self._split_underscored(text)
        return self._bind(self.get(name), args)

    def _split_underscored(self, text: str) -> tuple[str, list[str]]:
        """``"plus_di_14"`` -> ``("plus_di", ["14"])`` by the longest known name prefix."""
        text = text.replace(" ", "")
        for name in self._names_longest_first:
            if text == name:
                return name, []
            if text.startswith(name + "_"):
                return name, text[len(name) + 1 :].split("_")
        return text, []  # unknown: let get() produce the suggestion message

    @staticmethod
    def _bind(ind: Indicator, args: list[str]) -> IndicatorRequest:
        usage = ind.usage()
        values: list[ParamValue] = list(ind.defaults)
        names = [p.name for p in ind.params]
        positional = [a for a in args if "=" not in a]
        if len(positional) > len(ind.params):
            raise InvalidInput(
                f"{ind.name}: too many parameters ({len(positional)} given, "
                f"{len(ind.params)} allowed). {usage}"
            )
        seen_keyword = False
        for position, arg in enumerate(args):
            key, eq, raw = arg.partition("=")
            if eq:
                key = key.strip()
                if key not in names:
                    raise InvalidInput(f"{ind.name}: unknown parameter {key!r}. {usage}")
                slot, seen_keyword = names.index(key), True
            else:
                if seen_keyword:
                    raise InvalidInput(
                        f"{ind.name}: positional value {arg!r} after a keyword one. {usage}"
                    )
                slot, raw = position, key
            if raw.strip() == "":
                continue  # "macd:12,,9" keeps the default for the empty slot
            values[slot] = ind.params[slot].coerce(raw.strip(), ind.name, usage)
        return IndicatorRequest(ind, tuple(values))

    def to_rows(self, category: str | None = None) -> list[dict[str, Any]]:
        """Catalogue rows (see :meth:`Indicator.to_dict`), optionally one category only."""
        if category is not None and category not in CATEGORIES:
            raise InvalidInput(
                f"unknown category {category!r}; choose one of {', '.join(CATEGORIES)}"
            )
        return [
            ind.to_dict()
            for ind in sorted(self._by_name.values(), key=lambda i: (i.category, i.name))
            if category is None or ind.category == category
        ]


def _split_args(text: str) -> list[str]:
    text = text.strip()
    return [] if not text else [a.strip() for a in text.split(",")]


def shift_forward(values: FloatArray, bars: int) -> FloatArray:
    """``out[t] = values[t - bars]`` (NaN for the first ``bars``): a value moved to a later bar."""
    out = np.full(values.shape[0], np.nan)
    if bars < values.shape[0]:
        out[bars:] = values[: values.shape[0] - bars]
    return out


def safe_divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """``numerator / denominator`` with NaN (not inf) where the denominator is zero or NaN."""
    out = np.full(numerator.shape[0], np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out
