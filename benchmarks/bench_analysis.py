"""Analysis report speed: 5 years of EURUSD 1h (+ 4h and 1d derived), warm and first call.

Run: ``.venv/bin/python benchmarks/bench_analysis.py`` (needs ../shared/data beside the repo).
Targets: warm < 100 ms, first call (fresh process, numba cache warm on disk) < 3 s. The peer
column times the same indicators + rating computed with plain pandas rolling/ewm code.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from noxfx.analysis.report import analyze
from noxfx.data.formats import read_file
from noxfx.timeframes import resample

SRC = Path(__file__).resolve().parents[1].parent / "shared/data/generic/EURUSD_H1.csv.gz"

FIRST_CALL = f"""
import time
t0 = time.perf_counter()
from noxfx.data.formats import read_file
from noxfx.analysis.report import analyze
from noxfx.timeframes import resample
bars = read_file({str(SRC)!r}).frame.drop(columns="line")
bars = bars[bars["close"] > 0].loc["2015-12-29":]
higher = {{k: resample(bars, k, source="1h") for k in ("4h", "1d")}}
t1 = time.perf_counter()
analyze("EURUSD", "1h", bars, higher)
print(time.perf_counter() - t1)
"""


def pandas_peer(bars: pd.DataFrame) -> None:
    """A plain-pandas version of the report's indicator core (SMAs/EMAs, RSI, MACD, ATR, BB)."""
    c, h, lo = bars["close"], bars["high"], bars["low"]
    for p in (10, 20, 30, 50, 100, 200):
        c.rolling(p).mean()
        c.ewm(span=p, adjust=False).mean()
    d = c.diff()
    up = d.clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
    dn = (-d.clip(upper=0)).ewm(alpha=1 / 14, adjust=False).mean()
    _ = 100 - 100 / (1 + up / dn)
    macd = c.ewm(span=12, adjust=False).mean() - c.ewm(span=26, adjust=False).mean()
    macd.ewm(span=9, adjust=False).mean()
    tr = np.maximum(h - lo, np.maximum((h - c.shift()).abs(), (lo - c.shift()).abs()))
    tr.ewm(alpha=1 / 14, adjust=False).mean()
    m, s = c.rolling(20).mean(), c.rolling(20).std()
    _ = (m + 2 * s, m - 2 * s)


def best(fn, repeat: int = 10) -> float:  # type: ignore[no-untyped-def]
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> None:
    bars = read_file(SRC).frame.drop(columns="line")
    bars = bars[bars["close"] > 0].loc["2015-12-29":]
    higher = {k: resample(bars, k, source="1h") for k in ("4h", "1d")}
    warm = best(lambda: analyze("EURUSD", "1h", bars, higher))
    peer = best(lambda: pandas_peer(bars))
    out = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True,
                         check=True)  # fmt: skip
    first = float(out.stdout.strip()) * 1000
    print(f"EURUSD 1h, {len(bars):,} bars (5 years) + 4h + 1d")
    print(f"{'operation':<58}{'ms':>10}")
    print(f"{'noxfx analyze (full report, warm)':<58}{warm:>10.1f}")
    print(f"{'pandas: 12 MAs + RSI + MACD + ATR + BBands only (warm)':<58}{peer:>10.1f}")
    print(f"{'noxfx analyze, first call in a fresh process':<58}{first:>10.1f}")
    print(f"targets: warm < 100 ms {'met' if warm < 100 else 'NOT met'}; "
          f"first call < 3000 ms {'met' if first < 3000 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
