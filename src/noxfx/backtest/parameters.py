"""Strategy parameters (:class:`Parameter`) and constant expressions of them.

Parameter values reach formula text as named constants (:func:`param_prefix`:
``fast = 10\nslow = 30\n``), so the language itself folds expressions such as ``2 * stop_atr``
(:func:`constant_value`) and checks constraints such as ``fast < slow``
(:func:`constraint_holds`; simple comparisons are answered without the parser, because the
optimiser checks every grid point).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from noxfx.errors import InvalidInput

#: Parameter values by name (ints for integer parameters).
Params = dict[str, int | float]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RESERVED = frozenset(
    {"and", "or", "not", "true", "false", "open", "high", "low", "close", "volume", "hl2",
     "hlc3", "ohlc4"}
)  # fmt: skip


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


#: Most values one parameter's range (min..max by step) may have. A sweep of one parameter
#: over more values than this is never meant (and would be built in memory before anything
#: else could refuse it).
MAX_GRID_VALUES = 1_000_000


def range_count(lo: float, hi: float, step: float, name: str = "parameter") -> int:
    """The number of values ``lo, lo + step, ...`` up to ``hi`` inclusive, by arithmetic.

    Raises :class:`InvalidInput` (naming ``name``) when a bound or the step is not finite, the
    step is not positive, ``lo > hi``, or the count exceeds :data:`MAX_GRID_VALUES`.
    """
    if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(step)):
        raise InvalidInput(f"{name}: the range {lo}:{hi}:{step} must be finite.")
    if not step > 0:
        raise InvalidInput(f"{name}: the step must be positive, got {step}.")
    if lo > hi:
        raise InvalidInput(f"{name}: min {lo} > max {hi}.")
    span = (hi - lo) / step  # finite and >= 0, or inf when hi - lo overflows
    if not math.isfinite(span) or span + 1 > MAX_GRID_VALUES:
        raise InvalidInput(
            f"{name}: the range {lo:g}:{hi:g}:{step:g} has "
            f"{'too many' if not math.isfinite(span) else f'{math.floor(span + 1e-9) + 1:,}'} "
            f"values (at most {MAX_GRID_VALUES:,} per parameter)."
        )
    return math.floor(span + 1e-9) + 1


def format_number(value: float) -> str:
    """A parameter value as formula text (``10``, ``2.5``, ``1e-05``)."""
    if _is_int(value) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    return repr(float(value))


@dataclass(frozen=True, slots=True)
class Parameter:
    """A tunable number: ``Parameter("fast", 10, 2, 100, 1)`` (default, range and grid step).

    It is an integer parameter when default, min, max and step are all whole numbers given as
    ints. ``min``/``max``/``step`` are optional; without them the parameter cannot be swept.
    """

    name: str
    default: int | float
    min: int | float | None = None
    max: int | float | None = None
    step: int | float | None = None
    description: str = ""

    @property
    def integer(self) -> bool:
        values = (self.default, self.min, self.max, self.step)
        return all(v is None or _is_int(v) for v in values)

    def check(self) -> None:
        """Raise :class:`InvalidInput` naming the parameter when its definition is invalid."""
        if not _NAME.match(self.name) or self.name.lower() in _RESERVED:
            raise InvalidInput(
                f"parameters.{self.name}: a parameter name must be a letter followed by letters, "
                "digits or _, and not a bar series or keyword (open, close, and, ...)."
            )
        for key in ("default", "min", "max", "step"):
            value = getattr(self, key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float | np.number)
            ):
                raise InvalidInput(f"parameters.{self.name}.{key} must be a number, got {value!r}.")
            if value is not None and not math.isfinite(float(value)):
                raise InvalidInput(f"parameters.{self.name}.{key} must be finite.")
        if self.step is not None and not self.step > 0:
            raise InvalidInput(f"parameters.{self.name}.step must be positive.")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise InvalidInput(f"parameters.{self.name}: min {self.min} > max {self.max}.")
        self.validate(self.default, field_name=f"parameters.{self.name}.default")

    def validate(self, value: object, field_name: str | None = None) -> int | float:
        """``value`` as this parameter's type, checked against its range."""
        where = field_name or f"parameter {self.name}"
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InvalidInput(f"{where}: {value!r} is not a number.") from None
        if isinstance(value, bool) or not math.isfinite(number):
            raise InvalidInput(f"{where}: {value!r} is not a finite number.")
        if self.min is not None and number < self.min - 1e-12:
            raise InvalidInput(f"{where}: {value} is below the minimum {self.min}.")
        if self.max is not None and number > self.max + 1e-12:
            raise InvalidInput(f"{where}: {value} is above the maximum {self.max}.")
        if self.integer:
            if not number.is_integer():
                raise InvalidInput(f"{where}: {value} must be a whole number.")
            return int(number)
        return number

    def count(self) -> int:
        """How many values :meth:`grid` has, computed from (min, max, step) without building
        them. Raises :class:`InvalidInput` without a range, or for a range that is not finite
        or has more than :data:`MAX_GRID_VALUES` values."""
        if self.min is None or self.max is None or self.step is None:
            raise InvalidInput(
                f"parameter {self.name} has no range (min, max, step); give one to sweep it."
            )
        return range_count(float(self.min), float(self.max), float(self.step), self.name)

    def grid(self) -> list[int | float]:
        """Every value from ``min`` to ``max`` (inclusive) by ``step`` (at most
        :data:`MAX_GRID_VALUES`: :meth:`count` is checked first)."""
        count = self.count()
        assert self.min is not None and self.step is not None  # count() checked them
        values = [self.min + k * self.step for k in range(count)]
        if self.integer:
            return [int(v) for v in values]
        return [round(float(v), 10) for v in values]

    def as_dict(self) -> dict[str, Any]:
        return {"default": self.default, "min": self.min, "max": self.max, "step": self.step,
                "description": self.description}  # fmt: skip


