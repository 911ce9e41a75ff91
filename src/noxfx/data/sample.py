"""The bundled sample of real bars, so that a fresh install works offline.

The files live in ``noxfx/data/sample/`` as ``SYMBOL_TIMEFRAME.parquet`` with ``manifest.json``
(what each file holds and where it came from) and ``PROVENANCE.md``. They are built from public
files by ``scripts/build_sample.py`` (a development tool; the product never reads the originals).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from noxfx.data.store import BarStore


@dataclass(frozen=True, slots=True)
class SampleDataset:
    """One bundled dataset."""

    symbol: str
    timeframe: str
    file: str
    source: str
    note: str


def sample_dir() -> Path:
    """Folder of the bundled sample inside the installed package."""
    return Path(str(resources.files("noxfx.data") / "sample"))


def sample_datasets() -> list[SampleDataset]:
    """The bundled datasets, from the manifest."""
    manifest = json.loads((sample_dir() / "manifest.json").read_text())
    return [SampleDataset(**d) for d in manifest["datasets"]]


def bootstrap(store: BarStore, *, only_missing: bool = False) -> list[dict[str, Any]]:
    """Load the bundled sample into ``store`` (upsert; ``only_missing`` skips stored datasets)."""
    import pyarrow.parquet as pq

    loaded = []
    for ds in sample_datasets():
        if only_missing and store.path(ds.symbol, ds.timeframe).exists():
            continue
        frame = pq.read_table(sample_dir() / ds.file).to_pandas()
        result = store.write(ds.symbol, ds.timeframe, frame, source=f"sample:{ds.source}")
        loaded.append({"symbol": ds.symbol, "timeframe": ds.timeframe, "bars": result.total,
                       "added": result.added, "source": ds.source})  # fmt: skip
    return loaded


def ensure_bootstrapped(store: BarStore) -> list[dict[str, Any]]:
    """Load the sample datasets the store does not have yet (what ``make run`` does first)."""
    return bootstrap(store, only_missing=True)


__all__ = ["SampleDataset", "bootstrap", "ensure_bootstrapped", "sample_datasets", "sample_dir"]
