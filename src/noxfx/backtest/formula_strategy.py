"""Declarative strategies: entry/exit rules written in the formula language
(:mod:`noxfx.analysis.formula`), parameters bound as named constants in front of them.

The four rules (``entry_long``, ``entry_short``, ``exit_long``, ``exit_short``) and the shared
``define`` statements are evaluated as one formula per parameter combination::

    fast = 10
    slow = 30
    <define>
    nox_entry_long = (<entry_long>)
    ...

so indicators shared by several rules are computed once, and nothing is pasted into the rule
text: parameters are values of names, range-checked by the language like any constant. Errors
point into the rule they belong to (``entry_long: formula error at column 12: ...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from noxfx.backtest.config import Signals
from noxfx.backtest.strategy import Params, Strategy, param_prefix
from noxfx.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

#: The rules a declarative strategy may have, and the :class:`Signals` field each fills.
RULES: tuple[str, ...] = ("entry_long", "entry_short", "exit_long", "exit_short")
_RULE_TO_SIGNAL = dict(zip(RULES, ("long_entry", "short_entry", "long_exit", "short_exit"),
                           strict=True))  # fmt: skip


class FormulaStrategy(Strategy):
    """A strategy whose rules are formula-language conditions (the declarative kind).

    ``rules`` maps ``entry_long``/``entry_short``/``exit_long``/``exit_short`` to condition
    text; ``define`` holds shared statements (``bb = bbands(close, period, nbdev)``) the rules
    may use. Parameters are bound as constants in front of them.
    """

    def __init__(self, *, rules: Mapping[str, str], define: str = "", **kwargs: Any) -> None:
        unknown = sorted(set(rules) - set(RULES))
        if unknown:
            raise InvalidInput(f"Unknown rule(s) {', '.join(unknown)}; rules: {', '.join(RULES)}.")
        self.rules = {
            k: str(v).strip() for k, v in rules.items() if v is not None and str(v).strip()
        }
        self.define = define.strip()
        super().__init__(**kwargs)

    @cached_property
    def _parsed(self) -> dict[str, Any]:
        """The rules checked with the default parameters (errors name the rule)."""
        return {rule: self._parse_rule(rule, self.resolve_params()) for rule in self.rules}

    def check(self) -> None:
        super().check()
        needed = {"both": ("entry_long", "entry_short"), "long": ("entry_long",),
                  "short": ("entry_short",)}[self.direction]  # fmt: skip
        if not any(rule in self.rules for rule in needed):
            raise InvalidInput(
                f"{' or '.join(needed)}: a {self.direction} strategy needs an entry."
            )
        self._parsed  # noqa: B018  (parse now: errors at load time)

    @property
    def signal_parameters(self) -> frozenset[str]:
        text = " ".join([self.define, *self.rules.values()])
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
        return frozenset(p for p in self.parameters if p in words)

    def _prefix(self, params: Mapping[str, int | float]) -> str:
        return param_prefix(params) + (self.define + "\n" if self.define else "")

    def _define_statements(self, params: Mapping[str, int | float]) -> int:
        """Number of statements in ``define`` (checked, errors point into it)."""
        if not self.define:
            return 0
        from noxfx.analysis.formula import FormulaError, parse_formula

        head = param_prefix(params)
        try:
            parsed = parse_formula(head + self.define + "\n0")
        except FormulaError as exc:
            error = FormulaError(exc.reason, self.define, exc.offset - len(head))
            raise InvalidInput(f"define: {error.message}") from None
        return len(parsed.statements) - len(params) - 1

    def _parse_rule(self, rule: str, params: Mapping[str, int | float]) -> Any:
        from noxfx.analysis.formula import FormulaError, parse_formula

        n_prefix = len(params) + self._define_statements(params)
        prefix = self._prefix(params)
        text = self.rules[rule]
        try:
            parsed = parse_formula(prefix + text)
        except FormulaError as exc:
            error = FormulaError(exc.reason, text, exc.offset - len(prefix))
            raise InvalidInput(f"{rule}: {error.message}") from None
        if len(parsed.statements) != n_prefix + 1 or not hasattr(parsed.statements[-1], "value"):
            raise InvalidInput(f"{rule}: a rule is one condition (put shared names in 'define').")
        if not parsed.is_condition:
            raise InvalidInput(f"{rule}: {text!r} is not a condition (true/false per bar).")
        return parsed

    def signals(self, bars: pd.DataFrame, params: Params) -> Signals:
        """Evaluate the rules (one formula, so shared indicators are computed once)."""
        from noxfx.analysis.formula import MAX_FORMULA_CHARS, evaluate

        prefix = self._prefix(params)
        body = "".join(f"nox_{rule} = (\n{text}\n)\n" for rule, text in self.rules.items())
        out: dict[str, Any] = {}
        if len(prefix) + len(body) <= MAX_FORMULA_CHARS:
            frame = evaluate(prefix + body, bars)
            for rule in self.rules:
                # one assigned name comes back as a Series, several as a frame of columns
                col = frame if frame.ndim == 1 else frame[f"nox_{rule}"]
                out[_RULE_TO_SIGNAL[rule]] = np.asarray(col, dtype=np.bool_)
        else:  # too long for one formula: one evaluation per rule
            for rule, text in self.rules.items():
                series = evaluate(prefix + text, bars)
                out[_RULE_TO_SIGNAL[rule]] = np.asarray(series, dtype=np.bool_)
        return Signals(**out)


__all__ = ["RULES", "FormulaStrategy"]
