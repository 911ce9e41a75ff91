"""Real bars for the analysis tests (the shared data folder next to the repository).

Loaded here with plain pandas (not the project's importers) so the indicator tests do not depend
on them. ``h1_bars``: 50,000 EURUSD H1 bars 2012-12 .. 2020-12 (generic CSV, GMT), trailing all-zero
rows dropped. ``d1_bars``: EURUSD D1 bars 2009-11 .. 2025-11 (MetaTrader export, GMT).
Both in the bar frame format of :mod:`noxfx.analysis.indicators`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PRICE_COLUMNS = ["open", "high", "low", "close"]


def _bar_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Normalise to the NOX bar format: UTC DatetimeIndex ``time``, float64 OHLCV."""
    raw = raw[~(raw[PRICE_COLUMNS] == 0).all(axis=1)]
    index = pd.DatetimeIndex(raw["time"], name="time").tz_localize("UTC")
    frame = pd.DataFrame(
        {c: raw[c].to_numpy(dtype=np.float64) for c in [*PRICE_COLUMNS, "volume"]}, index=index
    )
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    return frame


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"real test data missing: {path} (clone the repo beside ../shared)")
    return path


@pytest.fixture(scope="session")
def h1_bars() -> pd.DataFrame:
    """EURUSD H1, generic CSV (header ``Timestamp,Open,High,Low,Close,Volume``, GMT)."""
    raw = pd.read_csv(_require(SHARED_DATA / "generic" / "EURUSD_H1.csv.gz"))
    raw.columns = ["time", *PRICE_COLUMNS, "volume"]
    raw["time"] = pd.to_datetime(raw["time"], format="%Y-%m-%d %H:%M:%S")
    return _bar_frame(raw)


@pytest.fixture(scope="session")
def d1_bars() -> pd.DataFrame:
    """EURUSD D1, MetaTrader export (tab separated, no header, GMT)."""
    raw = pd.read_csv(
        _require(SHARED_DATA / "metatrader" / "EURUSD1440.csv.gz"),
        sep="\t",
        header=None,
        names=["time", *PRICE_COLUMNS, "volume"],
    )
    raw["time"] = pd.to_datetime(raw["time"], format="%Y-%m-%d %H:%M")
    return _bar_frame(raw)


@pytest.fixture(scope="session")
def h1_recent(h1_bars: pd.DataFrame) -> pd.DataFrame:
    """The last 6,000 H1 bars (about a year): enough for every warm-up, quick to scan."""
    return h1_bars.iloc[-6000:]