def param_prefix(params: Mapping[str, int | float]) -> str:
    """Parameters as formula statements, one per line (``fast = 10\nslow = 30\n``)."""
    return "".join(f"{k} = {format_number(v)}\n" for k, v in params.items())


_SIMPLE_RULE = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d*)?)\s*(<=|>=|==|!=|<|>)\s*"
    r"([A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d*)?)\s*$"
)
_COMPARE = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}  # fmt: skip


def _simple_constraint(rule: str, params: Mapping[str, int | float]) -> bool | None:
    """``a < b`` with parameter names or numbers, without the parser; None when not that."""
    match = _SIMPLE_RULE.match(rule)
    if match is None:
        return None
    left, op, right = match.groups()
    values = []
    for token in (left, right):
        if token in params:
            values.append(float(params[token]))
        elif token[0].isdigit() or token[0] == "-":
            values.append(float(token))
        else:
            return None
    return bool(_COMPARE[op](values[0], values[1]))


def constant_value(value: float | str, params: Mapping[str, int | float], field_name: str) -> float:
    """``value`` as a number: a number, a parameter name or a constant formula expression of
    parameters (``"2 * stop_atr"``); errors name ``field_name``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if text in params:
        return float(params[text])
    from noxfx.analysis.formula import FormulaError, parse_formula
    from noxfx.analysis.formula_ast import Number

    prefix = param_prefix(params)
    try:
        parsed = parse_formula(prefix + text)
    except FormulaError as exc:
        raise InvalidInput(f"{field_name}: {exc.reason} in {text!r}.") from None
    last = parsed.statements[-1]
    node = getattr(last, "value", None)
    if not isinstance(node, Number) or len(parsed.statements) != len(params) + 1:
        raise InvalidInput(
            f"{field_name}: {text!r} must be a number or an expression of parameters only."
        )
    return float(node.value)


def constraint_holds(
    rule: str, params: Mapping[str, int | float], where: str = "constraint"
) -> bool:
    """Whether ``rule`` (``"fast < slow"``, any comparison of parameters) holds for ``params``."""
    simple = _simple_constraint(rule, params)
    if simple is not None:
        return simple
    from noxfx.analysis.formula import FormulaError, parse_formula
    from noxfx.analysis.formula_ast import Boolean

    prefix = param_prefix(params)
    try:
        parsed = parse_formula(prefix + rule)
    except FormulaError as exc:
        raise InvalidInput(f"{where}: {exc.reason} in {rule!r}.") from None
    node = getattr(parsed.statements[-1], "value", None)
    if not isinstance(node, Boolean) or len(parsed.statements) != len(params) + 1:
        raise InvalidInput(f"{where}: {rule!r} must compare parameters (e.g. 'fast < slow').")
    return bool(node.value)


__all__ = [
    "MAX_GRID_VALUES",
    "Parameter",
    "Params",
    "constant_value",
    "constraint_holds",
    "format_number",
    "param_prefix",
    "range_count",
]
