"""Importing real files: refusal writes nothing, --repair writes and says what it did."""

from __future__ import annotations

import pandas as pd
import pytest

from noxfx.data.importer import import_files
from noxfx.data.store import BarStore
from noxfx.errors import InvalidBars
from tests.conftest import shared


def test_defective_file_is_refused_and_nothing_is_written(store: BarStore) -> None:
    with pytest.raises(InvalidBars, match=r"Refused EURUSD_H1\.csv\.gz: 63 defects") as info:
        import_files(store, [shared("generic/EURUSD_H1.csv.gz")])
    assert not store.root.exists() or store.datasets() == []
    (result,) = info.value.report  # type: ignore[misc]
    assert result.report.counts()["nonpositive"] == 63


def test_batch_is_all_or_nothing(store: BarStore) -> None:
    good, bad = shared("metatrader/EURUSD1440.csv.gz"), shared("metatrader/GBPNZD240.csv.gz")
    with pytest.raises(InvalidBars, match="GBPNZD240"):
        import_files(store, [good, bad])
    assert not store.root.exists() or store.datasets() == []


def test_repair_writes_and_reports_what_was_done(store: BarStore) -> None:
    (result,) = import_files(store, [shared("metatrader/GBPNZD240.csv.gz")], repair_defects=True)
    assert result.report.repairs == ["nonpositive: dropped 1 row(s)"]
    assert result.written is not None and result.written.total == result.rows_read - 1
    bars = store.read("GBPNZD", "4h")
    assert pd.Timestamp("2010-10-08 04:00", tz="UTC") not in bars.index
    assert (bars["low"] > 0).all()


def test_clean_file_imports_without_repair(store: BarStore) -> None:
    (result,) = import_files(store, [shared("mt5/USDJPY_H4.csv.gz")])
    assert result.report.ok and result.written is not None
    info = store.info("USDJPY", "4h")
    assert info.bars == result.rows_read == 15562
    assert info.source == "mt5:USDJPY_H4.csv.gz"


def test_consecutive_months_and_reimport_do_not_duplicate(store: BarStore) -> None:
    jan = shared("histdata/DAT_ASCII_EURUSD_M1_201701.csv.gz")
    feb = shared("histdata/DAT_ASCII_EURUSD_M1_201702.csv.gz")
    r1, r2 = import_files(store, [jan, feb])
    assert r1.written and r2.written
    assert r2.written.total == r1.rows_read + r2.rows_read
    (again,) = import_files(store, [jan])
    assert again.written and (again.written.added, again.written.replaced) == (0, r1.rows_read)
    bars = store.read("EURUSD", "1m")
    assert bars.index.is_unique and bars.index.is_monotonic_increasing
    # 1m -> 1h is derived on read
    h1 = store.read("EURUSD", "1h")
    assert h1.index[0] == pd.Timestamp("2017-01-02 07:00", tz="UTC")
    assert h1["volume"].sum() == bars["volume"].sum()


def test_overrides_for_symbol_timeframe_and_zone(store: BarStore) -> None:
    (result,) = import_files(
        store, [shared("generic/USDCAD_H1.csv.gz")], symbol="USD/CAD", timeframe="H1", tz="GMT"
    )
    assert (result.symbol, result.timeframe, result.tz) == ("USDCAD", "1h", "GMT")
    assert store.read("USDCAD", "1h").index[0] == pd.Timestamp("2012-12-17 03:00", tz="UTC")


def test_a_wrong_time_zone_shows_up_as_weekend_bars(store: BarStore) -> None:
    """The generic files are GMT; read as London time, summer Sunday opens fall before 17:00 NY."""
    with pytest.raises(InvalidBars) as info:
        import_files(store, [shared("generic/USDCAD_H1.csv.gz")], tz="Europe/London")
    (result,) = info.value.report  # type: ignore[misc]
    assert set(result.report.counts()) >= {"weekend"}
    assert all(p.time.month in range(3, 12) for p in result.report.errors if p.time is not None)


def test_a_folder_imports_every_data_file_in_it(store: BarStore) -> None:
    results = import_files(store, [shared("histdata")])
    assert [r.path.name for r in results] == [
        "DAT_ASCII_EURUSD_M1_201701.csv.gz",
        "DAT_ASCII_EURUSD_M1_201702.csv.gz",
    ]
    assert store.info("EURUSD", "1m").bars == sum(r.rows_read for r in results)
