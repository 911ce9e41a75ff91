"""The Parquet bar store: round trips, upserts, derived timeframes, atomic writes under kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from noxfx.data.store import BarStore
from noxfx.errors import InsufficientData, StoreError
from noxfx.timeframes import resample


def test_round_trip_keeps_bars_exactly(store: BarStore, eurusd_h1: pd.DataFrame) -> None:
    result = store.write("EURUSD", "1h", eurusd_h1, source="test")
    assert (result.added, result.replaced, result.total) == (len(eurusd_h1), 0, len(eurusd_h1))
    back = store.read("eur/usd", "H1")
    pd.testing.assert_frame_equal(back, eurusd_h1.rename_axis("time"), check_freq=False)
    assert str(back.index.dtype) == "datetime64[ns, UTC]"


def test_read_range_is_inclusive_utc(store: BarStore, eurusd_h1: pd.DataFrame) -> None:
    store.write("EURUSD", "1h", eurusd_h1)
    part = store.read("EURUSD", "1h", "2019-03-01", "2019-03-01 05:00")
    assert part.index[0] == pd.Timestamp("2019-03-01 00:00", tz="UTC")
    assert part.index[-1] == pd.Timestamp("2019-03-01 05:00", tz="UTC")
    assert len(part) == 6


def test_overlapping_import_upserts(store: BarStore, eurusd_h1: pd.DataFrame) -> None:
    first, second = eurusd_h1.iloc[:3000], eurusd_h1.iloc[2000:5000].copy()
    store.write("EURUSD", "1h", first)
    second["close"] += 0.001  # "newer" data for the overlap
    result = store.write("EURUSD", "1h", second)
    assert (result.added, result.replaced, result.total) == (2000, 1000, 5000)
    got = store.read("EURUSD", "1h")
    assert got.index.is_unique and got.index.is_monotonic_increasing
    pd.testing.assert_series_equal(got["close"].iloc[:2000], first["close"].iloc[:2000],
                                   check_names=False, check_freq=False)  # fmt: skip
    pd.testing.assert_series_equal(got["close"].iloc[2000:], second["close"],
                                   check_names=False, check_freq=False)  # fmt: skip
    # writing an older range again: the order is kept and nothing is duplicated
    store.write("EURUSD", "1h", eurusd_h1.iloc[:100])
    assert len(store.read("EURUSD", "1h")) == 5000


def test_derives_missing_timeframes_from_the_finest(
    store: BarStore, eurusd_h1: pd.DataFrame
) -> None:
    store.write("EURUSD", "1h", eurusd_h1)
    for tf in ("4h", "1d", "1w"):
        derived = store.read("EURUSD", tf)
        pd.testing.assert_frame_equal(
            derived, resample(eurusd_h1, tf, source="1h"), check_freq=False
        )
    # a range read of a derived timeframe gives whole buckets
    part = store.read("EURUSD", "1d", start="2019-06-03", end="2019-06-07")
    full = resample(eurusd_h1, "1d", source="1h")
    pd.testing.assert_frame_equal(part, full.loc[part.index], check_freq=False)


def test_nothing_finer_is_a_clear_error(store: BarStore, eurusd_h1: pd.DataFrame) -> None:
    store.write("EURUSD", "1h", eurusd_h1.iloc[:100])
    with pytest.raises(InsufficientData, match=r"No EURUSD 15m bars in the store \(stored: 1h\)"):
        store.read("EURUSD", "15m")
    with pytest.raises(InsufficientData, match="stored: nothing"):
        store.read("GBPUSD", "1h")


def test_info_and_listing_read_only_the_footer(store: BarStore, eurusd_h1: pd.DataFrame) -> None:
    store.write("EURUSD", "1h", eurusd_h1, source="generic:EURUSD_H1.csv.gz")
    store.write("EURUSD", "1d", resample(eurusd_h1, "1d", source="1h"))
    infos = store.datasets()
    assert [(i.symbol, i.timeframe) for i in infos] == [("EURUSD", "1h"), ("EURUSD", "1d")]
    h1 = infos[0]
    assert (h1.first, h1.last, h1.bars) == (eurusd_h1.index[0], eurusd_h1.index[-1], len(eurusd_h1))
    assert h1.source == "generic:EURUSD_H1.csv.gz"


def test_corrupt_file_is_a_store_error(store: BarStore, eurusd_h1: pd.DataFrame) -> None:
    store.write("EURUSD", "1h", eurusd_h1.iloc[:10])
    store.path("EURUSD", "1h").write_bytes(b"not parquet")
    with pytest.raises(StoreError, match="Cannot read"):
        store.read("EURUSD", "1h")


WRITER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from noxfx.data.store import BarStore
    store = BarStore(sys.argv[1])
    a = pd.read_parquet(sys.argv[2])
    b = pd.read_parquet(sys.argv[3])
    print("ready", flush=True)
    i = 0
    while True:  # rewrite the dataset forever, alternating between two versions
        store.write("EURUSD", "1h", a if i % 2 else b, replace=True)
        i += 1
    """
)


