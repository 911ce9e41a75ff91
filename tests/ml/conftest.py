"""Real bars for the ML tests (the shared data folder beside the repository).

Loaded through the project's importer (:func:`noxfx.data.formats.read_file`), rows with
non-positive prices dropped (the EURUSD file ends with 63 all-zero rows). ``eurusd_h1``: 50,000
EURUSD H1 bars 2012-12 .. 2020-12 (generic CSV, UTC); ``usdjpy_h4``: USDJPY H4 2016-03 .. 2026-03
(MT5 export, broker time converted to UTC). Tests use slices to stay quick.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from noxfx.data.formats import read_file

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

#: small LightGBM for tests: the behaviour under test does not need 300 trees
FAST = {"rounds": 40}


def load(rel: str) -> pd.DataFrame:
    path = SHARED_DATA / rel
    if not path.exists():
        pytest.fail(f"real test data missing: {path} (clone the repo beside ../shared)")
    frame = read_file(path).frame.drop(columns="line")
    return frame[(frame[["open", "high", "low", "close"]] > 0).all(axis=1)]


@pytest.fixture(scope="session")
def eurusd_h1() -> pd.DataFrame:
    return load("generic/EURUSD_H1.csv.gz")


@pytest.fixture(scope="session")
def usdjpy_h4() -> pd.DataFrame:
    return load("mt5/USDJPY_H4.csv.gz")


@pytest.fixture(scope="session")
def h1_recent(eurusd_h1: pd.DataFrame) -> pd.DataFrame:
    """The last 6,000 EURUSD H1 bars (about a year, 2020)."""
    return eurusd_h1.iloc[-6000:]


@pytest.fixture(scope="session")
def trained_small(h1_recent: pd.DataFrame):  # type: ignore[no-untyped-def]
    """A LightGBM model trained (with a 3-fold walk-forward) on all but the last 800 bars."""
    from noxfx.ml.training import train_model
    from noxfx.ml.validation import WalkForwardConfig

    return train_model(
        h1_recent.iloc[:-800],
        symbol="EURUSD",
        timeframe="1h",
        validation=WalkForwardConfig(n_folds=3),
        model_params=FAST,
    )
