"""Chart patterns: geometry on hand-made pivots, status, no lookahead and real-bar coverage."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from noxfx.analysis.chart_patterns import (
    PATTERN_TYPES,
    ChartPattern,
    active_patterns,
    detect_chart_patterns,
    patterns_from_pivots,
)
from noxfx.analysis.zigzag_nb import share_near_floor_nb
from noxfx.errors import InsufficientData, InvalidInput
from tests.analysis._pattern_fixtures import PivotCase, eurusd_d1, eurusd_h1, usdjpy_h4


def found(case: PivotCase) -> list[ChartPattern]:
    return patterns_from_pivots(case.zigzag, case.high, case.low, case.close)


def only(patterns: list[ChartPattern], kind: str) -> ChartPattern:
    matches = [p for p in patterns if p.type == kind]
    assert len(matches) == 1, (kind, [p.type for p in patterns])
    return matches[0]


def mirror(prices: Sequence[float]) -> list[float]:
    return [200.0 - p for p in prices]


# --- geometry on hand-made pivots (ATR = 1.0, pivots every 10 bars) -------------------------

H_AND_S = [100, 106, 103, 109, 103, 106.2]
TRIPLE = [100, 106, 103, 106.2, 103.1, 105.9]
DOUBLE = [100, 106, 103, 106.3]
ASC_TRIANGLE = [100, 106.1, 102, 105.95, 104]
SYM_TRIANGLE = [100, 107, 101.5, 106, 103]
RISING_WEDGE = [100, 105, 103, 106.5, 105.5]
ASC_CHANNEL = [100, 104, 102, 106, 104]
RECTANGLE = [100, 104.1, 99.9, 104.05, 100.05]
BROADENING_BOTTOM = [101, 105, 100, 106, 99]
FLAG = [100, 108, 106, 107.5, 105.6]
PENNANT = [100, 108, 105, 107, 106]
FLAG_GAPS = [8, 4, 4, 4]

GEOMETRY = [
    # (pivot prices, gaps, type, direction, number of key pivots)
    (H_AND_S, 10, "head_and_shoulders", "bearish", 5),
    (mirror(H_AND_S), 10, "inverse_head_and_shoulders", "bullish", 5),
    (DOUBLE, 10, "double_top", "bearish", 3),
    (mirror(DOUBLE), 10, "double_bottom", "bullish", 3),
    (TRIPLE, 10, "triple_top", "bearish", 5),
    (mirror(TRIPLE), 10, "triple_bottom", "bullish", 5),
    (ASC_TRIANGLE, 10, "ascending_triangle", "bullish", 5),
    (mirror(ASC_TRIANGLE), 10, "descending_triangle", "bearish", 5),
    # rectangles and symmetric triangles continue the leg that led into them
    (SYM_TRIANGLE, 10, "symmetric_triangle", "bearish", 5),
    (mirror(SYM_TRIANGLE), 10, "symmetric_triangle", "bullish", 5),
    (RISING_WEDGE, 10, "rising_wedge", "bearish", 5),
    (mirror(RISING_WEDGE), 10, "falling_wedge", "bullish", 5),
    (ASC_CHANNEL, 10, "ascending_channel", "bullish", 5),
    (mirror(ASC_CHANNEL), 10, "descending_channel", "bearish", 5),
    (RECTANGLE, 10, "rectangle", "bearish", 5),
    (mirror(RECTANGLE), 10, "rectangle", "bullish", 5),
    (BROADENING_BOTTOM, 10, "broadening_bottom", "bullish", 5),
    (mirror(BROADENING_BOTTOM), 10, "broadening_top", "bearish", 5),
    (FLAG, FLAG_GAPS, "bull_flag", "bullish", 5),
    (mirror(FLAG), FLAG_GAPS, "bear_flag", "bearish", 5),
    (PENNANT, FLAG_GAPS, "bull_pennant", "bullish", 5),
    (mirror(PENNANT), FLAG_GAPS, "bear_pennant", "bearish", 5),
]


@pytest.mark.parametrize(("prices", "gaps", "kind", "direction", "keys"), GEOMETRY)
def test_geometry_of_each_type(
    prices: list[float], gaps: int | list[int], kind: str, direction: str, keys: int
) -> None:
    case = PivotCase(prices, gaps)
    p = only(found(case), kind)
    zz = case.zigzag
    assert p.direction == direction
    assert p.key_bars == [int(b) for b in zz.bar[-keys:]]
    assert [price for _, price in p.key_points] == pytest.approx(list(zz.price[-keys:]))
    assert [t for t, _ in p.key_points] == list(zz.time[-keys:])
    assert p.end_bar == zz.bar[-1] and p.start_bar == zz.bar[-keys]
    assert p.first_visible_bar == zz.confirmed_bar[-1] == p.end_bar + 2
    assert p.first_visible_time == case.bars.index[p.first_visible_bar]
    sign = 1 if direction == "bullish" else -1
    assert p.height > 0 and p.target == pytest.approx(p.breakout_level + sign * p.height)
    assert sign * (p.breakout_level - p.invalidation_level) > 0
    assert 0.0 <= p.quality <= 1.0 and p.atr == 1.0


def test_head_and_shoulders_levels() -> None:
    p = only(found(PivotCase(H_AND_S)), "head_and_shoulders")
    # flat neckline through the troughs at 103, head 109: target 103 - 6
    assert p.breakout_level == pytest.approx(103.0) and p.breakout_slope == pytest.approx(0.0)
    assert p.target == pytest.approx(97.0) and p.invalidation_level == 109.0
    sloped = only(found(PivotCase([100, 106, 103, 109, 104, 106.2])), "head_and_shoulders")
    slope = (104 - 103) / 20  # neckline from the trough at bar 40 to the one at bar 60
    assert sloped.breakout_slope == pytest.approx(slope)
    assert sloped.breakout_level == pytest.approx(103 + slope * (sloped.first_visible_bar - 40))
    assert sloped.height == pytest.approx(109 - (103 + slope * 10))  # neckline under the head


def test_double_and_triple_top_levels() -> None:
    double = only(found(PivotCase(DOUBLE)), "double_top")
    assert (double.breakout_level, double.invalidation_level) == (103.0, 106.3)
    assert double.target == pytest.approx(103.0 - 3.3)
    triple = only(found(PivotCase(TRIPLE)), "triple_top")
    assert triple.breakout_level == 103.0 and triple.invalidation_level == 106.2
    assert triple.target == pytest.approx(103.0 - (np.mean([106, 106.2, 105.9]) - 103.0))
    # the double top on the last two tops is hidden by the triple top ending on the same pivot
    assert all(
        p.end_bar != triple.end_bar for p in found(PivotCase(TRIPLE)) if p.type == "double_top"
    )


def test_triangle_lines() -> None:
    p = only(found(PivotCase(ASC_TRIANGLE)), "ascending_triangle")
    assert abs(p.breakout_slope) * 40 < 0.5 and p.invalidation_slope == pytest.approx(0.1)
    assert p.breakout_level == pytest.approx(106.0, abs=0.2)
    # measured move: the opening width (upper line minus lower line at the first pivot)
    assert p.height == pytest.approx(p.breakout_at(20) - p.invalidation_at(20))


def test_flag_target_is_the_pole() -> None:
    p = only(found(PivotCase(FLAG, FLAG_GAPS)), "bull_flag")
    assert p.height == pytest.approx(8.0) and p.invalidation_level == 105.6
    assert p.breakout_slope == pytest.approx((107.5 - 108) / 8)


@pytest.mark.parametrize(
    ("prices", "gaps", "kind"),
    [
        ([100, 106, 103, 109, 103, 107.6], 10, "head_and_shoulders"),  # shoulders 1.6 ATR apart
        ([100, 106, 103, 106.6, 103, 106.2], 10, "head_and_shoulders"),  # head too low
        ([104, 106, 103, 109, 103, 106.2], 10, "head_and_shoulders"),  # no rise into it
        ([100, 106, 103, 107.0], 10, "double_top"),  # tops 1 ATR apart
        ([100, 106, 105.5, 106.1], 10, "double_top"),  # valley under 1 ATR deep
        ([100, 106, 103, 106.3], 3, "double_top"),  # shorter than min_bars
        ([100, 108, 103, 107.5, 102.5], FLAG_GAPS, "bull_flag"),  # retraces over half the pole
        ([100, 108, 106, 107.5, 105.6], [4, 8, 8, 8], "bull_flag"),  # flag 6x the pole's time
        ([100, 104, 103.2, 106, 104], 10, "ascending_channel"),  # middle low 0.8 ATR off
    ],
)
def test_near_misses_are_rejected(prices: list[float], gaps: int | list[int], kind: str) -> None:
    assert kind not in {p.type for p in found(PivotCase(prices, gaps))}


def _cup_path(n: int = 200) -> np.ndarray:
    t = np.arange(float(n))
    return np.where((t >= 20) & (t <= 80), 100 + 10 * ((t - 50) / 30) ** 2, 110.0)


def test_rounding_bottom_and_cup_with_handle() -> None:
    cup = _cup_path()
    p = only(found(PivotCase([110, 100, 110], 30, path=cup)), "rounding_bottom")
    assert p.direction == "bullish" and p.breakout_level == 110 and p.target == 120
    assert p.invalidation_level == 100
    handle = np.concatenate([cup[:81], np.linspace(110, 107, 11)[1:]])
    case = PivotCase([110, 100, 110, 107], [30, 30, 10], path=handle)
    c = only(found(case), "cup_and_handle")
    assert (c.breakout_level, c.invalidation_level, c.target) == (110, 107, 120)
    assert len(c.key_points) == 4
    # a V between the same rims spends too little time near its floor
    v = np.interp(np.arange(200.0), [20, 50, 80], [110, 100, 110])
    assert "rounding_bottom" not in {p.type for p in found(PivotCase([110, 100, 110], 30, path=v))}
    deep_handle = PivotCase([110, 100, 110, 103], [30, 30, 10], path=cup)
    assert "cup_and_handle" not in {p.type for p in found(deep_handle)}


# --- status -----------------------------------------------------------------------------


def test_status_confirmed_failed_expired() -> None:
    drop = PivotCase(H_AND_S, tail=[105.5, 104.5, 103.5, 102.5, 102.0, 101.0])
    p = only(found(drop), "head_and_shoulders")
    assert (p.status, p.status_reason) == ("confirmed", "breakout")
    assert p.status_bar == 70 + 4 and drop.close[p.status_bar] < p.breakout_level
    assert p.status_time == drop.bars.index[p.status_bar]

    rally = PivotCase(H_AND_S, tail=[106.5, 107.5, 108.5, 109.5, 110.0])
    p = only(found(rally), "head_and_shoulders")
    assert (p.status, p.status_reason, p.status_bar) == ("failed", "invalidated", 70 + 4)

    flat = PivotCase(H_AND_S, tail=[105.0] * 60)
    p = only(found(flat), "head_and_shoulders")
    assert (p.status, p.status_reason) == ("failed", "expired")
    assert p.expiry_bar == p.first_visible_bar + 40 and p.status_bar == p.expiry_bar + 1

    waiting = PivotCase(H_AND_S, tail=[105.0] * 10)
    assert only(found(waiting), "head_and_shoulders").status == "forming"


def _status_reference(p: ChartPattern, bars: pd.DataFrame) -> tuple[str, int | None]:
    """Slow obvious re-derivation of a pattern's status from its lines."""
    high, low, close = (bars[c].to_numpy() for c in ("high", "low", "close"))
    last = min(p.expiry_bar, len(close) - 1)
    for t in range(p.first_visible_bar, last + 1):
        brk, inv = p.breakout_at(t), p.invalidation_at(t)
        if (brk - inv) * (1 if p.direction == "bullish" else -1) <= 0:
            return "expired", t
        if p.direction == "bullish":
            if low[t] < inv:
                return "invalidated", t
            if close[t] > brk:
                return "breakout", t
        else:
            if high[t] > inv:
                return "invalidated", t
            if close[t] < brk:
                return "breakout", t
    if p.expiry_bar < len(close) - 1:
        return "expired", p.expiry_bar + 1
    return "forming", None


