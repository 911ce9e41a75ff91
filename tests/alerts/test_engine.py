"""Price-cross rules: crossings found by binary search equal a plain scan, on real quotes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noxfx.alerts.engine import PriceCrossEngine, PriceCrossRule
from tests.conftest import shared


class Clock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


def _rule(i: int, level: float, **kw: object) -> PriceCrossRule:
    return PriceCrossRule(alert_id=f"a{i}", user_id="u", symbol="EURUSD", level=level, **kw)  # type: ignore[arg-type]


def test_up_down_either_and_the_first_quote() -> None:
    eng = PriceCrossEngine([_rule(1, 1.2000, direction="up"), _rule(2, 1.2000, direction="down"),
                            _rule(3, 1.1990, direction="either", repeat="every")])  # fmt: skip
    assert eng.on_quote("EURUSD", 1.2010, 1.2012) == []  # first quote: only the previous price
    down = eng.on_quote("EURUSD", 1.1995, 1.1997)  # mid 1.2011 -> 1.1996
    assert [c.rule.alert_id for c in down] == ["a2"] and down[0].direction == "down"
    both = eng.on_quote("EURUSD", 1.1980, 1.1982)
    assert [c.rule.alert_id for c in both] == ["a3"]
    up = eng.on_quote("EURUSD", 1.2005, 1.2007)  # back up through 1.1990 and 1.2000
    assert sorted(c.rule.alert_id for c in up) == ["a1", "a3"]
    # once rules are spent; the "every" rule fires each time (no cooldown)
    assert eng.on_quote("EURUSD", 1.1985, 1.1987)[0].rule.alert_id == "a3"
    assert len(eng) == 1


def test_cooldown_and_expiry_on_a_fixed_clock() -> None:
    clock = Clock()
    eng = PriceCrossEngine([_rule(1, 1.0, repeat="every", cooldown_s=60),
                            _rule(2, 1.0, expires_at=1_030.0)], clock=clock)  # fmt: skip
    eng.on_quote("EURUSD", 0.99, 0.99)
    assert len(eng.on_quote("EURUSD", 1.01, 1.01)) == 2
    clock.t += 30
    assert eng.on_quote("EURUSD", 0.99, 0.99) == []  # in the cooldown
    clock.t += 31
    assert [c.rule.alert_id for c in eng.on_quote("EURUSD", 1.01, 1.01)] == ["a1"]


@settings(max_examples=60, deadline=None)
@given(levels=st.lists(st.floats(1.0, 1.3), min_size=1, max_size=200),
       path=st.lists(st.floats(1.0, 1.3), min_size=2, max_size=40))  # fmt: skip
def test_binary_search_equals_a_plain_scan(levels: list[float], path: list[float]) -> None:
    rules = [_rule(i, lv, repeat="every", price="bid") for i, lv in enumerate(levels)]
    eng = PriceCrossEngine(rules)
    eng.on_quote("EURUSD", path[0], path[0])
    for prev, cur in itertools.pairwise(path):
        got = sorted(c.rule.alert_id for c in eng.on_quote("EURUSD", cur, cur))
        want = sorted(r.alert_id for r in rules
                      if prev < r.level <= cur or cur <= r.level < prev)  # fmt: skip
        assert got == want


def test_real_ticks_fire_each_once_rule_exactly_when_the_path_crosses_it() -> None:
    """HistData EURUSD 1m closes as a quote path; 2,000 random once-levels inside its range."""
    from noxfx.data.formats import read_file

    closes = read_file(shared("histdata/DAT_ASCII_EURUSD_M1_201701.csv.gz")).frame["close"]
    path = closes.to_numpy()[:5000]
    rng = np.random.default_rng(7)
    levels = rng.uniform(path.min(), path.max(), 2000)
    eng = PriceCrossEngine([_rule(i, float(lv), price="bid") for i, lv in enumerate(levels)])
    fired_at: dict[str, int] = {}
    for k, p in enumerate(path):
        for c in eng.on_quote("EURUSD", float(p), float(p) + 0.0001):
            if c.rule.price == "bid":
                assert c.rule.alert_id not in fired_at
                fired_at[c.rule.alert_id] = k
    for i, lv in enumerate(levels):
        # the first step whose move covers the level
        steps = np.flatnonzero(((path[:-1] < lv) & (lv <= path[1:]))
                               | ((path[1:] <= lv) & (lv < path[:-1])))  # fmt: skip
        assert fired_at.get(f"a{i}") == (int(steps[0]) + 1 if steps.size else None)


@pytest.mark.parametrize("n", [0, 1])
def test_an_empty_or_tiny_engine(n: int) -> None:
    eng = PriceCrossEngine([_rule(1, 1.0)][:n])
    assert eng.on_quote("GBPUSD", 1.0, 1.0) == [] and len(eng) == n
