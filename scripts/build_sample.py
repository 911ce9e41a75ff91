"""Build the bundled sample (src/noxfx/data/sample) from the real files in ../shared/data.

Development tool only: run it from the repository root with ``python scripts/build_sample.py``.
Each file is imported through NOX's own importer with repair on, so the sample is exactly what a
user would get by importing the originals with ``noxfx data import --repair``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from noxfx.data.importer import import_files
from noxfx.data.store import BarStore

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "noxfx" / "data" / "sample"

# (file under shared/data, note)
SOURCES = [
    (
        "generic/EURUSD_H1.csv.gz",
        "EURUSD H1 2012-12..2020-12, GMT; 63 trailing all-zero rows dropped",
    ),
    ("generic/GBPUSD_H1.csv.gz", "GBPUSD H1 2012-12..2020-12, GMT"),
    (
        "mt5/USDJPY_H4.csv.gz",
        "USDJPY H4 2016-03..2026-03, MT5 server time (NY+7) -> UTC; no 1h "
        "USDJPY exists in the source data",
    ),
    ("metatrader/EURUSD1440.csv.gz", "EURUSD D1 2009-11..2025-11, MT4 GMT days (cut at 00:00 UTC)"),
    ("metatrader/GBPUSD1440.csv.gz", "GBPUSD D1 2009-11..2025-11, MT4 GMT days (cut at 00:00 UTC)"),
    ("metatrader/USDJPY1440.csv.gz", "USDJPY D1 2009-10..2025-11, MT4 GMT days (cut at 00:00 UTC)"),
]


def main() -> None:
    if OUT.exists():
        for f in OUT.glob("*.parquet"):
            f.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    datasets = []
    with tempfile.TemporaryDirectory() as tmp:
        store = BarStore(tmp)
        for rel, note in SOURCES:
            (res,) = import_files(store, [SHARED / rel], repair_defects=True)
            name = f"{res.symbol}_{res.timeframe}.parquet"
            shutil.copyfile(store.path(res.symbol, res.timeframe), OUT / name)
            datasets.append(
                {
                    "symbol": res.symbol,
                    "timeframe": res.timeframe,
                    "file": name,
                    "source": rel,
                    "note": note,
                }
            )
            print(
                f"{name}: {res.written.total if res.written else 0} bars; "
                f"repairs: {res.report.repairs or 'none'}"
            )
    (OUT / "manifest.json").write_text(json.dumps({"datasets": datasets}, indent=2) + "\n")
    size = sum(f.stat().st_size for f in OUT.glob("*.parquet"))
    print(f"sample size: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
