"""The operators and built-in functions of the formula language, on NumPy arrays.

Every function here takes per-bar arrays or scalars (which broadcast) and is used twice: by
:mod:`noxfx.analysis.formula_check` to fold constant sub-expressions while parsing, and by
:mod:`noxfx.analysis.formula_eval` on the bars. Conventions:

* numbers are float64; anything that would be infinite (``x / 0``, ``log(0)``) is NaN;
* NaN propagates through arithmetic and every comparison with NaN is false (``!=`` too);
* nothing at bar ``t`` reads a later bar: shifts move values to later bars (``shift``), windows
  end at the current bar (``rolling_extreme``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

ArgKind = Literal["number", "bool", "any", "int"]


@dataclass(frozen=True, slots=True)
class Arg:
    """One parameter of a built-in function.

    ``kind``: ``number`` (numeric series or constant), ``bool`` (condition), ``any``, or ``int``
    (a constant whole number ``>= minimum``). ``default``: ``None`` (required), a number, or a
    column name (for a series argument that may be omitted when the call starts with a constant:
    ``highest(20)`` is ``highest(high, 20)``).
    """

    name: str
    kind: ArgKind
    default: float | str | None = None
    minimum: int = 0


@dataclass(frozen=True, slots=True)
class Builtin:
    """A built-in function's signature and how its result type and lookback follow."""

    name: str
    args: tuple[Arg, ...]
    description: str
    variadic: bool = False  # min/max: any number (>= 2) of ``args[0]``-kind arguments
    result: Literal["same", "series", "condition", "numeric"] = "same"
    extra_lookback: Callable[[tuple[int, ...]], int] = lambda ints: 0
    foldable: bool = False  # constant arguments give a constant (abs, min, sqrt, ...)

    def usage(self) -> str:
        if self.variadic:
            return f"{self.name}(a, b, ...)"
        return f"{self.name}({', '.join(a.name for a in self.args)})"


_X = Arg("x", "number")
_FOLD: dict[str, Any] = {"result": "numeric", "foldable": True}
_N1 = Arg("n", "int", 1, 1)
BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin("abs", (_X,), "absolute value", **_FOLD),
        Builtin("sqrt", (_X,), "square root (NaN below 0)", **_FOLD),
        Builtin("log", (_X,), "natural logarithm (NaN at or below 0)", **_FOLD),
        Builtin("exp", (_X,), "exponential", **_FOLD),
        Builtin("min", (_X,), "smallest of the arguments, bar by bar", variadic=True, **_FOLD),
        Builtin("max", (_X,), "largest of the arguments, bar by bar", variadic=True, **_FOLD),
        Builtin(
            "where",
            (Arg("condition", "bool"), Arg("a", "any"), Arg("b", "any")),
            "a where the condition holds, else b",
            foldable=True,
        ),
        Builtin(
            "shift",
            (Arg("x", "any"), Arg("n", "int", None, 0)),
            "the value n bars ago, like x[n]",
            extra_lookback=lambda ints: ints[0],
        ),
        Builtin(
            "highest",
            (Arg("x", "number", "high"), Arg("n", "int", None, 1)),
            "highest value of the last n bars (this one included)",
            result="series",
            extra_lookback=lambda ints: ints[0] - 1,
        ),
        Builtin(
            "lowest",
            (Arg("x", "number", "low"), Arg("n", "int", None, 1)),
            "lowest value of the last n bars (this one included)",
            result="series",
            extra_lookback=lambda ints: ints[0] - 1,
        ),
        Builtin(
            "change",
            (_X, _N1),
            "x - x[n]",
            result="series",
            extra_lookback=lambda ints: ints[0],
        ),
        Builtin(
            "cross_over",
            (Arg("a", "number"), Arg("b", "number")),
            "a > b on this bar and a <= b on the previous one",
            result="condition",
            extra_lookback=lambda ints: 1,
        ),
        Builtin(
            "cross_under",
            (Arg("a", "number"), Arg("b", "number")),
            "a < b on this bar and a >= b on the previous one",
            result="condition",
            extra_lookback=lambda ints: 1,
        ),
        Builtin(
            "rising",
            (_X, _N1),
            "x above each of its previous n values",
            result="condition",
            extra_lookback=lambda ints: ints[0],
        ),
        Builtin(
            "falling",
            (_X, _N1),
            "x below each of its previous n values",
            result="condition",
            extra_lookback=lambda ints: ints[0],
        ),
    )
}
FUNCTION_ALIASES = {
    "crossover": "cross_over",
    "crossunder": "cross_under",
    "cross_above": "cross_over",
    "cross_below": "cross_under",
    "iff": "where",
}


ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "**"})
COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})
LOGICAL = frozenset({"and", "or"})


