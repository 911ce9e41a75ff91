"""ML speed on 50,000 real EURUSD 1h bars: training time and warm prediction latency.

Run: ``.venv/bin/python benchmarks/bench_ml.py`` (needs ../shared/data beside the repo).

Measures, on the real EURUSD H1 history (50,000 bars, 2012-12 .. 2020-12):

* ``train_model`` end to end: features, labels, the purged walk-forward evaluation (5 folds x 2
  sides, LightGBM + the logistic-regression baseline) and the final calibrated fit (goal < 30 s on
  2 cores), and the final fit alone (``evaluate=False``);
* next to it, as a peer, a plain scikit-learn logistic regression (standardised, lbfgs; with
  default BLAS threads and with one BLAS thread, as NOX runs it) and our LightGBM fitted on the
  same training rows and features (one side);
* warm prediction latency: ``noxfx.ml.predict.predict`` through a registry (model cached after
  the first call), features on the last 3,000 bars, both sides with contributions (goal < 50 ms).

Wall times, best of a few runs for training and median/p95 of 50 calls for prediction. The load
average is printed because the machine is shared: other processes inflate every figure.
Timings are machine dependent; this prints them, it asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from noxfx.data.formats import read_file
from noxfx.ml.dataset import build_dataset
from noxfx.ml.models import LIGHTGBM_ROUNDS, LightGBMModel, single_blas_thread
from noxfx.ml.predict import predict
from noxfx.ml.registry import ModelRegistry
from noxfx.ml.training import train_model
from noxfx.ml.validation import WalkForwardConfig, final_split

SRC = Path(__file__).resolve().parents[1].parent / "shared/data/generic/EURUSD_H1.csv.gz"


def load() -> pd.DataFrame:
    frame = read_file(SRC).frame.drop(columns="line")
    return frame[frame["close"] > 0]


def timed(fn, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    bars = load()
    print(
        f"bars: {len(bars):,} EURUSD 1h; load average {os.getloadavg()[0]:.2f} on "
        f"{os.cpu_count()} cores"
    )
    # warm numba / TA-Lib / imports so the first timing is not a compile
    train_model(
        bars.iloc[-3000:],
        symbol="EURUSD",
        timeframe="1h",
        evaluate=False,
        model_params={"rounds": 5},
    )

    t_full = timed(lambda: train_model(bars, symbol="EURUSD", timeframe="1h"))
    print(f"train_model, walk-forward evaluation + final fit: {t_full:6.1f} s   (goal < 30 s)")
    t_fit = timed(
        lambda: train_model(bars, symbol="EURUSD", timeframe="1h", evaluate=False), repeat=2
    )
    print(f"train_model, final calibrated fit only (2 sides): {t_fit:6.1f} s")

    data = build_dataset(bars, symbol="EURUSD", timeframe="1h")
    s = data.sides["long"]
    train, _ = final_split(s.pos, s.t1, WalkForwardConfig(), 24)
    X, y = s.X[train], s.y[train]

    def sklearn_logreg() -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)

    def sklearn_logreg_one_blas_thread() -> None:
        with single_blas_thread():
            sklearn_logreg()

    t_lr = timed(sklearn_logreg, repeat=3)
    t_lr1 = timed(sklearn_logreg_one_blas_thread, repeat=3)
    t_lgb = timed(lambda: LightGBMModel().fit(X, y), repeat=3)
    print(f"one side, {len(y):,} rows x {X.shape[1]} features:")
    print(f"  LightGBM (ours, {LIGHTGBM_ROUNDS} rounds, 2 threads):        {t_lgb:6.2f} s")
    print(
        f"  scikit-learn LogisticRegression (peer, defaults): {t_lr:6.2f} s   "
        f"ours / peer {t_lgb / t_lr:.1f}x"
    )
    print(
        f"  the same with BLAS on one thread (as we run it):  {t_lr1:6.2f} s   "
        f"ours / peer {t_lgb / t_lr1:.1f}x"
    )

    trained = train_model(bars, symbol="EURUSD", timeframe="1h", evaluate=False)
    with tempfile.TemporaryDirectory() as tmp:
        registry = ModelRegistry(tmp)
        registry.promote("EURUSD", "1h", registry.save(trained))
        predict("EURUSD", "1h", bars, registry)  # cold: loads the model file
        times = []
        for _ in range(50):
            t0 = time.perf_counter()
            predict("EURUSD", "1h", bars, registry)
            times.append((time.perf_counter() - t0) * 1000)
    p95 = float(np.percentile(times, 95))
    print(
        f"warm predict (both sides, contributions): median {statistics.median(times):5.1f} ms, "
        f"p95 {p95:5.1f} ms   (goal < 50 ms)"
    )


if __name__ == "__main__":
    main()
