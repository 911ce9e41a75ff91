"""Name resolution, type checking and constant folding for the formula parser.

:class:`Checker` is what :mod:`noxfx.analysis.formula_parser` calls to build every node: it
resolves names (variables, bar series, built-in functions, registry indicators), checks operand
and argument types, binds indicator parameters through the registry's own
:meth:`~noxfx.analysis.indicators.Param.coerce` (so ranges and messages match
``noxfx indicators``), folds constant sub-expressions and records what the formula references.
Every failure is a :class:`~noxfx.analysis.formula_ast.FormulaError` at the offending position.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from noxfx.analysis.formula_ast import (
    KEYWORDS,
    MAX_EXPRESSION_DEPTH,
    MAX_SHIFT_BARS,
    SERIES_INPUTS,
    Assign,
    Binary,
    Boolean,
    Column,
    Expr,
    ExprStatement,
    FormulaError,
    FunctionCall,
    Index,
    IndicatorCall,
    Number,
    Output,
    Select,
    Statement,
    Unary,
    ValueType,
    Variable,
    describe,
    is_boolean,
    is_numeric,
)
from noxfx.analysis.formula_functions import (
    ARITHMETIC,
    BUILTINS,
    COMPARISONS,
    FUNCTION_ALIASES,
    Arg,
    Builtin,
    arithmetic,
    compare,
    logical,
    math_function,
)
from noxfx.errors import InvalidInput

if TYPE_CHECKING:
    from noxfx.analysis.indicators import Indicator

#: keyword arguments as parsed: ``(name, value, position of the name)``
Keywords = list[tuple[str, Expr, int]]


@functools.lru_cache(maxsize=1)
def _indicator_names() -> tuple[str, ...]:
    from noxfx.analysis.indicators import indicator_specs

    return tuple(ind.name for ind in indicator_specs())


def lookup_indicator(name: str) -> Indicator | None:
    """The registry entry called ``name`` (aliases accepted), or ``None``."""
    from noxfx.analysis.indicators import get_indicator

    try:
        return get_indicator(name)
    except InvalidInput:
        return None


def suggest(name: str, candidates: Sequence[str]) -> str:
    """`` (did you mean rsi?)`` for the closest candidates, or ``""``."""
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ""
    listed = close[0] if len(close) == 1 else ", ".join(close[:-1]) + " or " + close[-1]
    return f" (did you mean {listed}?)"


def _multi_info(node: Expr) -> tuple[str, tuple[str, ...]]:
    """``(indicator name, output suffixes)`` of an indicator call or a name bound to one."""
    if isinstance(node, IndicatorCall | Variable):
        return node.indicator, node.outputs
    return "", ()


@dataclass(frozen=True, slots=True)
class Callee:
    """A resolved function name: a built-in, or an indicator (with an output picked by the
    ``<indicator>_<output>`` spelling)."""

    builtin: Builtin | None = None
    indicator: Indicator | None = None
    output: str | None = None


@dataclass(slots=True)
class _Binding:
    node: Expr
    statement: int
    pos: int  # where the name was (last) assigned


class Checker:
    """Builds typed, folded nodes for one formula text and records what it references."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.scope: dict[str, _Binding] = {}
        self.columns: dict[str, None] = {}
        self.indicators: dict[str, None] = {}
        self.functions: dict[str, None] = {}
        self.variables: dict[str, None] = {}

    def error(self, reason: str, pos: int) -> FormulaError:
        return FormulaError(reason, self.text, pos)

    # ------------------------------------------------------------------ statements
    def assign(self, name: str, value: Expr, pos: int, statement: int) -> Assign:
        self.scope[name] = _Binding(value, statement, pos)
        self.variables.setdefault(name)
        return Assign(name, value, pos)

    def check_target(self, name: str, pos: int) -> None:
        if name in KEYWORDS or name in SERIES_INPUTS:
            kind = "a keyword" if name in KEYWORDS else "a bar series"
            raise self.error(f"cannot assign to '{name}': it is {kind}", pos)

    def outputs(self, statements: Sequence[Statement]) -> tuple[Output, ...]:
        """The result columns: the trailing expression, or every public assigned name."""
        last = statements[-1]
        if isinstance(last, ExprStatement):
            return tuple(self._outputs("result", len(statements) - 1, last.value, bare=True))
        outputs: list[Output] = []
        seen: set[str] = set()
        for name, binding in self.scope.items():
            if name.startswith("_"):
                continue
            for output in self._outputs(name, binding.statement, binding.node):
                if output.name in seen:
                    raise self.error(
                        f"two outputs are named '{output.name}'; rename one (or start it with '_')",
                        binding.pos,
                    )
                seen.add(output.name)
                outputs.append(output)
        if not outputs:
            raise self.error(
                "the formula has no result: end it with an expression, or assign a name that "
                "does not start with '_'",
                last.pos,
            )
        return tuple(outputs)

    @staticmethod
    def _outputs(name: str, statement: int, node: Expr, bare: bool = False) -> list[Output]:
        if node.type != "multi":
            return [Output(name, statement, node.type)]
        base = name
        if bare and isinstance(node, IndicatorCall):  # `bbands(close)`: the registry's columns
            base = node.label
        elif bare and isinstance(node, Variable):
            base = node.name
        _, suffixes = _multi_info(node)
        return [Output(f"{base}_{s}" if s else base, statement, "series", s) for s in suffixes]

    # ------------------------------------------------------------------ leaves
    def number(self, value: float, pos: int) -> Number:
        return Number(pos=pos, type="number", value=value, key=repr(value))

    def boolean(self, value: bool, pos: int) -> Boolean:
        return Boolean(pos=pos, type="bool", value=value, key="true" if value else "false")

    def constant(self, value: np.ndarray, pos: int) -> Expr:
        if value.dtype == bool:
            return self.boolean(bool(value), pos)
        return self.number(float(value), pos)

    def column(self, name: str, pos: int) -> Column:
        for column in SERIES_INPUTS[name]:
            self.columns.setdefault(column)
        return Column(pos=pos, type="series", name=name, key=name)

    def name(self, name: str, pos: int) -> Expr:
        """A name used as a value: a variable, a bar series, or an error."""
        binding = self.scope.get(name)
        if binding is not None:
            return self.variable(name, binding, pos)
        if name in SERIES_INPUTS:
            return self.column(name, pos)
        if FUNCTION_ALIASES.get(name, name) in BUILTINS or lookup_indicator(name) is not None:
            raise self.error(f"'{name}' is a function; call it, e.g. {self.example(name)}", pos)
        raise self.error(
            f"unknown name '{name}'{suggest(name, [*self.scope, *SERIES_INPUTS])}", pos
        )

    def variable(self, name: str, binding: _Binding, pos: int) -> Expr:
        node = binding.node
        if isinstance(node, Number):
            return self.number(node.value, pos)
        if isinstance(node, Boolean):
            return self.boolean(node.value, pos)
        indicator, outputs = _multi_info(node)
        return Variable(
            pos=pos,
            type=node.type,
            lookback=node.lookback,
            name=name,
            statement=binding.statement,
            indicator=indicator,
            outputs=outputs,
            key=f"${name}#{binding.statement}",
        )

    def example(self, name: str) -> str:
        builtin = BUILTINS.get(FUNCTION_ALIASES.get(name, name))
        if builtin is not None:
            return builtin.usage()
        ind = lookup_indicator(name)
        if ind is None:
            return f"{name}(...)"
        params = ", ".join(str(p.default) for p in ind.params)
        args = ", ".join(a for a in ("close" if ind.inputs == ("close",) else "", params) if a)
        return f"{name}({args})"

    # ------------------------------------------------------------------ postfix
    def index(self, node: Expr, index: Expr, pos: int) -> Expr:
        """``node[index]``: ``node`` shifted by a constant number of bars."""
        bars = self.whole_number(index, "the index in x[n]", 0)
        node = self.as_value(node, "indexed with [n]")
        if isinstance(node, Index):  # x[1][2] is x[3]
            bars += node.bars
            node = node.target
        type_: ValueType = "condition" if is_boolean(node.type) else "series"
        return self.check_depth(
            Index(
                pos=node.pos,
                type=type_,
                lookback=node.lookback + bars,
                depth=node.depth + 1,
                target=node,
                bars=bars,
                key=f"{node.key}[{bars}]",
            )
        )

    def select(self, node: Expr, output: str, pos: int) -> Expr:
        """``node.output``: one output of a multi-output indicator."""
        indicator, outputs = _multi_info(node)
        if len(outputs) < 2:
            raise self.error(
                f"'.{output}' picks an output of a multi-output indicator "
                "(e.g. bbands(close, 20, 2).upper), but this is not one",
                pos,
            )
        chosen = "" if (output == indicator and "" in outputs) else output
        if chosen not in outputs:
            named = [o for o in outputs if o]
            primary = f" (the bare call is the {indicator} line)" if "" in outputs else ""
            raise self.error(
                f"{indicator} has no output '{output}'{suggest(output, named)}; its outputs "
                f"are {', '.join(named)}{primary}",
                pos,
            )
        return Select(
            pos=node.pos,
            type="series",
            lookback=node.lookback,
            depth=node.depth + 1,
            target=node,
            output=chosen,
            key=f"{node.key}.{chosen}",
        )

    def as_value(self, node: Expr, context: str) -> Expr:
        """A multi-output indicator used as a value is its primary output, if it has one."""
        if node.type != "multi":
            return node
        indicator, outputs = _multi_info(node)
        if "" in outputs:
            return self.select(node, "", node.pos)
        raise self.error(
            f"{indicator} has several outputs ({', '.join(outputs)}); pick one before it is "
            f"{context}, e.g. .{outputs[0]}",
            node.pos,
        )

    # ------------------------------------------------------------------ operators
    def check_depth(self, node: Expr) -> Expr:
        if node.depth > MAX_EXPRESSION_DEPTH:
            raise self.error(
                f"expression is too deeply nested (more than {MAX_EXPRESSION_DEPTH} levels); "
                "split it into steps with 'name = ...'",
                node.pos,
            )
        return node

    def unary(self, op: str, operand: Expr, pos: int) -> Expr:
        what = "'not'" if op == "not" else f"unary '{op}'"
        operand = self.as_value(operand, f"used with {what}")
        if op == "not":
            if not is_boolean(operand.type):
                raise self.error(f"'not' needs a condition, got {describe(operand.type)}", pos)
            if isinstance(operand, Boolean):
                return self.boolean(not operand.value, pos)
            type_: ValueType = "condition"
        else:
            if not is_numeric(operand.type):
                raise self.error(f"unary '{op}' needs a number, got {describe(operand.type)}", pos)
            if isinstance(operand, Number):
                return self.number(operand.value if op == "+" else -operand.value, pos)
            if op == "+":
                return operand
            type_ = "series"
        return self.check_depth(
            Unary(
                pos=pos,
                type=type_,
                lookback=operand.lookback,
                depth=operand.depth + 1,
                op="not" if op == "not" else "-",
                operand=operand,
                key=f"({op} {operand.key})",
            )
        )

    def binary(self, op: str, left: Expr, right: Expr, pos: int) -> Expr:
        left = self.as_value(left, f"used with '{op}'")
        right = self.as_value(right, f"used with '{op}'")
        lt, rt = left.type, right.type
        if op in ARITHMETIC:
            for side, node in (("left", left), ("right", right)):
                if not is_numeric(node.type):
                    raise self.error(
                        f"cannot apply '{op}' to {describe(node.type)} (on its {side}); "
                        "arithmetic needs numbers",
                        node.pos,
                    )
        elif op in COMPARISONS:
            same = (is_numeric(lt) and is_numeric(rt)) or (is_boolean(lt) and is_boolean(rt))
            if not same or (is_boolean(lt) and op not in ("==", "!=")):
                raise self.error(
                    f"cannot compare {describe(lt)} with {describe(rt)} using '{op}'", pos
                )
        else:
            for side, node in (("left", left), ("right", right)):
                if not is_boolean(node.type):
                    raise self.error(
                        f"'{op}' needs conditions on both sides, got {describe(node.type)} on "
                        f"the {side} (compare it, e.g. x > 0)",
                        node.pos,
                    )
        if isinstance(left, Number | Boolean) and isinstance(right, Number | Boolean):
            fn = arithmetic if op in ARITHMETIC else compare if op in COMPARISONS else logical
            return self.constant(fn(op, left.value, right.value), left.pos)
        return self.check_depth(
            Binary(
                pos=left.pos,
                type="series" if op in ARITHMETIC else "condition",
                lookback=max(left.lookback, right.lookback),
                depth=max(left.depth, right.depth) + 1,
                op=op,
                left=left,
                right=right,
                key=f"({left.key} {op} {right.key})",
            )
        )

    def whole_number(self, node: Expr, what: str, minimum: int) -> int:
        if not isinstance(node, Number):
            raise self.error(
                f"{what} must be a constant whole number, got {describe(node.type)}", node.pos
            )
        value = node.value
        if not math.isfinite(value) or not float(value).is_integer():
            raise self.error(f"{what} must be a whole number, got {value:g}", node.pos)
        if value < minimum:
            extra = " (a negative index would look into the future)" if minimum == 0 else ""
            raise self.error(f"{what} must be at least {minimum}, got {value:g}{extra}", node.pos)
        if value > MAX_SHIFT_BARS:
            raise self.error(f"{what} must be at most {MAX_SHIFT_BARS} bars", node.pos)
        return int(value)

    # ------------------------------------------------------------------ calls
    def callee(self, name: str, pos: int) -> Callee:
        """Resolve the name before ``(``, before its arguments are parsed."""
        if name in SERIES_INPUTS:
            raise self.error(
                f"'{name}' is a bar series, not a function; use {name}[1] for the previous bar",
                pos,
            )
        builtin = BUILTINS.get(FUNCTION_ALIASES.get(name, name))
        if builtin is not None:
            self.functions.setdefault(builtin.name)
            return Callee(builtin=builtin)
        indicator = lookup_indicator(name)
        if indicator is not None:
            return Callee(indicator=indicator)
        cut = len(name)  # macd_signal -> macd + signal; ichimoku_span_a -> ichimoku + span_a
        while (cut := name.rfind("_", 0, cut)) > 0:
            indicator = lookup_indicator(name[:cut])
            if indicator is not None and name[cut + 1 :] in indicator.outputs:
                return Callee(indicator=indicator, output=name[cut + 1 :])
        if name in self.scope:
            raise self.error(f"'{name}' is a variable, not a function", pos)
        names = [*BUILTINS, *FUNCTION_ALIASES, *_indicator_names()]
        raise self.error(f"unknown function '{name}'{suggest(name, names)}", pos)

    def call(self, callee: Callee, positional: list[Expr], keywords: Keywords, pos: int) -> Expr:
        if callee.builtin is not None:
            return self.builtin_call(callee.builtin, positional, keywords, pos)
        assert callee.indicator is not None
        node = self.indicator_call(callee.indicator, positional, keywords, pos)
        if callee.output is not None:
            node = self.select(node, callee.output, pos)
        return node

    def bind(
        self,
        what: str,
        names: Sequence[str],
        positional: list[Expr],
        keywords: Keywords,
        usage: str,
    ) -> dict[str, Expr]:
        if len(positional) > len(names):
            raise self.error(
                f"{what} takes at most {len(names)} argument(s), got {len(positional)}; "
                f"usage: {usage}",
                positional[len(names)].pos,
            )
        bound = dict(zip(names, positional, strict=False))
        for key, value, key_pos in keywords:
            if key not in names:
                hint = suggest(key, names)
                raise self.error(f"{what} has no argument '{key}'{hint}; usage: {usage}", key_pos)
            if key in bound:
                raise self.error(f"argument '{key}' of {what} given twice", key_pos)
            bound[key] = value
        return bound

    def builtin_call(
        self, fn: Builtin, positional: list[Expr], keywords: Keywords, pos: int
    ) -> Expr:
        if fn.variadic:
            if keywords:
                raise self.error(f"{fn.name} takes no keyword arguments", keywords[0][2])
            if len(positional) < 2:
                hint = " (for a rolling value use lowest(x, n) / highest(x, n))"
                raise self.error(f"{fn.name} needs at least 2 arguments{hint}", pos)
            values = [self.checked_arg(fn, fn.args[0], a) for a in positional]
            return self.builtin_node(fn, values, pos)
        first = fn.args[0]
        if isinstance(first.default, str) and positional and isinstance(positional[0], Number):
            positional = [self.column(first.default, pos), *positional]  # highest(20)
        bound = self.bind(fn.name, [a.name for a in fn.args], positional, keywords, fn.usage())
        args: list[Expr] = []
        for spec in fn.args:
            node = bound.get(spec.name)
            if node is None:
                if spec.default is None:
                    raise self.error(
                        f"{fn.name} is missing argument '{spec.name}'; usage: {fn.usage()}", pos
                    )
                node = (
                    self.column(spec.default, pos)
                    if isinstance(spec.default, str)
                    else self.number(float(spec.default), pos)
                )
            args.append(self.checked_arg(fn, spec, node))
        return self.builtin_node(fn, args, pos)

    def checked_arg(self, fn: Builtin, spec: Arg, node: Expr) -> Expr:
        node = self.as_value(node, f"passed to {fn.name}")
        if spec.kind == "int":
            self.whole_number(node, f"'{spec.name}' of {fn.name}", spec.minimum)
        elif spec.kind == "number" and not is_numeric(node.type):
            raise self.error(
                f"'{spec.name}' of {fn.name} must be a number, got {describe(node.type)}",
                node.pos,
            )
        elif spec.kind == "bool" and not is_boolean(node.type):
            raise self.error(
                f"'{spec.name}' of {fn.name} must be a condition, got {describe(node.type)}",
                node.pos,
            )
        return node

    def builtin_node(self, fn: Builtin, args: list[Expr], pos: int) -> Expr:
        result: ValueType
        if fn.name == "where":
            a, b = args[1], args[2]
            if is_numeric(a.type) != is_numeric(b.type):
                raise self.error(
                    "where: both branches must be numbers or both conditions, got "
                    f"{describe(a.type)} and {describe(b.type)}",
                    b.pos,
                )
            result = "series" if is_numeric(a.type) else "condition"
        elif fn.result == "same":  # shift
            result = "condition" if is_boolean(args[0].type) else "series"
        elif fn.result == "numeric":
            result = "series"
        else:
            result = fn.result
        if fn.foldable and all(isinstance(a, Number | Boolean) for a in args):
            values = [a.value for a in args if isinstance(a, Number | Boolean)]
            return self.constant(math_function(fn.name, values), pos)
        ints = tuple(
            int(a.value)
            for spec, a in zip(fn.args, args, strict=False)
            if spec.kind == "int" and isinstance(a, Number)
        )
        return self.check_depth(
            FunctionCall(
                pos=pos,
                type=result,
                lookback=max(a.lookback for a in args) + fn.extra_lookback(ints),
                depth=max(a.depth for a in args) + 1,
                name=fn.name,
                args=tuple(args),
                key=f"{fn.name}({', '.join(a.key for a in args)})",
            )
        )

    def indicator_call(
        self, indicator: Indicator, positional: list[Expr], keywords: Keywords, pos: int
    ) -> Expr:
        from noxfx.analysis.indicators import IndicatorRequest

        name, usage = indicator.name, indicator.usage()
        source: Expr | None = None
        if positional and not isinstance(positional[0], Number | Boolean):
            first = self.as_value(positional[0], f"passed to {name}")
            if indicator.inputs != ("close",):
                raise self.error(
                    f"{name} is computed from the bar columns {', '.join(indicator.inputs)} "
                    f"and takes no series argument; write {self.example(name)}",
                    first.pos,
                )
            if not is_numeric(first.type):
                raise self.error(
                    f"{name}: the source must be a number series, got {describe(first.type)}",
                    first.pos,
                )
            source, positional = first, positional[1:]
        bound = self.bind(name, [p.name for p in indicator.params], positional, keywords, usage)
        values = list(indicator.defaults)
        for slot, param in enumerate(indicator.params):
            node = bound.get(param.name)
            if node is None:
                continue
            if not isinstance(node, Number):
                raise self.error(
                    f"{name}: parameter '{param.name}' must be a constant number, got "
                    f"{describe(node.type)}. {usage}",
                    node.pos,
                )
            try:
                values[slot] = param.coerce(node.value, name, usage)
            except InvalidInput as exc:
                raise self.error(exc.message, node.pos) from None
        request = IndicatorRequest(indicator, tuple(values))
        self.indicators.setdefault(request.label)
        if source is None:
            for column in indicator.inputs:
                self.columns.setdefault(column)
        outputs = tuple(indicator.outputs)
        return self.check_depth(
            IndicatorCall(
                pos=pos,
                type="multi" if len(outputs) > 1 else "series",
                lookback=(source.lookback if source is not None else 0) + request.warmup,
                depth=(source.depth if source is not None else 0) + 1,
                name=name,
                label=request.label,
                params=tuple(values),
                source=source,
                outputs=outputs,
                key=f"{request.label}({source.key if source is not None else ''})",
            )
        )


__all__ = ["Callee", "Checker", "Keywords", "lookup_indicator", "suggest"]