def test_status_kernel_matches_reference_on_real_bars() -> None:
    bars = eurusd_d1()
    patterns = detect_chart_patterns(bars)
    for p in patterns:
        reason, at = _status_reference(p, bars)
        assert (p.status_reason or "forming", p.status_bar) == (reason, at), p.type
        assert p.status == {"breakout": "confirmed", "forming": "forming"}.get(reason, "failed")
        # never reported when already broken on the bar that reveals it
        assert not (reason in ("invalidated", "expired") and at == p.first_visible_bar)


def test_floor_share_kernel_matches_numpy() -> None:
    close = eurusd_d1()["close"].to_numpy()
    rng = np.random.default_rng(7)
    first = rng.integers(0, 4000, 50)
    last = first + rng.integers(0, 300, 50)
    floor = np.array([close[a : b + 1].min() for a, b in zip(first, last, strict=True)])
    ceiling = np.array([close[a : b + 1].max() for a, b in zip(first, last, strict=True)])
    got = share_near_floor_nb(close, first, last, floor, ceiling, 1 / 3)
    for i, (a, b) in enumerate(zip(first, last, strict=True)):
        window = close[a : b + 1]
        assert got[i] == pytest.approx(np.mean(window <= floor[i] + (ceiling[i] - floor[i]) / 3))


