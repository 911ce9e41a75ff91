"""Support/resistance levels on real bars, clustering against a slow reference, round levels."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from noxfx.analysis.support_resistance import cluster_prices, round_levels, support_resistance
from noxfx.analysis.zigzag import zigzag
from noxfx.errors import InsufficientData, InvalidInput, UnknownInstrument
from tests.analysis._pattern_fixtures import eurusd_d1, eurusd_h1, usdjpy_h4


def reference_clusters(prices: list[float], tolerance: float) -> list[list[float]]:
    """Greedy 1-D clustering with plain lists: a cluster spans at most ``tolerance``."""
    clusters: list[list[float]] = []
    for price in sorted(prices):
        if clusters and price - clusters[-1][0] <= tolerance:
            clusters[-1].append(price)
        else:
            clusters.append([price])
    return clusters


def test_clustering_matches_reference() -> None:
    prices = np.sort(zigzag(eurusd_d1(), threshold_atr=1.0).price)
    for tolerance in (0.001, 0.0035, 0.01):
        labels = cluster_prices(prices, tolerance)
        groups = [list(prices[labels == k]) for k in np.unique(labels)]
        assert groups == reference_clusters(list(prices), tolerance)
        assert all(g[-1] - g[0] <= tolerance for g in groups)
        assert np.all(np.diff(labels) >= 0)


def test_round_levels() -> None:
    assert round_levels(1.0987, 0.0001) == [
        (1.09, True),
        (1.095, False),
        (1.1, True),
        (1.105, False),
    ]
    assert round_levels(150.37, 0.01, count=1, precision=3) == [(150.0, True), (150.5, False)]
    assert round_levels(1.1000, 0.0001, count=1) == [(1.1, True), (1.105, False)]


def _touches_by_pandas(bars: pd.DataFrame, low: float, high: float, lookback: int) -> int:
    frame = zigzag(bars, threshold_atr=1.5).to_frame()
    recent = frame[frame["confirmed_bar"] >= len(bars) - 1 - lookback]
    return int(recent["price"].between(low, high).sum())


@pytest.mark.parametrize(("load", "symbol"), [(eurusd_d1, "EURUSD"), (usdjpy_h4, "USDJPY")])
def test_levels_on_real_bars(load: Callable[[], pd.DataFrame], symbol: str) -> None:
    bars = load()
    sr = support_resistance(bars, symbol, max_levels=8)
    close = float(bars["close"].iloc[-1])
    assert sr.symbol == symbol and sr.last_close == close and sr.time == bars.index[-1]
    assert 4 <= len(sr.levels) <= 8
    assert [lv.price for lv in sr.levels] == sorted((lv.price for lv in sr.levels), reverse=True)
    assert sr.supports and sr.resistances
    pip = 0.01 if symbol == "USDJPY" else 0.0001
    for lv in sr.levels:
        assert lv.kind == ("resistance" if lv.price > close else "support")
        assert lv.touches >= 2 and 0 <= lv.high_touches <= lv.touches
        assert 0.0 < lv.strength <= 1.0
        assert lv.first_touch <= lv.last_touch <= sr.time
        assert lv.low - pip <= lv.price <= lv.high + pip
        assert lv.high - lv.low <= sr.tolerance + 1e-12
        assert lv.distance_pips == pytest.approx((lv.price - close) / pip, abs=1.0)
        assert abs(lv.price - close) <= 15 * sr.atr + pip
        assert lv.touches == _touches_by_pandas(bars, lv.low, lv.high, 2000)
    nearest_support = sr.supports[0].price
    assert all(lv.price <= nearest_support for lv in sr.supports)
    for rl in sr.round_levels:
        steps = rl.price / (50 * pip)
        assert steps == pytest.approx(round(steps), abs=1e-6)
        assert rl.major == (round(steps) % 2 == 0)
        assert rl.kind == ("resistance" if rl.price > close else "support")
    assert len(sr.round_levels) == 4 and abs(sr.round_levels[0].price - close) <= 100 * pip
    json.dumps(sr.as_dict())


def test_as_of_uses_only_past_bars() -> None:
    bars = eurusd_h1()
    cut = 30_000
    as_of = bars.index[cut - 1]
    a = support_resistance(bars, "EURUSD", as_of=as_of)
    b = support_resistance(bars.iloc[:cut], "EURUSD")
    assert a == b
    assert a.time == as_of and all(lv.last_touch <= as_of for lv in a.levels)
    assert a.last_close == bars["close"].iloc[cut - 1]


def test_pip_tolerance_and_options() -> None:
    bars = eurusd_d1()
    sr = support_resistance(bars, "eur/usd", tolerance_pips=20, max_levels=4, min_touches=3)
    assert sr.tolerance == pytest.approx(0.0020)
    assert len(sr.levels) <= 4 and all(lv.touches >= 3 for lv in sr.levels)
    assert all(lv.high - lv.low <= 0.0020 + 1e-12 for lv in sr.levels)


def test_bad_input() -> None:
    bars = eurusd_d1()
    with pytest.raises(UnknownInstrument):
        support_resistance(bars, "XXXYYY")
    with pytest.raises(InvalidInput):
        support_resistance(bars, "EURUSD", max_levels=0)
    with pytest.raises(InvalidInput):
        support_resistance(bars, "EURUSD", tolerance_pips=-5)
    with pytest.raises(InsufficientData):
        support_resistance(bars.iloc[:10], "EURUSD")
