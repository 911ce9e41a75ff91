"""The bundled sample: small, documented, and enough for the main job offline."""

from __future__ import annotations

import json

import pandas as pd

from noxfx.data.sample import bootstrap, ensure_bootstrapped, sample_datasets, sample_dir
from noxfx.data.store import BarStore


def test_sample_is_small_and_documented() -> None:
    folder = sample_dir()
    size = sum(p.stat().st_size for p in folder.glob("*.parquet"))
    assert size <= 5 * 1024 * 1024
    manifest = json.loads((folder / "manifest.json").read_text())
    files = {d["file"] for d in manifest["datasets"]}
    assert files == {p.name for p in folder.glob("*.parquet")}
    provenance = (folder / "PROVENANCE.md").read_text()
    assert all(f in provenance for f in files)


def test_bootstrap_gives_the_promised_history(store: BarStore) -> None:
    loaded = bootstrap(store)
    assert {(d["symbol"], d["timeframe"]) for d in loaded} == {
        (d.symbol, d.timeframe) for d in sample_datasets()
    }
    years = {
        (i.symbol, i.timeframe): (i.last - i.first) / pd.Timedelta(days=365.25)
        for i in store.datasets()
        if i.first is not None and i.last is not None
    }
    for sym in ("EURUSD", "GBPUSD"):
        assert years[(sym, "1h")] >= 2
    for sym in ("EURUSD", "GBPUSD", "USDJPY"):
        assert years[(sym, "1d")] >= 10
    assert years[("USDJPY", "4h")] >= 2  # the source data has no USDJPY 1h


def test_ensure_bootstrapped_is_idempotent(store: BarStore) -> None:
    assert ensure_bootstrapped(store)
    before = {(i.symbol, i.timeframe): i.bars for i in store.datasets()}
    assert ensure_bootstrapped(store) == []
    assert {(i.symbol, i.timeframe): i.bars for i in store.datasets()} == before