# --- no lookahead -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("load", "cuts"),
    [
        (eurusd_d1, [200, 731, 1499, 2500, 3333, 4200, 4990]),
        (eurusd_h1, [9000, 31_337, 49_000]),
        (usdjpy_h4, [5000, 12_001]),
    ],
)
def test_no_lookahead(load: Callable[[], pd.DataFrame], cuts: list[int]) -> None:
    bars = load()
    full = detect_chart_patterns(bars)
    for t in cuts:
        part = detect_chart_patterns(bars.iloc[:t])
        known = [p for p in full if p.first_visible_bar <= t - 1]
        assert [p.identity() for p in part] == [p.identity() for p in known]
        assert part, f"no pattern before bar {t}"
        for p in part:
            assert max(p.key_bars) <= t - 1 and p.first_visible_bar <= t - 1
            assert max(time for time, _ in p.key_points) <= bars.index[t - 1]
            assert p.status_bar is None or p.status_bar <= t - 1
        # as_of on the full frame is the same as cutting it
        as_of = detect_chart_patterns(bars, as_of=bars.index[t - 1])
        assert [p.as_dict() for p in as_of] == [p.as_dict() for p in part]


# --- real bars --------------------------------------------------------------------------


def test_many_types_on_real_bars_with_sane_levels() -> None:
    counts: Counter[str] = Counter()
    for bars in (eurusd_d1(), eurusd_h1()):
        close = bars["close"].to_numpy()
        patterns = detect_chart_patterns(bars)
        counts.update(p.type for p in patterns)
        for p in patterns:
            sign = 1 if p.direction == "bullish" else -1
            assert p.type in PATTERN_TYPES and p.direction in ("bullish", "bearish")
            assert p.height > 0 and sign * (p.target - p.breakout_level) > 0
            assert sign * (p.breakout_level - p.invalidation_level) > 0
            assert 0.0 <= p.quality <= 1.0
            assert p.key_bars == sorted(p.key_bars) and p.end_bar < p.first_visible_bar
            if p.status == "confirmed":
                assert p.status_bar is not None
                assert sign * (close[p.status_bar] - p.breakout_at(p.status_bar)) > 0
    assert len(counts) >= 20, counts
    assert counts["double_top"] >= 50 and counts["head_and_shoulders"] >= 20, counts
    d1_types = {p.type for p in detect_chart_patterns(eurusd_d1())}
    assert len(d1_types) >= 15, d1_types


