"""The leak check (:mod:`noxfx.ml.leakage`) against deliberately leaky pipelines, on real bars.

The permuted-label test alone (the ``permuted_labels`` probe) is blind to the two leaks built
here: a feature read from bar ``t+1`` and a calibrator fitted on the test fold both pass it. The
strengthened check flags each one with the probe meant for it, and the honest pipeline passes
every probe.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from noxfx.ml.calibration import Calibrator
from noxfx.ml.dataset import Dataset, SideSamples, build_dataset
from noxfx.ml.leakage import LeakReport, leak_check, shuffled_bars
from noxfx.ml.validation import Fold, fit_calibrated
from tests.ml.conftest import FAST


def next_bar_return_build(bars: pd.DataFrame) -> Dataset:
    """The production dataset plus one leaky feature: the return of bar t+1 (close to close)."""
    data = build_dataset(bars, symbol="EURUSD", timeframe="1h")
    nxt = (bars["close"].shift(-1) / bars["close"] - 1.0).to_numpy()
    sides = {
        k: SideSamples(
            s.side,
            np.column_stack([s.X, np.nan_to_num(nxt[s.pos])]),
            s.y,
            s.pos,
            s.t1,
            s.exit_r,
            s.cost_r,
        )
        for k, s in data.sides.items()
    }
    return dataclasses.replace(data, sides=sides)


def calibrate_on_test(
    kind: str,
    samples: SideSamples,
    fold: Fold,
    method: str,
    seed: int,
    params: dict[str, object] | None,
) -> np.ndarray:
    """The per-fold step with the calibrator fitted on the test fold's own labels."""
    model, _ = fit_calibrated(kind, samples, fold.train, fold.calibration, method, seed, params)
    raw = model.predict_proba(samples.X[fold.test])
    return Calibrator(method).fit(raw, samples.y[fold.test]).transform(raw)


def _check(bars: pd.DataFrame, **pipeline: object) -> LeakReport:
    return leak_check(bars, symbol="EURUSD", timeframe="1h", model_params=FAST, **pipeline)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def bars(eurusd_h1: pd.DataFrame) -> pd.DataFrame:
    """The last 12,000 EURUSD H1 bars (2019-2020)."""
    return eurusd_h1.iloc[-12000:]


def test_honest_pipeline_passes_every_probe(bars: pd.DataFrame) -> None:
    report = _check(bars)
    assert report.passed, report.as_dict()
    assert report.probe("test_labels_unused").statistic == 0.0


def test_next_bar_feature_is_flagged(bars: pd.DataFrame) -> None:
    report = _check(bars, build=next_bar_return_build)
    assert report.probe("permuted_labels").passed  # the old test alone does not see it
    assert report.probe("test_labels_unused").passed  # the features do not read labels
    assert not report.probe("shuffled_bars").passed, report.as_dict()
    assert not report.passed


def test_calibrating_on_the_test_fold_is_flagged(bars: pd.DataFrame) -> None:
    report = _check(bars, forecast=calibrate_on_test)
    assert report.probe("permuted_labels").passed  # the old test alone does not see it
    assert not report.probe("test_labels_unused").passed, report.as_dict()
    assert report.probe("test_labels_unused").statistic > 0.01  # forecasts really moved
    assert not report.passed


def test_shuffled_bars_keep_bar_shapes_and_returns(bars: pd.DataFrame) -> None:
    out = shuffled_bars(bars, seed=1)
    assert out.index.equals(bars.index)
    assert (out["high"] >= out[["open", "close"]].max(axis=1) * (1 - 1e-12)).all()
    assert (out["low"] <= out[["open", "close"]].min(axis=1) * (1 + 1e-12)).all()
    ret_in = np.sort(np.diff(np.log(bars["close"].to_numpy())))
    ret_out = np.sort(np.diff(np.log(out["close"].to_numpy())))
    np.testing.assert_allclose(ret_out, ret_in, atol=1e-12)
    assert not np.allclose(out["close"].to_numpy(), bars["close"].to_numpy())