def test_kill_during_write_leaves_previous_data_and_readers_see_whole_files(
    tmp_path: Path, eurusd_h1: pd.DataFrame
) -> None:
    store = BarStore(tmp_path / "bars")
    version_a = eurusd_h1.iloc[:40_000]
    version_b = eurusd_h1.iloc[5_000:50_000]
    store.write("EURUSD", "1h", version_a)
    pa, pb = tmp_path / "a.parquet", tmp_path / "b.parquet"
    version_a.to_parquet(pa)
    version_b.to_parquet(pb)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(store.root), str(pa), str(pb)], stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        lengths = set()
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:  # a concurrent reader never sees a partial file
            lengths.add(len(store.read("EURUSD", "1h")))
        assert lengths <= {len(version_a), len(version_b)}
        # let it get into a write and kill it without warning
        temps_seen = False
        for _ in range(2000):
            if list(store.path("EURUSD", "1h").parent.glob(".1h.*.tmp")):
                temps_seen = True
                break
            time.sleep(0.001)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert temps_seen, "the writer was never caught mid-write"
    survived = store.read("EURUSD", "1h")
    assert len(survived) in (len(version_a), len(version_b))
    expected = version_a if len(survived) == len(version_a) else version_b
    pd.testing.assert_frame_equal(survived, expected.rename_axis("time"), check_freq=False)
    # the next write cleans up what the killed writer left behind
    store.write("EURUSD", "1h", version_a.iloc[:10])
    assert not list(store.path("EURUSD", "1h").parent.glob(".1h.*.tmp"))


def test_a_small_fine_import_does_not_replace_coarser_views(
    store: BarStore, eurusd_h1: pd.DataFrame
) -> None:
    """Two months of HistData 1m (Jan-Feb 2017) next to years of 1h: 4h bars come from the 1m
    data only where it covers them whole, from the 1h data everywhere else; the native 1d wins."""
    from noxfx.data.importer import import_files
    from tests.conftest import shared

    store.write("EURUSD", "1h", eurusd_h1)
    store.write("EURUSD", "1d", resample(eurusd_h1, "1d", source="1h"))
    h4_before = store.read("EURUSD", "4h")
    d1_before = store.read("EURUSD", "1d")
    import_files(store, [shared(f"histdata/DAT_ASCII_EURUSD_M1_20170{m}.csv.gz") for m in (1, 2)])
    h4 = store.read("EURUSD", "4h")
    assert h4.index[-1] == h4_before.index[-1] and h4.index[0] == h4_before.index[0]
    pd.testing.assert_frame_equal(store.read("EURUSD", "1d"), d1_before)
    fine = store.read("EURUSD", "1m")
    from_1m = resample(fine, "4h", source="1m")
    inside = (h4.index > from_1m.index[0]) & (h4.index < from_1m.index[-1])
    assert inside.sum() > 200
    pd.testing.assert_frame_equal(h4[inside], from_1m.loc[h4.index[inside]], check_freq=False)
    outside = h4.index[h4.index < pd.Timestamp("2016-12-01", tz="UTC")]
    pd.testing.assert_frame_equal(h4.loc[outside], h4_before.loc[outside], check_freq=False)
    listing = {(d.timeframe, d.origin, d.derived_from) for d in store.datasets(derived=True)}
    assert ("1m", "native", ()) in listing and ("1d", "native", ()) in listing
    assert ("4h", "derived", ("1m", "1h")) in listing and ("15m", "derived", ("1m",)) in listing
    assert all(d.origin == "native" for d in store.datasets())