def test_reversal_patterns_point_the_right_way() -> None:
    for p in detect_chart_patterns(usdjpy_h4()):
        head = [price for _, price in p.key_points]
        if p.type == "head_and_shoulders":
            assert head[2] == max(head) and p.invalidation_level == head[2]
            assert p.target < p.breakout_level < head[2]
        elif p.type == "double_bottom":
            assert p.breakout_level == head[1] and p.invalidation_level == min(head[0], head[2])


def test_active_patterns_and_json() -> None:
    bars = eurusd_d1()
    full = detect_chart_patterns(bars)
    late = [p for p in full if p.status_bar is None or p.status_bar > p.first_visible_bar + 5]
    for target in late[::10]:
        seen = target.first_visible_bar
        live = active_patterns(bars, as_of=bars.index[seen], recent_bars=20)
        assert target.identity() in [p.identity() for p in live]
        assert [p.quality for p in live] == sorted((p.quality for p in live), reverse=True)
        for p in live:
            assert p.first_visible_bar <= seen
            assert p.status == "forming" or (
                p.status == "confirmed" and p.status_bar is not None and p.status_bar >= seen - 20
            )
    text = json.dumps([p.as_dict() for p in full])
    assert text.count("first_visible_time") == len(full)


def test_bad_input() -> None:
    bars = eurusd_d1()
    with pytest.raises(InvalidInput):
        detect_chart_patterns(bars, threshold_atr=0)
    with pytest.raises(InvalidInput):
        detect_chart_patterns(bars, lookback_pivots=4)
    with pytest.raises(InsufficientData):
        detect_chart_patterns(bars.iloc[:10])
    assert detect_chart_patterns(bars.iloc[:40]) == []  # too short for any pattern
    assert active_patterns(bars.iloc[:40]) == []
    with pytest.raises(InvalidInput):
        detect_chart_patterns(bars.tz_localize(None))
    with pytest.raises(InvalidInput):
        detect_chart_patterns(bars, as_of="not a date")
