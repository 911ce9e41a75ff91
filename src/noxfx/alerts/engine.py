"""Price-cross rules evaluated on every quote, from sorted level arrays (no database per tick).

A rule fires when the chosen price (``bid``, ``ask`` or ``mid``) crosses its level between two
consecutive quotes of the symbol: ``up`` when ``previous < level <= current``, ``down`` when
``previous > level >= current``, ``either`` for both. The first quote of a symbol after the
rules load only sets the previous price (nothing fires on a level the market was already past).

Per (symbol, price field) the levels are kept sorted; a quote finds the crossed ones with two
binary searches over ``(min(previous, current), max(previous, current)]``, so the cost per quote
is O(log n + fired) whatever the number of rules (``benchmarks/bench_alerts.py``).

``once`` rules fire a single time (then they are spent and leave the index); ``every`` rules
fire again after ``cooldown_s`` seconds of wall time. ``expires_at`` (epoch seconds) retires a
rule. Times: quotes carry UTC market time; cooldowns and expiry use the engine's wall clock.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

Direction = Literal["up", "down", "either"]
PriceField = Literal["bid", "ask", "mid"]


@dataclass(frozen=True, slots=True)
class PriceCrossRule:
    """One active price-cross alert (ids are the database's, as strings)."""

    alert_id: str
    user_id: str
    symbol: str
    level: float
    direction: Direction = "either"
    price: PriceField = "mid"
    repeat: Literal["once", "every"] = "once"
    cooldown_s: float = 0.0
    expires_at: float | None = None


@dataclass(frozen=True, slots=True)
class Crossing:
    """A rule that fired: which way the price went through its level, and the price."""

    rule: PriceCrossRule
    direction: Literal["up", "down"]
    price: float


class _Levels:
    """The rules of one (symbol, price field), sorted by level."""

    def __init__(self, rules: list[PriceCrossRule]) -> None:
        self.rules = sorted(rules, key=lambda r: r.level)
        self.levels = [r.level for r in self.rules]

    def crossed(self, previous: float, current: float) -> list[PriceCrossRule]:
        if current > previous:  # levels in (previous, current]
            lo, hi = bisect_right(self.levels, previous), bisect_right(self.levels, current)
        elif current < previous:  # levels in [current, previous)
            lo, hi = bisect_left(self.levels, current), bisect_left(self.levels, previous)
        else:
            return []
        return self.rules[lo:hi]


class PriceCrossEngine:
    """Every active price-cross rule, indexed by symbol and price field (module docstring)."""

    def __init__(self, rules: Iterable[PriceCrossRule] = (),
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.clock = clock
        self._index: dict[tuple[str, str], _Levels] = {}
        self._last: dict[tuple[str, str], float] = {}
        self._fired_at: dict[str, float] = {}
        self._spent: set[str] = set()
        self.load(rules)

    def load(self, rules: Iterable[PriceCrossRule]) -> None:
        """Replace the rules (previous prices and cooldowns are kept)."""
        groups: dict[tuple[str, str], list[PriceCrossRule]] = {}
        for rule in rules:
            if rule.alert_id not in self._spent:
                groups.setdefault((rule.symbol, rule.price), []).append(rule)
        self._index = {key: _Levels(group) for key, group in groups.items()}

    def __len__(self) -> int:
        return sum(len(levels.rules) for levels in self._index.values())

    def on_quote(self, symbol: str, bid: float, ask: float) -> list[Crossing]:
        """The rules this quote fires, in level order per price field."""
        out: list[Crossing] = []
        now = self.clock()
        for field, price in (("bid", bid), ("ask", ask), ("mid", (bid + ask) / 2)):
            key = (symbol, field)
            levels = self._index.get(key)
            previous = self._last.get(key)
            self._last[key] = price
            if levels is None or previous is None:
                continue
            way: Literal["up", "down"] = "up" if price > previous else "down"
            for rule in levels.crossed(previous, price):
                if rule.direction not in (way, "either") or not self._ready(rule, now):
                    continue
                out.append(Crossing(rule, way, price))
                self._fired_at[rule.alert_id] = now
                if rule.repeat == "once":
                    self._spent.add(rule.alert_id)
        if any(c.rule.repeat == "once" for c in out):
            self._drop_spent()
        return out

    def _ready(self, rule: PriceCrossRule, now: float) -> bool:
        if rule.alert_id in self._spent:
            return False
        if rule.expires_at is not None and now >= rule.expires_at:
            return False
        last = self._fired_at.get(rule.alert_id)
        return last is None or now - last >= rule.cooldown_s

    def _drop_spent(self) -> None:
        for key, levels in list(self._index.items()):
            kept = [r for r in levels.rules if r.alert_id not in self._spent]
            if len(kept) != len(levels.rules):
                self._index[key] = _Levels(kept)


__all__ = ["Crossing", "Direction", "PriceCrossEngine", "PriceCrossRule", "PriceField"]
