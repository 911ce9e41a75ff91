"""Live bars built from real replayed ticks equal ``timeframes.resample`` of the same ticks."""

from __future__ import annotations

import pandas as pd

from noxfx.stream.bars import BarBuilder, events_frame
from noxfx.timeframes import resample


def test_bars_from_ticks_equal_resampling(eurusd_m1: pd.DataFrame) -> None:
    bars = eurusd_m1.loc["2017-01-02":"2017-01-06"]
    # ticks: each real 1m bar's open, low, high, close path inside its minute
    ticks = []
    for t, row in bars.iterrows():
        for sec, price in zip(
            (0, 15, 30, 59), (row.open, row.low, row.high, row.close), strict=True
        ):
            ticks.append((pd.Timestamp(t) + pd.Timedelta(seconds=sec), float(price)))
    builder = BarBuilder("EURUSD", ["1m", "5m", "1h", "4h", "1d"])
    closed = []
    for t, p in ticks:
        closed += builder.on_tick(t, p, p + 0.0001).closed
    closed += builder.advance(ticks[-1][0] + pd.Timedelta(days=7))
    tick_frame = pd.DataFrame(
        {"bid": [p for _, p in ticks]}, index=pd.DatetimeIndex([t for t, _ in ticks])
    )
    one = tick_frame["bid"].resample("1min").ohlc().dropna()
    for tf in ("1m", "5m", "1h", "4h", "1d"):
        got = events_frame([b for b in closed if b.timeframe == tf and b.complete])
        want = one if tf == "1m" else resample(one, tf, source="1m")
        want = want.loc[want.index.isin(got.index)]
        assert len(got) >= len(want) > 0
        pd.testing.assert_frame_equal(
            got[["open", "high", "low", "close"]].loc[want.index],
            want[["open", "high", "low", "close"]],
            check_freq=False,
            check_names=False,
        )
