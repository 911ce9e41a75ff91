"""Bar-store read speed: 5 years of EURUSD 1h, warm, next to pandas.read_csv of the same bars.

Run: ``.venv/bin/python benchmarks/bench_store.py`` (needs ../shared/data beside the repo).
Prints best-of-N wall times from one run; the target is < 50 ms for the store read.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from noxfx.data.formats import read_file
from noxfx.data.store import BarStore

SRC = Path(__file__).resolve().parents[1].parent / "shared/data/generic/EURUSD_H1.csv.gz"


def best_ms(fn: Callable[[], object], repeat: int = 30) -> float:
    fn()  # warm: page cache, imports, first-call setup
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def main() -> None:
    bars = read_file(SRC).frame.drop(columns="line")
    bars = bars[bars["close"] > 0].loc["2015-12-01":"2020-11-30"]  # five years
    with tempfile.TemporaryDirectory() as tmp:
        store = BarStore(Path(tmp) / "bars")
        store.write("EURUSD", "1h", bars)
        csv_path = Path(tmp) / "EURUSD_H1.csv"
        bars.to_csv(csv_path, date_format="%Y-%m-%d %H:%M:%S")

        def read_csv() -> pd.DataFrame:
            return pd.read_csv(csv_path, index_col="time", parse_dates=["time"])

        ours = best_ms(lambda: store.read("EURUSD", "1h"))
        ours_4h = best_ms(lambda: store.read("EURUSD", "4h"), repeat=10)
        peer = best_ms(read_csv, repeat=10)
    print(f"5 years of EURUSD 1h: {len(bars):,} bars")
    print(f"{'operation':<44}{'ms':>10}")
    print(f"{'noxfx BarStore.read (Parquet, warm)':<44}{ours:>10.2f}")
    print(f"{'pandas.read_csv of the same bars':<44}{peer:>10.2f}")
    print(f"{'noxfx BarStore.read 4h derived from 1h':<44}{ours_4h:>10.2f}")
    print(f"speed-up vs read_csv: {peer / ours:.1f}x; target < 50 ms: "
          f"{'met' if ours < 50 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
