"""User-defined indicators and conditions: a small, safe formula language over bars.

>>> evaluate("ema(close, 12) - ema(close, 26)", bars)            # a float Series
>>> evaluate("cross_over(rsi(close, 14), 30) and close > sma(close, 200)", bars)  # bool Series
>>> evaluate("mid = (high + low) / 2; band = atr(14) * 2", bars)  # DataFrame: mid, band

The same text gives the same result in a notebook, the CLI (``noxfx formula eval``) and the
backtester's entry/exit rules. User text is never handed to Python (no ``eval``, ``exec`` or
``ast``). Layout: :mod:`~noxfx.analysis.formula_parser` (tokenizer and Pratt parser),
:mod:`~noxfx.analysis.formula_check` (names, types, constant folding),
:mod:`~noxfx.analysis.formula_ast` (the typed AST, :class:`Formula`, :class:`FormulaError`),
:mod:`~noxfx.analysis.formula_functions` (operators and built-ins on NumPy arrays) and
:mod:`~noxfx.analysis.formula_eval` (vectorised evaluation on bars).

Grammar (EBNF; keywords and names are case-insensitive, ``#`` starts a comment)::

    formula     = statement , { separator , statement } ;
    separator   = ";" | newline ;              (* newlines inside ( ) or [ ] do not separate *)
    statement   = name , "=" , expression      (* assignment *)
                | expression ;
    expression  = or_expr ;
    or_expr     = and_expr , { "or" , and_expr } ;
    and_expr    = not_expr , { "and" , not_expr } ;
    not_expr    = "not" , not_expr | comparison ;
    comparison  = sum , [ ( "<" | "<=" | ">" | ">=" | "==" | "!=" ) , sum ] ;  (* no chains *)
    sum         = term , { ( "+" | "-" ) , term } ;
    term        = unary , { ( "*" | "/" | "%" ) , unary } ;
    unary       = ( "-" | "+" ) , unary | power ;
    power       = postfix , [ "**" , unary ] ;  (* right-assoc.: -2 ** 2 = -(2 ** 2) *)
    postfix     = primary , { "[" , expression , "]" | "." , name } ;
    primary     = number | "true" | "false" | name | call | "(" , expression , ")" ;
    call        = name , "(" , [ arguments ] , ")" ;
    arguments   = argument , { "," , argument } ;
    argument    = [ name , "=" ] , expression ;  (* keyword arguments after positional ones *)
    number      = digits , [ "." , [ digits ] ] , [ exponent ] | "." , digits , [ exponent ] ;
    name        = ( letter | "_" ) , { letter | digit | "_" } ;

(The parser also reads ``not`` and unary minus where any operand may stand, e.g.
``a == not b``; the type rules below then accept or reject it.)

Values and types:

* bar series ``open high low close volume`` and ``hl2 hlc3 ohlc4`` (float64, one per bar);
  numbers (constants, folded while parsing); conditions (bool, one per bar); ``true``/``false``.
* Arithmetic ``+ - * / % **`` needs numbers (a condition in arithmetic is an error);
  ``x / 0`` and anything else that would be infinite gives NaN. NaN (indicator warm-up)
  propagates through arithmetic, and every comparison with NaN is false (``!=`` too), so
  ``not (rsi(close, 14) < 30)`` is *true* during the warm-up: compare the other way
  (``rsi(close, 14) >= 30``) when that matters.
* ``x[n]`` is ``x`` ``n`` bars ago (``shift(x, n)``): ``n`` is a constant whole number ``>= 0``
  (negative indices would look into the future and are rejected). The first ``n`` bars are NaN
  (false for conditions).
* ``name = expression`` binds a name for the following statements (constants too:
  ``n = 14; rsi(close, n)``). The result is the last statement when it is an expression
  (output named ``result``); otherwise every assigned name not starting with ``_`` is an output.
  One output gives a Series, several a DataFrame.

Indicators: every entry of the registry (``noxfx indicators list``) is a function, parameters
in the registry's order, omitted ones at their defaults, keywords allowed
(``bbands(close, period=20, nbdev=2)``). Indicators whose only input is ``close`` (sma, ema,
rsi, macd, bbands, ...) take an optional first argument, the series to run on
(``rsi(ema(close, 5), 14)``; ``rsi(14)`` is ``rsi(close, 14)``): the registry computes on bar
frames, so the series becomes the ``close`` column of a temporary frame with the bars' index.
The others are computed from the bar columns and take parameters only (``atr(14)``,
``adx(14)``, ``supertrend(10, 3)``, ``cdl_engulfing()``). Parameters must be constants (numbers
or names bound to numbers) and are range-checked by the registry.

Multi-output indicators: pick an output with ``.name`` (``bbands(close, 20, 2).upper``,
``macd(close, 12, 26, 9).signal``, ``stoch().k``) or call ``<indicator>_<output>``
(``macd_signal(close, 12, 26, 9)``, ``ichimoku_span_a()``). In an expression, an indicator with
a primary output (macd, supertrend, mama) used directly is that output; one without (bbands,
stoch, aroon) must be given an output. A multi-output indicator can be bound to a name and
picked from later: ``bb = bbands(close, 20, 2); close > bb.upper``. As a result (the trailing
expression, or an assigned name) it gives one column per output: ``macd(close)`` gives the
registry's columns ``macd_12_26_9, macd_12_26_9_signal, macd_12_26_9_hist``;
``bb = bbands(close)`` gives ``bb_upper, bb_middle, bb_lower``.

Built-in functions (``n``: a constant whole number of bars)::

    abs(x)  sqrt(x)  log(x)  exp(x)  min(a, b, ...)  max(a, b, ...)
    where(cond, a, b)      a where cond holds, else b (alias iff)
    shift(x, n)            x[n]
    highest(x, n)          max of the last n values, this bar included; highest(n): of high
    lowest(x, n)           min of the last n values, this bar included; lowest(n): of low
    change(x, n=1)         x - x[n]
    cross_over(a, b)       a > b and a[1] <= b[1]   (aliases crossover, cross_above)
    cross_under(a, b)      a < b and a[1] >= b[1]   (aliases crossunder, cross_below)
    rising(x, n=1)         x above each of x[1] .. x[n]
    falling(x, n=1)        x below each of x[1] .. x[n]

Safety: at most 2,000 characters, 50 levels of nesting and 100 levels of expression depth;
errors are :class:`~noxfx.errors.InvalidInput` (:class:`FormulaError`) naming the column,
e.g. ``formula error at column 12: unknown function 'rsj' (did you mean rsi?)`` followed by
the formula and a caret under the position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from noxfx.analysis.formula_ast import (
    MAX_EXPRESSION_DEPTH,
    MAX_FORMULA_CHARS,
    MAX_NESTING,
    Formula,
    FormulaError,
    Output,
)
from noxfx.analysis.formula_functions import BUILTINS
from noxfx.analysis.formula_parser import parse

if TYPE_CHECKING:
    import pandas as pd


def parse_formula(text: str) -> Formula:
    """Parse and type-check ``text`` into a :class:`Formula` without computing anything.

    The formula holds the typed AST (``statements``), the result columns (``outputs``), what it
    references (``columns``, ``indicators`` as labels such as ``rsi_14``, ``functions``,
    ``variables``) and ``lookback``, the warm-up bars before its first defined value. Raises
    :class:`FormulaError` (an :class:`~noxfx.errors.InvalidInput`) pointing at the offending
    column.
    """
    return parse(text)


def evaluate(formula: Formula | str, bars: pd.DataFrame) -> pd.Series | pd.DataFrame:
    """Evaluate ``formula`` (text or parsed) on ``bars``; the result has ``bars.index``.

    ``bars`` is a bar frame (float64 ``open high low close volume``; only the columns the
    formula reads are needed). One output gives a Series (bool for a condition, float64
    otherwise, named after the output, ``result`` for a trailing expression); several give a
    DataFrame. The value at bar ``t`` uses bars ``<= t`` only, so evaluating on ``bars[:n]``
    gives the first ``n`` rows of evaluating on ``bars``. Raises :class:`FormulaError` for bad
    text and :class:`~noxfx.errors.InvalidBars` when a needed column is missing.
    """
    from noxfx.analysis.formula_eval import evaluate_formula

    parsed = formula if isinstance(formula, Formula) else parse(formula)
    return evaluate_formula(parsed, bars)


def validate_formula(text: str) -> list[str]:
    """Check ``text`` and return the indicators it references, as labels (``["ema_12",
    "ema_26"]``) in order of first use; raises :class:`FormulaError` when it is invalid."""
    return list(parse(text).indicators)


def function_names() -> list[str]:
    """The built-in (non-indicator) functions of the language."""
    return sorted(BUILTINS)


__all__ = [
    "MAX_EXPRESSION_DEPTH",
    "MAX_FORMULA_CHARS",
    "MAX_NESTING",
    "Formula",
    "FormulaError",
    "Output",
    "evaluate",
    "function_names",
    "parse_formula",
    "validate_formula",
]
