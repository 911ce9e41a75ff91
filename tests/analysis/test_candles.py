"""noxfx.analysis.candles: the 61 TA-Lib patterns and recent_candles()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from noxfx.analysis import candles
from noxfx.analysis import indicators as ind
from noxfx.errors import InvalidInput

TALIB_PATTERNS = talib.get_function_groups()["Pattern Recognition"]


def test_all_61_talib_patterns_are_registered_under_cdl_names() -> None:
    assert len(TALIB_PATTERNS) == 61
    expected = {"cdl_" + f.removeprefix("CDL").lower() for f in TALIB_PATTERNS}
    assert {p.name for p in candles.CANDLE_PATTERNS} == expected
    assert {e.name for e in ind.indicator_specs("pattern")} == expected


@pytest.mark.parametrize("function", TALIB_PATTERNS)
def test_pattern_columns_equal_talib(function: str, h1_recent: pd.DataFrame) -> None:
    name = "cdl_" + function.removeprefix("CDL").lower()
    ohlc = [h1_recent[c].to_numpy() for c in ("open", "high", "low", "close")]
    column = ind.compute(h1_recent, [name])[name]
    np.testing.assert_array_equal(column.to_numpy(), getattr(talib, function)(*ohlc))
    assert column.dtype.kind == "i"
    assert set(np.unique(column)) <= {-200, -100, -80, 0, 80, 100, 200}


def test_candle_patterns_frame(h1_recent: pd.DataFrame) -> None:
    frame = candles.candle_patterns(h1_recent, ["cdl_engulfing", "CDL_DOJI"])
    assert list(frame.columns) == ["cdl_engulfing", "cdl_doji"]
    assert frame.index.equals(h1_recent.index)
    assert (frame["cdl_engulfing"] != 0).sum() > 100  # frequent on H1
    with pytest.raises(InvalidInput, match="unknown candle pattern"):
        candles.candle_patterns(h1_recent, ["cdl_nope"])


def _slow_recent(bars: pd.DataFrame, lookback: int) -> list[tuple[pd.Timestamp, str, int]]:
    """Scan full-history codes of every pattern over the last ``lookback`` bars."""
    ohlc = [bars[c].to_numpy() for c in ("open", "high", "low", "close")]
    found = []
    for function in TALIB_PATTERNS:
        codes = getattr(talib, function)(*ohlc)
        for i in range(len(bars) - lookback, len(bars)):
            if codes[i] != 0:
                found.append((bars.index[i], "cdl_" + function[3:].lower(), int(codes[i])))
    return sorted(found, key=lambda x: (x[0], x[1]))


@pytest.mark.parametrize(("end", "lookback"), [(6000, 20), (5000, 50), (3333, 1), (777, 200)])
def test_recent_candles_equals_full_history_scan(
    h1_recent: pd.DataFrame, end: int, lookback: int
) -> None:
    bars = h1_recent.iloc[:end]
    got = candles.recent_candles(bars, lookback)
    expected = _slow_recent(bars, lookback)
    assert [(o.time, o.name, o.strength) for o in got] == [(t, n, abs(c)) for t, n, c in expected]
    codes = {(t, n): c for t, n, c in expected}
    for occurrence in got:
        pattern = next(p for p in candles.CANDLE_PATTERNS if p.name == occurrence.name)
        code = codes[(occurrence.time, occurrence.name)]
        assert occurrence.direction == pattern.direction(code)
        assert occurrence.label == pattern.label(code)
        assert occurrence.time.tz is not None and str(occurrence.time.tz) == "UTC"
    assert bars.index[-lookback] <= got[0].time if got else True


def test_recent_candles_labels_people_understand(h1_bars: pd.DataFrame) -> None:
    found = candles.recent_candles(h1_bars, lookback=2000)
    by_name = {(o.name, o.direction): o.label for o in found}
    assert by_name[("cdl_engulfing", "bullish")] == "Bullish Engulfing"
    assert by_name[("cdl_engulfing", "bearish")] == "Bearish Engulfing"
    assert by_name[("cdl_doji", "neutral")] == "Doji"
    assert {o.direction for o in found} == {"bullish", "bearish", "neutral"}
    assert {o.strength for o in found} <= {80, 100, 200}
    assert all(o.label and not o.label.startswith("cdl") for o in found)


def test_pattern_reading_overrides_misleading_signs() -> None:
    table = {p.name: p for p in candles.CANDLE_PATTERNS}
    assert table["cdl_gravestonedoji"].direction(100) == "bearish"  # TA-Lib reports +100
    assert table["cdl_hammer"].direction(100) == "bullish"
    assert table["cdl_spinningtop"].direction(-100) == "neutral"
    assert table["cdl_3inside"].label(-100) == "Three Inside Down"
    assert table["cdl_hikkake"].label(200) == "Bullish Hikkake"


def test_recent_candles_edge_cases(h1_recent: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="lookback"):
        candles.recent_candles(h1_recent, 0)
    assert candles.recent_candles(h1_recent.iloc[:0]) == []
    short = candles.recent_candles(h1_recent.iloc[:5], lookback=20)
    assert all(o.time <= h1_recent.index[4] for o in short)
