"""Trading-plan speed: one plan on 5 years of EURUSD 1h (warm), and a scan of 28 pairs.

Run: ``.venv/bin/python benchmarks/bench_plan.py`` (needs ../shared/data beside the repo).
Targets: one plan < 1 s warm; a scan of the 28 major and cross pairs < 10 s.

The source data holds 1h bars for only three pairs, so the scan store re-uses the real EURUSD,
GBPUSD and USDCAD 1h bars under the 28 symbols (a speed measurement, not an analysis of those
pairs). The peer column is the analysis report alone (what a rating widget computes).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from noxfx.analysis.report import analyze
from noxfx.data.formats import read_file
from noxfx.data.store import BarStore
from noxfx.instruments import list_instruments
from noxfx.plans.generator import PlanRequest
from noxfx.workflows import load_frames, plan_for

DATA = Path(__file__).resolve().parents[1].parent / "shared/data/generic"


def main() -> None:
    frames = []
    for sym in ("EURUSD", "GBPUSD", "USDCAD"):
        f = read_file(DATA / f"{sym}_H1.csv.gz").frame.drop(columns="line")
        frames.append(f[f["close"] > 0])
    pairs = [i.symbol for i in list_instruments() if i.kind in ("major", "cross")]
    with tempfile.TemporaryDirectory() as tmp:
        store = BarStore(Path(tmp) / "bars")
        for k, sym in enumerate(pairs):
            store.write(sym, "1h", frames[k % 3])
        plan_for(store, PlanRequest("EURUSD"))  # JIT + caches
        times = []
        for _ in range(5):
            t = time.perf_counter()
            plan_for(store, PlanRequest("EURUSD"))
            times.append(time.perf_counter() - t)
        one = min(times)
        bars, higher = load_frames(store, "EURUSD", "1h")
        t = time.perf_counter()
        analyze("EURUSD", "1h", bars, higher)
        report_only = time.perf_counter() - t
        t = time.perf_counter()
        for sym in pairs:
            plan_for(store, PlanRequest(sym))
        scan = time.perf_counter() - t
    print(f"{'operation':<52}{'seconds':>10}")
    print(f"{'one plan, EURUSD 1h, 5 years (warm, store read incl.)':<52}{one:>10.3f}")
    print(f"{'peer: the analysis report alone':<52}{report_only:>10.3f}")
    print(f"{f'scan of {len(pairs)} major and cross pairs':<52}{scan:>10.3f}")
    print(f"targets: one plan < 1 s {'met' if one < 1 else 'NOT met'}; "
          f"scan < 10 s {'met' if scan < 10 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
