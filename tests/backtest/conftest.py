"""Real bars for the backtest tests, from the shared data folder beside the repository.

``m1_bars``: EURUSD 1m, January + February 2017 (HistData, EST -> UTC), about 63,000 bars.
``h1_bars``: EURUSD 1h, 2012-12 .. 2020-12 (generic CSV, UTC), trailing all-zero rows dropped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from noxfx.data.formats import read_file

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _shared(rel: str) -> Path:
    path = SHARED_DATA / rel
    if not path.exists():
        pytest.fail(f"real test data missing: {path} (clone the repo beside ../shared)")
    return path


@pytest.fixture(scope="session")
def m1_bars() -> pd.DataFrame:
    parts = [
        read_file(_shared(f"histdata/DAT_ASCII_EURUSD_M1_2017{m}.csv.gz")).frame.drop(
            columns="line"
        )
        for m in ("01", "02")
    ]
    bars = pd.concat(parts)
    assert bars.index.is_monotonic_increasing and bars.index.is_unique
    return bars[["open", "high", "low", "close"]]


@pytest.fixture(scope="session")
def h1_bars() -> pd.DataFrame:
    frame = read_file(_shared("generic/EURUSD_H1.csv.gz")).frame.drop(columns="line")
    return frame[frame["close"] > 0][["open", "high", "low", "close"]]
