"""The typed syntax tree of the formula language, its value types and its error.

Nodes are frozen dataclasses built bottom-up by :mod:`noxfx.analysis.formula_check` while
:mod:`noxfx.analysis.formula_parser` reads the text; every node carries its value type, the
warm-up it needs (``lookback``), its height (``depth``) and a canonical ``key`` (equal keys are
equal computations, which the evaluator computes once). Constant sub-expressions are folded
into :class:`Number` / :class:`Boolean` leaves, so a non-constant node always has at least one
per-bar operand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from noxfx.errors import InvalidInput

#: the longest formula accepted, in characters
MAX_FORMULA_CHARS = 2_000
#: syntactic nesting: parentheses, calls, indexing, unary operators, ``**`` chains
MAX_NESTING = 50
#: height of the expression tree (long operator chains such as ``a + b + c + ...``)
MAX_EXPRESSION_DEPTH = 100
#: the largest ``n`` in ``x[n]`` / ``shift(x, n)`` / ``highest(x, n)`` ...
MAX_SHIFT_BARS = 100_000

#: bar columns and the derived prices a formula can name, with the bar columns each one reads
SERIES_INPUTS: dict[str, tuple[str, ...]] = {
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "volume": ("volume",),
    "hl2": ("high", "low"),
    "hlc3": ("high", "low", "close"),
    "ohlc4": ("open", "high", "low", "close"),
}
KEYWORDS = frozenset({"and", "or", "not", "true", "false"})

#: ``number`` / ``bool`` are constants (folded while parsing); ``series`` / ``condition`` are one
#: float64 / bool value per bar; ``multi`` is a multi-output indicator before an output is picked.
ValueType = Literal["number", "bool", "series", "condition", "multi"]
Constant: TypeAlias = float | bool


class FormulaError(InvalidInput):
    """A formula that cannot be parsed or type-checked, with the place it went wrong.

    ``offset`` is the 0-based character offset in the formula, ``line`` / ``column`` are 1-based.
    The message names the column (and the line for multi-line formulas), gives the reason, and
    repeats the offending line with a caret under the position.
    """

    def __init__(self, reason: str, text: str, offset: int) -> None:
        offset = max(0, min(offset, len(text)))
        line_start = text.rfind("\n", 0, offset) + 1
        line_end = text.find("\n", offset)
        line_end = len(text) if line_end < 0 else line_end
        self.reason = reason
        self.text = text
        self.offset = offset
        self.line = text.count("\n", 0, offset) + 1
        self.column = offset - line_start + 1
        where = f"column {self.column}"
        if "\n" in text:
            where = f"line {self.line}, {where}"
        source = "".join(c if c.isprintable() else " " for c in text[line_start:line_end])
        caret = self.column - 1
        if len(source) > 72:  # show a window around the position of a long line
            start = max(0, caret - 36)
            snippet = source[start : start + 72]
            prefix, suffix = ("..." if start else ""), ("..." if start + 72 < len(source) else "")
            caret = caret - start + len(prefix)
            source = prefix + snippet + suffix
        super().__init__(f"formula error at {where}: {reason}\n  {source}\n  {' ' * caret}^")

    def __reduce__(self) -> tuple[type[FormulaError], tuple[str, str, int]]:
        return (type(self), (self.reason, self.text, self.offset))  # pickles (worker -> caller)


# ------------------------------------------------------------------------------------------ AST


@dataclass(frozen=True, slots=True, kw_only=True)
class Expr:
    """Base of expression nodes.

    ``pos``: 0-based offset where the node's text starts (``a`` in ``a + b``);
    ``type``: see :data:`ValueType`; ``lookback``: bars of history the node needs before its
    first defined value (exact for windows and shifts, TA-Lib's count for indicators, summed
    along chained indicators); ``depth``: height of the subtree; ``key``: a canonical text,
    equal for equal computations (the evaluator computes each key once).
    """

    pos: int = field(compare=False)
    type: ValueType
    lookback: int = 0
    depth: int = 1
    key: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Number(Expr):
    """A numeric constant (a literal, or a constant sub-expression folded while parsing)."""

    value: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Boolean(Expr):
    """``true`` / ``false``, or a folded constant condition."""

    value: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Column(Expr):
    """A bar series: ``open high low close volume`` or ``hl2 hlc3 ohlc4``."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Variable(Expr):
    """A reference to the value assigned to ``name`` by statement number ``statement``."""

    name: str
    statement: int
    indicator: str = ""  # for a multi-output indicator bound to a name: the indicator's name
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Unary(Expr):
    """``-x``, ``+x`` or ``not x``."""

    op: Literal["-", "+", "not"]
    operand: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Binary(Expr):
    """Arithmetic (``+ - * / % **``), comparison (``< <= > >= == !=``) or ``and`` / ``or``."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Index(Expr):
    """``x[n]``: the value ``n`` bars ago (``n >= 0``; the first ``n`` bars are NaN / false)."""

    target: Expr
    bars: int


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorCall(Expr):
    """A registry indicator with all parameters bound.

    ``source`` is the series an input-on-close indicator runs on (``None``: the bars
    themselves); ``outputs`` are the registry's output suffixes (``""`` = primary output).
    The node holds plain values only (no registry objects), so a parsed formula pickles.
    """

    name: str
    label: str
    params: tuple[int | float, ...]
    source: Expr | None
    outputs: tuple[str, ...]

    @property
    def indicator(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Select(Expr):
    """``target.output``: one output of a multi-output indicator (``""`` = primary)."""

    target: Expr
    output: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionCall(Expr):
    """A built-in function (``shift``, ``highest``, ``cross_over``, ``abs``, ...).

    ``args`` are bound to the signature's parameters in order (defaults filled in).
    """

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Assign:
    """``name = value``."""

    name: str
    value: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class ExprStatement:
    """A bare expression (the formula's result when it is the last statement)."""

    value: Expr
    pos: int


Statement: TypeAlias = Assign | ExprStatement


@dataclass(frozen=True, slots=True)
class Output:
    """One column of the result: its ``name``, where it comes from and its type.

    ``statement`` is the index of the statement whose value it is; ``output`` the indicator
    output suffix for a multi-output value (``None`` otherwise).
    """

    name: str
    statement: int
    type: ValueType
    output: str | None = None


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed, type-checked formula.

    * ``statements`` -- the typed AST, one node per statement;
    * ``outputs`` -- the result columns (one: :func:`~noxfx.analysis.formula.evaluate` returns a
      Series; several: a DataFrame);
    * ``columns`` / ``indicators`` / ``functions`` / ``variables`` -- what it references: bar
      columns read, indicator labels (``rsi_14``, ``macd_12_26_9``), built-in functions and
      assigned names, each in order of first use;
    * ``lookback`` -- warm-up bars of the result (the largest over the outputs).
    """

    text: str
    statements: tuple[Statement, ...]
    outputs: tuple[Output, ...]
    columns: tuple[str, ...]
    indicators: tuple[str, ...]
    functions: tuple[str, ...]
    variables: tuple[str, ...]
    lookback: int

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    @property
    def names(self) -> tuple[str, ...]:
        """Every referenced name: bar columns, indicator labels, functions, variables."""
        return (*self.columns, *self.indicators, *self.functions, *self.variables)

    @property
    def is_condition(self) -> bool:
        """True when the result is one true/false value per bar (an entry/exit rule)."""
        return len(self.outputs) == 1 and self.outputs[0].type in ("condition", "bool")


def is_numeric(t: ValueType) -> bool:
    """A number or a number series."""
    return t in ("number", "series")


def is_boolean(t: ValueType) -> bool:
    """``true``/``false`` or a condition."""
    return t in ("bool", "condition")


def describe(t: ValueType) -> str:
    """How an error message names a value type."""
    return {
        "number": "a number",
        "bool": "true/false",
        "series": "a number series",
        "condition": "a condition (true/false)",
        "multi": "a multi-output indicator",
    }[t]


__all__ = [
    "KEYWORDS",
    "MAX_EXPRESSION_DEPTH",
    "MAX_FORMULA_CHARS",
    "MAX_NESTING",
    "MAX_SHIFT_BARS",
    "SERIES_INPUTS",
    "Assign",
    "Binary",
    "Boolean",
    "Column",
    "Constant",
    "Expr",
    "ExprStatement",
    "Formula",
    "FormulaError",
    "FunctionCall",
    "Index",
    "IndicatorCall",
    "Number",
    "Output",
    "Select",
    "Statement",
    "Unary",
    "ValueType",
    "Variable",
    "describe",
    "is_boolean",
    "is_numeric",
]
