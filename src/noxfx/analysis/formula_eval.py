"""Vectorised evaluation of a parsed :class:`~noxfx.analysis.formula_parser.Formula` on bars.

Values are NumPy arrays aligned to the bars (float64 for numbers, bool for conditions) or, for
constants, Python scalars that broadcast. Each distinct computation (same ``key``) runs once per
:func:`evaluate_formula` call, so ``rsi(close, 14) < 30 or rsi(close, 14)[1] > 70`` computes the
RSI once. Nothing at bar ``t`` reads bars after ``t``: shifts only move values to later bars,
windows end at the current bar and indicators come from the registry, which is lookahead-free.

Indicators on a series (``rsi(ema(close, 5), 14)``): the registry computes on bar frames, so
the series is put in the ``close`` column of a temporary frame with the bars' index and the
indicator is computed on that frame through the public
:func:`~noxfx.analysis.indicators.compute`. Only indicators whose sole input is ``close`` accept
a series; TA-Lib skips the series' leading NaN (its warm-up) and starts from the first value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd

from noxfx.analysis.formula_ast import (
    Assign,
    Binary,
    Boolean,
    Column,
    Expr,
    Formula,
    FormulaError,
    FunctionCall,
    Index,
    IndicatorCall,
    Number,
    Select,
    Unary,
    Variable,
)
from noxfx.analysis.formula_functions import (
    ARITHMETIC,
    COMPARISONS,
    arithmetic,
    compare,
    logical,
    math_function,
    series_function,
    shift,
)
from noxfx.errors import InsufficientData, InvalidBars, InvalidInput

if TYPE_CHECKING:
    import numpy.typing as npt

#: a scalar constant or a per-bar array
Plain: TypeAlias = "float | bool | npt.NDArray[Any]"
#: ... or the outputs of a multi-output indicator by suffix
Value: TypeAlias = "Plain | dict[str, npt.NDArray[np.float64]]"


class _Evaluator:
    def __init__(self, formula: Formula, bars: pd.DataFrame) -> None:
        self.formula = formula
        self.bars = bars
        self.n = len(bars)
        self.cache: dict[str, Value] = {}
        self.env: dict[str, Value] = {}

    def error(self, exc: InvalidBars | InvalidInput, node: Expr) -> InvalidBars:
        where = FormulaError(exc.message, self.formula.text, node.pos)
        return InvalidBars(where.message)

    # ------------------------------------------------------------------ conversions
    def array(self, value: Plain) -> np.ndarray:
        """A per-bar array (scalars broadcast to the bars' length)."""
        arr = np.asarray(value)
        if arr.ndim == 0:
            dtype = bool if arr.dtype == bool else np.float64
            return np.full(self.n, arr.item(), dtype=dtype)
        return arr

    def column(self, name: str) -> np.ndarray:
        if name not in self.bars.columns:
            have = ", ".join(map(str, self.bars.columns))
            raise InvalidBars(f"the formula reads the bar column {name!r}; bars have {have}")
        return np.asarray(self.bars[name].to_numpy(dtype=np.float64))

    # ------------------------------------------------------------------ evaluation
    def run(self) -> list[Value]:
        values: list[Value] = []
        for statement in self.formula.statements:
            value = self.eval(statement.value)
            if isinstance(statement, Assign):
                self.env[statement.name] = value
            values.append(value)
        return values

    def plain(self, node: Expr) -> Plain:
        """The value of a node the parser has checked is not a multi-output indicator."""
        value = self.eval(node)
        if isinstance(value, dict):
            raise TypeError("multi-output value used as a series")  # pragma: no cover
        return value

    def eval(self, node: Expr) -> Value:
        if isinstance(node, Number | Boolean):
            return node.value
        if isinstance(node, Variable):
            return self.env[node.name]
        cached = self.cache.get(node.key)
        if cached is None:
            cached = self.compute(node)
            self.cache[node.key] = cached
        return cached

    def compute(self, node: Expr) -> Value:
        if isinstance(node, Column):
            return self.series_input(node)
        if isinstance(node, Unary):
            operand = self.plain(node.operand)
            if node.op == "not":
                return np.logical_not(self.array(operand))
            return arithmetic("-", 0.0, operand)
        if isinstance(node, Binary):
            left, right = self.plain(node.left), self.plain(node.right)
            if node.op in ARITHMETIC:
                return arithmetic(node.op, left, right)
            if node.op in COMPARISONS:
                return compare(node.op, left, right)
            return logical(node.op, left, right)
        if isinstance(node, Index):
            return shift(self.array(self.plain(node.target)), node.bars)
        if isinstance(node, Select):
            target = self.eval(node.target)
            if isinstance(target, dict):
                return target[node.output]
            return target  # a single-output value selected by its own name
        if isinstance(node, IndicatorCall):
            return self.indicator(node)
        if isinstance(node, FunctionCall):
            return self.function(node)
        raise TypeError(f"unknown formula node {type(node).__name__}")  # pragma: no cover

    def series_input(self, node: Column) -> np.ndarray:
        try:
            if node.name == "hl2":
                return (self.column("high") + self.column("low")) / 2.0
            if node.name == "hlc3":
                return (self.column("high") + self.column("low") + self.column("close")) / 3.0
            if node.name == "ohlc4":
                cols = ("open", "high", "low", "close")
                return sum((self.column(c) for c in cols), np.zeros(self.n)) / 4.0
            return self.column(node.name)
        except InvalidBars as exc:
            raise self.error(exc, node) from None

    def indicator(self, node: IndicatorCall) -> Value:
        from noxfx.analysis.indicators import IndicatorRequest, compute, get_indicator

        request = IndicatorRequest(get_indicator(node.name), node.params)
        if node.source is None:
            frame = self.bars
        else:
            source = self.array(self.plain(node.source)).astype(np.float64, copy=False)
            frame = pd.DataFrame({"close": source}, index=self.bars.index, copy=False)
        try:
            result = compute(frame, request)
            arrays = [result[c].to_numpy(dtype=np.float64) for c in request.columns]
        except InsufficientData:  # fewer bars than the warm-up: no value yet, on every bar
            arrays = [np.full(self.n, np.nan) for _ in request.columns]
        except (InvalidBars, InvalidInput) as exc:
            raise self.error(exc, node) from None
        if len(node.outputs) == 1:
            return arrays[0]
        return dict(zip(node.outputs, arrays, strict=True))

    def function(self, node: FunctionCall) -> Value:
        name = node.name
        args = [self.plain(a) for a in node.args]
        if name in ("abs", "sqrt", "log", "exp", "min", "max", "where"):
            return math_function(name, args)
        bars = int(node.args[-1].value) if isinstance(node.args[-1], Number) else 1
        return series_function(name, [self.array(a) for a in args], bars)


def evaluate_formula(formula: Formula, bars: pd.DataFrame) -> pd.Series | pd.DataFrame:
    """Evaluate a parsed formula on ``bars``: a Series for one output, else a DataFrame."""
    if not isinstance(bars, pd.DataFrame):
        raise InvalidInput(f"bars must be a DataFrame, got {type(bars).__name__}")
    evaluator = _Evaluator(formula, bars)
    values = evaluator.run()
    columns: dict[str, np.ndarray] = {}
    for output in formula.outputs:
        value = values[output.statement]
        if isinstance(value, dict):
            value = value[output.output or ""]
        arr = evaluator.array(value)
        columns[output.name] = arr.astype(bool if output.type in ("bool", "condition") else float)
    if len(columns) == 1:
        ((name, arr),) = columns.items()
        return pd.Series(arr, index=bars.index, name=name, copy=False)
    return pd.DataFrame(columns, index=bars.index, copy=False)


__all__ = ["evaluate_formula"]