def _no_inf(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        values = np.where(np.isinf(values), np.nan, values)
    return values


def arithmetic(op: str, a: npt.ArrayLike, b: npt.ArrayLike) -> np.ndarray:
    """``a op b`` in float64; results that would be infinite (``x / 0``, ``0 ** -1``) are NaN."""
    fa, fb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(all="ignore"):
        if op == "+":
            out = fa + fb
        elif op == "-":
            out = fa - fb
        elif op == "*":
            out = fa * fb
        elif op == "/":
            out = np.where(fb == 0, np.nan, fa / fb)
        elif op == "%":
            out = np.where(fb == 0, np.nan, np.mod(fa, fb))
        else:
            out = np.power(fa, fb)
    return _no_inf(np.asarray(out, dtype=np.float64))


def compare(op: str, a: npt.ArrayLike, b: npt.ArrayLike) -> np.ndarray:
    """``a op b``; any comparison with NaN is false (``!=`` too)."""
    xa, xb = np.asarray(a), np.asarray(b)
    with np.errstate(all="ignore"):
        if op == "<":
            out = xa < xb
        elif op == "<=":
            out = xa <= xb
        elif op == ">":
            out = xa > xb
        elif op == ">=":
            out = xa >= xb
        elif op == "==":
            out = xa == xb
        else:
            out = xa != xb
            if xa.dtype.kind == "f":
                out = out & ~np.isnan(xa)
            if xb.dtype.kind == "f":
                out = out & ~np.isnan(xb)
    return np.asarray(out, dtype=bool)


def logical(op: str, a: npt.ArrayLike, b: npt.ArrayLike) -> np.ndarray:
    """``a and b`` / ``a or b`` element-wise."""
    fn = np.logical_and if op == "and" else np.logical_or
    return np.asarray(fn(a, b), dtype=bool)


def math_function(name: str, args: Sequence[npt.ArrayLike]) -> np.ndarray:
    """``abs sqrt log exp min max where`` on arrays or scalars (NaN propagates, no inf)."""
    with np.errstate(all="ignore"):
        if name == "where":
            cond, a, b = args
            return np.asarray(np.where(np.asarray(cond, dtype=bool), a, b))
        values = [np.asarray(a, dtype=np.float64) for a in args]
        if name == "abs":
            out = np.abs(values[0])
        elif name == "sqrt":
            out = np.sqrt(values[0])
        elif name == "log":
            out = np.log(values[0])
        elif name == "exp":
            out = np.exp(values[0])
        elif name == "min":
            out = functools.reduce(np.minimum, values)
        else:
            out = functools.reduce(np.maximum, values)
    return _no_inf(np.asarray(out, dtype=np.float64))


def shift(values: np.ndarray, bars: int) -> np.ndarray:
    """``out[t] = values[t - bars]``; the first ``bars`` values are NaN (false for conditions)."""
    n = values.shape[0]
    out = np.zeros(n, dtype=bool) if values.dtype == bool else np.full(n, np.nan)
    if bars < n:
        out[bars:] = values[: n - bars]
    return out


def rolling_extreme(values: np.ndarray, bars: int, highest: bool) -> np.ndarray:
    """Max (or min) of the last ``bars`` values including the current one; NaN until ``bars``
    values are available and wherever the window holds a NaN."""
    window = pd.Series(values, copy=False).rolling(bars, min_periods=bars)
    result = window.max() if highest else window.min()
    return np.asarray(result.to_numpy(dtype=np.float64))


def series_function(name: str, args: Sequence[np.ndarray], bars: int) -> np.ndarray:
    """``shift highest lowest change cross_over cross_under rising falling`` on per-bar arrays
    (``bars``: the function's whole-number argument ``n``, when it has one)."""
    if name == "shift":
        return shift(args[0], bars)
    x = args[0].astype(np.float64, copy=False)
    if name in ("highest", "lowest"):
        return rolling_extreme(x, bars, highest=name == "highest")
    if name == "change":
        return arithmetic("-", x, shift(x, bars))
    if name in ("rising", "falling"):
        previous = rolling_extreme(shift(x, 1), bars, highest=name == "rising")
        return compare(">" if name == "rising" else "<", x, previous)
    b = args[1].astype(np.float64, copy=False)
    if name == "cross_over":
        return compare(">", x, b) & compare("<=", shift(x, 1), shift(b, 1))
    if name == "cross_under":
        return compare("<", x, b) & compare(">=", shift(x, 1), shift(b, 1))
    raise ValueError(f"unknown built-in function {name!r}")


__all__ = [
    "ARITHMETIC",
    "BUILTINS",
    "COMPARISONS",
    "FUNCTION_ALIASES",
    "LOGICAL",
    "Arg",
    "Builtin",
    "arithmetic",
    "compare",
    "logical",
    "math_function",
    "rolling_extreme",
    "series_function",
    "shift",
]
