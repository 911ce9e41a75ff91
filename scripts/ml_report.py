"""The honest out-of-sample table for the README: triple-barrier forecasts on real bars.

Run from the repository root: ``.venv/bin/python scripts/ml_report.py [--out build/ml_report]``
(needs ../shared/data beside the repository; a few minutes on 2 cores).

Data (read through NOX's importer, rows with non-positive prices dropped):

* EURUSD 1h and GBPUSD 1h: ``generic/{EURUSD,GBPUSD}_H1.csv.gz``, 50,000 bars each, 2012-12 ..
  2020-12 (UTC);
* USDJPY **4h**: there is no USDJPY 1h file in the shared data, so ``mt5/USDJPY_H4.csv.gz``
  (2016-03 .. 2026-03, MT5 server time converted to UTC) stands in.

Set-up (the library defaults): label = long / short entered at the next bar's open, target
1 x ATR(14), stop 1 x ATR(14), 24-bar horizon, timeout counts as a loss, a bar touching both
barriers counts as the stop. LightGBM (seeded, deterministic), Platt-calibrated on a slice after
training and before testing; purged walk-forward with 5 test blocks over the second half of the
history, embargo 24 bars. Baselines on the same test samples. Costs: the catalogue's typical
spread (EURUSD 0.8, GBPUSD 1.0, USDJPY 0.9 pips) as a fraction of the stop.

Writes ``ml_report.json`` (full reports: per fold, reliability tables, baselines) and
``ml_report.md`` (the table) into ``--out`` and prints the table.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd

from noxfx.data.formats import read_file
from noxfx.ml._json import dumps
from noxfx.ml.validation import EvaluationReport, evaluate

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

DATASETS: list[tuple[str, str, str]] = [
    ("EURUSD", "1h", "generic/EURUSD_H1.csv.gz"),
    ("GBPUSD", "1h", "generic/GBPUSD_H1.csv.gz"),
    ("USDJPY", "4h", "mt5/USDJPY_H4.csv.gz"),  # no USDJPY 1h in the data: 4h stands in
]


def load(rel: str) -> pd.DataFrame:
    frame = read_file(SHARED / rel).frame.drop(columns="line")
    return frame[frame["close"] > 0]


def _f(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def _pvalue(p: float) -> str:
    return "-" if not math.isfinite(p) else f"{p:.3f}" if p >= 0.001 else "<0.001"


HEADER = (
    "| pair | tf | side | OOS from | n (n eff.) | base rate | accuracy (majority) | bal. acc. "
    "| AUC (p) | Brier skill | ECE | p (n eff.) | logreg AUC / BSS "
    "| trades EV>0: n, hit, mean R ± se |"
)
RULE = "|" + "---|" * (HEADER.count("|") - 1)


def table_rows(report: EvaluationReport) -> list[str]:
    rows = []
    for side, ev in report.sides.items():
        o, t = ev.overall, ev.trades
        lr = ev.baselines.get("logreg", {})
        rows.append(
            f"| {report.symbol} | {report.timeframe} | {side} | {report.test_first_utc[:10]} "
            f"| {o['n']:,} ({o['n_effective']:,}) | {_f(o['positive_rate'])} "
            f"| {_f(o['accuracy'])} ({_f(o['majority_accuracy'])}) "
            f"| {_f(o['balanced_accuracy'])} "
            f"| {_f(o['auc'])} ({_pvalue(o['auc_p_value_effective'])}) "
            f"| {_f(o['brier_skill'], 4)} "
            f"| {_f(o['ece'])} | {_pvalue(o['p_value_effective'])} "
            f"| {_f(lr.get('auc'))} / {_f(lr.get('brier_skill'), 4)} "
            f"| {t['n_trades']:,}, {_f(t['hit_rate'])}, {_f(t['mean_r'])} ± {_f(t['mean_r_se'])} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "ml_report")
    parser.add_argument("--model", default="lightgbm", help="lightgbm | logreg | forest | ensemble")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    reports = []
    lines = [HEADER, RULE]
    for symbol, tf, rel in DATASETS:
        t0 = time.perf_counter()
        bars = load(rel)
        report = evaluate(bars, symbol=symbol, timeframe=tf, model=args.model)
        reports.append(report)
        lines += table_rows(report)
        print(f"{symbol} {tf}: {len(bars):,} bars, {time.perf_counter() - t0:.0f} s", flush=True)
    notes = [
        "",
        "All figures are out of sample (purged walk-forward, embargo 24 bars; calibration on a "
        "slice between training and test). n eff. = n / mean label length in bars (labels "
        "overlap); p = one-sided binomial test of accuracy > majority-class accuracy with n eff. "
        "trials; AUC (p) = one-sided p-value of AUC > 0.5 with n eff. Brier skill vs the "
        "training base rate (> 0 = better than the base rate). "
        "Trades: taken when the calibrated EV after spread > 0; mean R per trade after spread, "
        "fills at the barriers, no swap or slippage; se uses n trades / label overlap.",
        "USDJPY is 4h bars: the shared data has no USDJPY 1h.",
        f"Model: {args.model}; labels: target 1 x ATR(14), stop 1 x ATR(14), horizon 24 bars, "
        "entry at the next open; produced by scripts/ml_report.py.",
    ]
    text = "\n".join(lines + notes) + "\n"
    (args.out / "ml_report.md").write_text(text, encoding="utf-8")
    (args.out / "ml_report.json").write_text(
        dumps([r.as_dict() for r in reports]), encoding="utf-8"
    )
    print()
    print(text)
    print(f"written: {args.out / 'ml_report.md'}, {args.out / 'ml_report.json'}")


if __name__ == "__main__":
    main()
