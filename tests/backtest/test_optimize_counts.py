"""Search spaces are counted by arithmetic before any value is built (issue 14): a range of
10,000,000 values, an infinite one or an overflowing one is refused at once (InvalidInput, a
422 in the API) instead of being built in memory first."""

from __future__ import annotations

import math
import resource

import pytest

from noxfx.backtest.optimize import count_values, parse_ranges, space_counts, space_for
from noxfx.backtest.parameters import MAX_GRID_VALUES, Parameter, range_count
from noxfx.backtest.strategy_spec import load_strategy, strategy_from_dict
from noxfx.errors import InvalidInput


def _spec(max_value: float, step: float = 1) -> dict[str, object]:
    return {"name": "huge", "direction": "long",
            "parameters": {"n": {"default": 14, "min": 2, "max": max_value, "step": step}},
            "entry_long": "rsi(close, n) < 30", "exit_long": "rsi(close, n) > 55"}  # fmt: skip


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_parameter_count_is_arithmetic_and_matches_the_grid() -> None:
    for p in (Parameter("a", 5, 5, 50, 5), Parameter("b", 0.5, 0.1, 2.0, 0.1),
              Parameter("c", 3, 3, 3, 1)):  # fmt: skip
        assert p.count() == len(p.grid())
    assert range_count(0, 1e6 - 1, 1) == 1_000_000 == MAX_GRID_VALUES


@pytest.mark.parametrize("lo, hi, step", [
    (0, math.inf, 1), (0, 10, math.nan), (-1e308, 1e308, 1e-300), (0, 1e7, 1), (5, 1, 1),
    (0, 10, 0), (0, 10, -1),
])  # fmt: skip
def test_absurd_ranges_are_refused_by_count(lo: float, hi: float, step: float) -> None:
    with pytest.raises(InvalidInput):
        range_count(lo, hi, step, "x")


def test_declared_range_of_ten_million_is_refused_before_building() -> None:
    strategy = strategy_from_dict(_spec(10_000_000), source="test")
    before = _max_rss_mib()
    with pytest.raises(InvalidInput, match="9,999,999 values"):
        space_for(strategy)
    with pytest.raises(InvalidInput, match="9,999,999 values"):
        space_counts([], strategy)
    assert _max_rss_mib() - before < 200  # the old grid of 10M values took > 1 GB


def test_infinite_text_range_is_invalid_input_not_overflow() -> None:
    strategy = load_strategy("sma_cross")
    for text in ("0:inf:1", "0:1e300:1e-300", "nan:5:1", "1:2:0", "1:2", "a:b:c"):
        with pytest.raises(InvalidInput):
            parse_ranges([f"fast={text}"], strategy)
        with pytest.raises(InvalidInput):
            count_values("fast", text, strategy)


def test_counts_equal_the_built_space() -> None:
    strategy = load_strategy("sma_cross")
    specs = ["fast=5:20:5", "slow=30,40,40,60"]
    space = parse_ranges(specs, strategy)
    assert space_counts(specs, strategy) == {k: len(v.values) for k, v in space.items()}
    assert space_counts([], strategy) == {k: len(v.values) for k, v in space_for(strategy).items()}
