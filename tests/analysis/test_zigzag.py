"""ATR zigzag: the numba kernel against a slow pure-Python reference, on real bars."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from noxfx.analysis.zigzag import Zigzag, atr_series, zigzag, zigzag_arrays
from noxfx.errors import InsufficientData, InvalidInput
from tests.analysis._pattern_fixtures import eurusd_d1, eurusd_h1, usdjpy_h4

Pivot = tuple[int, float, int, int]  # (bar, price, kind, confirmed_bar)
Loader = Callable[[], pd.DataFrame]


def reference_zigzag(
    high: np.ndarray, low: np.ndarray, atr: np.ndarray, threshold: float
) -> list[Pivot]:
    """The zigzag rule written out bar by bar, recomputing every extreme by slicing.

    Before the first pivot: the first highest high and first lowest low since the first bar
    with an ATR; once they sit on different bars and span ``threshold * atr[t]``, the older is a
    pivot. Afterwards in an up-leg: a higher high moves the candidate; otherwise the lowest low
    after the candidate (first occurrence) confirms it when ``threshold * atr[t]`` below it, and
    becomes the candidate of the down-leg. Mirror for down-legs.
    """
    start = int(np.flatnonzero(np.isfinite(atr))[0])
    pivots: list[Pivot] = []
    leg, cand = 0, -1
    for t in range(start + 1, len(high)):
        need = threshold * atr[t]
        if leg == 0:
            hi = start + int(np.argmax(high[start : t + 1]))
            lo = start + int(np.argmin(low[start : t + 1]))
            if hi != lo and high[hi] - low[lo] >= need:
                if lo < hi:
                    pivots.append((lo, float(low[lo]), -1, t))
                    leg, cand = 1, hi
                else:
                    pivots.append((hi, float(high[hi]), 1, t))
                    leg, cand = -1, lo
        elif leg == 1:
            if high[t] > high[cand]:
                cand = t
                continue
            j = cand + 1 + int(np.argmin(low[cand + 1 : t + 1]))
            if high[cand] - low[j] >= need:
                pivots.append((cand, float(high[cand]), 1, t))
                leg, cand = -1, j
        else:
            if low[t] < low[cand]:
                cand = t
                continue
            j = cand + 1 + int(np.argmax(high[cand + 1 : t + 1]))
            if high[j] - low[cand] >= need:
                pivots.append((cand, float(low[cand]), -1, t))
                leg, cand = 1, j
    return pivots


def as_tuples(z: Zigzag) -> list[Pivot]:
    return [
        (int(b), float(p), int(k), int(c))
        for b, p, k, c in zip(z.bar, z.price, z.kind, z.confirmed_bar, strict=True)
    ]


@pytest.mark.parametrize(
    ("load", "threshold"),
    [(eurusd_d1, 1.0), (eurusd_d1, 2.0), (eurusd_d1, 3.5), (eurusd_h1, 2.0), (usdjpy_h4, 1.5)],
)
def test_kernel_matches_reference(load: Loader, threshold: float) -> None:
    bars = load()
    z = zigzag(bars, threshold_atr=threshold)
    high, low, close = (bars[c].to_numpy() for c in ("high", "low", "close"))
    atr = atr_series(high, low, close, 14)
    expected = reference_zigzag(high, low, atr, threshold)
    assert len(expected) > 100
    assert as_tuples(z) == expected
    assert np.array_equal(z.atr, atr[z.confirmed_bar])


def test_pivot_invariants_on_real_bars() -> None:
    bars = eurusd_h1()
    high, low = bars["high"].to_numpy(), bars["low"].to_numpy()
    z = zigzag(bars)
    assert np.all(np.diff(z.bar) > 0) and np.all(np.diff(z.confirmed_bar) >= 0)
    assert np.all(z.bar < z.confirmed_bar)
    assert np.all(z.kind[1:] == -z.kind[:-1])  # alternating
    is_high = z.kind > 0
    assert np.array_equal(z.price[is_high], high[z.bar[is_high]])
    assert np.array_equal(z.price[~is_high], low[z.bar[~is_high]])
    # each pivot is the extreme of the bars since the previous pivot, up to its confirmation
    for i in range(1, len(z)):
        window = slice(z.bar[i - 1] + 1, z.confirmed_bar[i] + 1)
        extreme = high[window].max() if z.kind[i] > 0 else low[window].min()
        assert z.price[i] == extreme
    # and the reversal that confirmed it is at least threshold x ATR (at the confirming bar)
    for i in range(len(z)):
        window = slice(z.bar[i] + 1, z.confirmed_bar[i] + 1)
        move = z.price[i] - low[window].min() if z.kind[i] > 0 else high[window].max() - z.price[i]
        assert move >= 2.0 * z.atr[i] - 1e-12


@pytest.mark.parametrize("load", [eurusd_d1, usdjpy_h4])
def test_prefix_gives_the_confirmed_pivots(load: Loader) -> None:
    bars = load()
    full = zigzag(bars)
    for t in (100, 1234, 3000, len(bars) - 7):
        part = zigzag(bars.iloc[:t])
        assert as_tuples(part) == as_tuples(full.upto(t - 1))
        assert as_tuples(zigzag(bars, as_of=bars.index[t - 1])) == as_tuples(part)
        assert part.confirmed_bar.max() <= t - 1


def test_frame_output() -> None:
    bars = eurusd_d1()
    frame = zigzag(bars).to_frame()
    expected = ["bar", "time", "price", "kind", "confirmed_bar", "confirmed_time", "atr"]
    assert list(frame.columns) == expected
    assert set(frame["kind"]) == {"high", "low"}
    assert str(frame["time"].dt.tz) == "UTC"
    assert (frame["time"] == bars.index[frame["bar"]]).all()
    assert (frame["confirmed_time"] == bars.index[frame["confirmed_bar"]]).all()
    assert (frame["confirmed_time"] > frame["time"]).all()


def test_hand_made_swings() -> None:
    # bars of range 1 around these mid prices, ATR 1 from bar 2 on, threshold 2 ATR
    mids = [10, 10, 10, 10, 13, 12.5, 12, 10, 11, 11.5, 13, 14.5, 13, 11]
    high = np.array(mids, dtype=float) + 0.5
    low = high - 1.0
    atr = np.where(np.arange(len(high)) >= 2, 1.0, np.nan)
    bar, price, kind, confirmed = zigzag_arrays(high, low, atr, 2.0)
    # the scan starts at bar 2 (first ATR); bar 4's high 13.5 is 4 above the low 9.5 of bar 2
    # (bar 3 ties it, the first occurrence counts): low pivot at 2, confirmed at 4. Bar 6's low
    # 11.5 is 2 under 13.5: high pivot at 4, confirmed at 6. Bar 7 extends the down-leg to 9.5,
    # bar 8's high 11.5 confirms it. Highs rise to 15 at bar 11; bar 12's low 12.5 confirms it.
    # The last leg (down from 15) is not confirmed yet.
    assert list(
        zip(bar.tolist(), price.tolist(), kind.tolist(), confirmed.tolist(), strict=True)
    ) == [
        (2, 9.5, -1, 4),
        (4, 13.5, 1, 6),
        (7, 9.5, -1, 8),
        (11, 15.0, 1, 12),
    ]
    # one outside bar holding both the highest high and the lowest low decides nothing (the
    # order of high and low inside a bar is unknown)
    spike_high = np.array([10.5, 10.5, 10.5, 14.0, 13.0])
    spike_low = np.array([9.5, 9.5, 9.5, 9.0, 12.0])
    atr = np.array([np.nan, 1.0, 1.0, 1.0, 1.0])
    assert zigzag_arrays(spike_high, spike_low, atr, 2.0)[0].tolist() == []
    # in a leg, the bar making a new high cannot confirm it, and its low (3.1 under the new
    # high 16) does not count for the reversal later either
    high = np.array([10.5, 10.5, 13.5, 16.0, 15.5])
    low = np.array([9.5, 9.5, 12.5, 12.9, 15.0])
    bar, price, kind, confirmed = zigzag_arrays(high, low, atr, 2.0)
    assert list(
        zip(bar.tolist(), price.tolist(), kind.tolist(), confirmed.tolist(), strict=True)
    ) == [(1, 9.5, -1, 2)]


def test_bad_input() -> None:
    bars = eurusd_d1()
    with pytest.raises(InvalidInput):
        zigzag(bars, threshold_atr=-1)
    with pytest.raises(InvalidInput):
        zigzag(bars, atr_period=0)
    with pytest.raises(InsufficientData):
        zigzag(bars.iloc[:15])
    with pytest.raises(InsufficientData):
        zigzag(bars, as_of="1999-01-01")
    broken = bars.copy()
    broken.loc[broken.index[50], "high"] = np.nan
    with pytest.raises(InvalidInput):
        zigzag(broken)
    with pytest.raises(InvalidInput):
        zigzag(bars[["open", "close"]])
    with pytest.raises(InvalidInput):
        zigzag(bars.iloc[::-1])
    with pytest.raises(InvalidInput):
        zigzag(bars.tz_localize(None))
