"""Shared fixtures: the real data files beside the repository, and isolated bar stores.

Tests read real bars from ``../shared/data`` (see its README). They are development files only;
the product never reads them at run time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from noxfx.data.formats import read_file
from noxfx.data.store import BarStore

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared(rel: str) -> Path:
    """Path of a real data file, failing the test clearly if the folder is not beside the repo."""
    path = SHARED_DATA / rel
    if not path.exists():
        pytest.fail(f"real test data missing: {path} (clone the repo beside ../shared)")
    return path


@pytest.fixture
def store(tmp_path: Path) -> BarStore:
    """An empty bar store in a temporary folder."""
    return BarStore(tmp_path / "bars")


@pytest.fixture
def nox_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point NOX_HOME at a temporary folder (for code that uses the default store)."""
    from noxfx.config import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("NOX_HOME", str(home))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def eurusd_h1() -> pd.DataFrame:
    """Real EURUSD 1h bars 2012-2020 (generic file, trailing zero rows removed), UTC."""
    frame = read_file(shared("generic/EURUSD_H1.csv.gz")).frame
    frame = frame[frame["close"] > 0].drop(columns="line")
    return frame


@pytest.fixture(scope="session")
def eurusd_m1() -> pd.DataFrame:
    """Real EURUSD 1m bars, January 2017 (HistData, EST converted to UTC)."""
    return read_file(shared("histdata/DAT_ASCII_EURUSD_M1_201701.csv.gz")).frame.drop(
        columns="line"
    )


pytest_plugins = ["tests.browser"]
