"""Real bars and hand-made pivot cases for the zigzag / pattern / level / trend tests.

Real bars come from the shared data folder beside the repository, read with the project's own
importer (``noxfx.data.formats.read_file``), in the NOX bar format (UTC open-time index, float
``open, high, low, close, volume``). Loaders are cached: callers must not modify the frames.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from noxfx.analysis.zigzag import Zigzag
from noxfx.data.formats import read_file

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
COLUMNS = ["open", "high", "low", "close", "volume"]


def _load(relative: str) -> pd.DataFrame:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.fail(f"real test data missing: {path} (clone the repo beside ../shared)")
    frame = read_file(path).frame.drop(columns="line")
    frame = frame.loc[frame["close"] > 0, COLUMNS]
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    return frame


@cache
def eurusd_d1() -> pd.DataFrame:
    """EURUSD daily 2009-11 .. 2025-11 (MetaTrader export), ~5,000 bars."""
    return _load("metatrader/EURUSD1440.csv.gz")


@cache
def eurusd_h1() -> pd.DataFrame:
    """EURUSD hourly 2012-12 .. 2020-12 (generic CSV), ~50,000 bars."""
    return _load("generic/EURUSD_H1.csv.gz")


@cache
def usdjpy_h4() -> pd.DataFrame:
    """USDJPY 4-hourly 2016-03 .. 2026-03 (MT5 export), ~15,500 bars."""
    return _load("mt5/USDJPY_H4.csv.gz")


class PivotCase:
    """Bars and a hand-made :class:`Zigzag` through given pivot prices (for classifier tests).

    Pivots sit every ``spacing`` bars (or at the given gaps) from bar 20, alternating high/low
    (the first is a low when ``prices[0] < prices[1]``); each is confirmed two bars after its
    extreme. Closes run in straight lines between pivots (or follow ``path`` when given),
    highs/lows are ``0.05 * atr`` around them except at pivots, where the high (low) is the
    pivot price. After the last pivot the closes follow ``tail`` (prices per bar) if given,
    else they move ``0.3 * atr`` away from it and stay flat for 10 bars. Times are hourly UTC.
    """

    def __init__(
        self,
        prices: list[float],
        spacing: int | list[int] = 10,
        *,
        atr: float = 1.0,
        tail: list[float] | None = None,
        path: np.ndarray | None = None,
    ) -> None:
        gaps = [spacing] * (len(prices) - 1) if isinstance(spacing, int) else list(spacing)
        bars = np.concatenate([[20], 20 + np.cumsum(gaps)]).astype(np.int64)
        first_kind = -1 if prices[0] < prices[1] else 1
        kind = np.array([first_kind * (-1) ** i for i in range(len(prices))], dtype=np.int8)
        last_bar = int(bars[-1])
        away = -0.3 * atr * kind[-1]
        tail_prices = list(tail) if tail is not None else [prices[-1] + away] * 10
        n = last_bar + 1 + len(tail_prices)
        if path is None:
            close = np.interp(np.arange(last_bar + 1), bars, prices)
        else:
            close = np.asarray(path[: last_bar + 1], dtype=np.float64)
        close = np.concatenate([close, tail_prices])
        close[: bars[0]] = prices[0]
        eps = 0.05 * atr
        high, low = close + eps, close - eps
        for b, p, k in zip(bars, prices, kind, strict=True):
            if k > 0:
                high[b], close[b] = p, p - eps
            else:
                low[b], close[b] = p, p + eps
        times = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC", name="time")
        self.high, self.low, self.close = high, low, close
        self.bars = pd.DataFrame(
            {"open": close, "high": high, "low": low, "close": close, "volume": 1.0}, index=times
        )
        self.zigzag = Zigzag(
            bar=bars,
            price=np.asarray(prices, dtype=np.float64),
            kind=kind,
            confirmed_bar=bars + 2,
            atr=np.full(len(prices), atr),
            times=times,
            threshold_atr=2.0,
            atr_period=14,
        )
