"""Purged walk-forward splits, calibration ordering, metrics and the permuted-label leak test."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from noxfx.errors import InvalidInput
from noxfx.ml.calibration import Calibrator
from noxfx.ml.dataset import Dataset, SideSamples, build_dataset
from noxfx.ml.metrics import (
    auc_null_sd,
    auc_p_value,
    binary_metrics,
    binomial_p_value,
    expected_calibration_error,
    reliability_table,
    roc_auc,
)
from noxfx.ml.validation import (
    WalkForwardConfig,
    final_split,
    purged_walk_forward,
    walk_forward_evaluate,
)
from tests.ml.conftest import FAST


@pytest.fixture(scope="module")
def dataset(h1_recent: pd.DataFrame) -> Dataset:
    return build_dataset(h1_recent, symbol="EURUSD", timeframe="1h")


def test_folds_are_purged_embargoed_and_ordered(dataset: Dataset) -> None:
    horizon = dataset.labels.horizon_bars
    cfg = WalkForwardConfig(n_folds=4)
    embargo = cfg.embargo_for(horizon)
    assert embargo == horizon
    for side in ("long", "short"):
        s = dataset.sides[side]
        folds = purged_walk_forward(s.pos, s.t1, cfg, embargo)
        previous_end = None
        for f in folds:
            c, start, end = f.calibration_start, f.test_start, f.test_end
            # train: decisions at least `embargo` bars before calibration, labels ended before it
            assert (s.pos[f.train] + embargo < c).all() and (s.t1[f.train] < c).all()
            # calibration: after train, its labels end before the test block, embargo before it
            assert (s.pos[f.calibration] >= c).all()
            assert (s.pos[f.calibration] + embargo < start).all()
            assert (s.t1[f.calibration] < start).all()
            # the slices are strictly ordered in time: train < calibration < test
            assert s.pos[f.train].max() < s.pos[f.calibration].min()
            assert s.t1[f.train].max() < s.pos[f.calibration].min()
            assert s.t1[f.calibration].max() < s.pos[f.test].min()
            assert ((s.pos[f.test] >= start) & (s.pos[f.test] < end)).all()
            assert not set(f.train) & set(f.test) and not set(f.calibration) & set(f.test)
            # everything not purged/embargoed is used: nothing is silently dropped
            kept = (s.pos < c - embargo) & (s.t1 < c)
            assert len(f.train) == kept.sum()
            if previous_end is not None:
                assert start == previous_end  # test blocks tile the test span
            previous_end = end


def test_purge_drops_labels_that_reach_into_the_next_segment() -> None:
    """A hand-made case: sample 9's label ends inside the test block although it starts well
    before the embargo; it must be purged, its neighbours kept."""
    pos = np.arange(0, 200, dtype=np.int64)
    t1 = pos + 3
    t1[90] = 160  # a long label crossing into calibration/test
    cfg = WalkForwardConfig(
        n_folds=1, test_fraction=0.25, calibration_fraction=0.2, min_train=10, min_calibration=10
    )
    [fold] = purged_walk_forward(pos, t1, cfg, embargo=5)
    assert fold.test_start == 150 and fold.calibration_start == 120
    assert 90 not in fold.train and 89 in fold.train
    assert fold.train.max() == 114  # 114 + 5 < 120, t1 = 117 < 120
    assert fold.calibration.min() == 120 and fold.calibration.max() == 144
    assert fold.test.min() == 150


def test_embargo_shorter_than_horizon_is_refused() -> None:
    with pytest.raises(InvalidInput):
        WalkForwardConfig(embargo_bars=5).embargo_for(24)


def test_final_split_calibrates_on_the_latest_slice(dataset: Dataset) -> None:
    s = dataset.sides["long"]
    cfg = WalkForwardConfig()
    train, calib = final_split(s.pos, s.t1, cfg, 24)
    assert s.t1[train].max() < s.pos[calib].min()
    assert s.pos[train].max() + 24 < s.pos[calib].min()
    assert calib[-1] == len(s) - 1  # the calibration slice ends at the latest labelled bar
    assert 0.15 < len(calib) / len(s) < 0.25


def test_metrics_agree_with_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, 3000)
    y = (rng.uniform(size=3000) < p).astype(float)
    m = binary_metrics(y, p, reference_rate=0.5)
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    assert m["log_loss"] == pytest.approx(log_loss(y, p))
    assert m["auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["brier_reference"] == pytest.approx(0.25)
    assert m["auc_p_value_effective"] < 1e-6  # these forecasts carry real information
    assert m["ece"] < 0.05  # these forecasts are calibrated by construction
    table = reliability_table(y, p)
    assert sum(r["n"] for r in table) == 3000
    # hand example: one bin holds everything, mean p 0.75, frequency 0.5 -> ECE 0.25
    assert expected_calibration_error(np.array([0.0, 1.0]), np.array([0.75, 0.75])) == 0.25


def test_binomial_and_auc_p_value_hand_examples() -> None:
    # P(X >= 9 | n = 10, p = 0.5) = (10 + 1) / 1024
    assert binomial_p_value(9, 10, 0.5) == pytest.approx(11 / 1024)
    # null sd with 100 + 100 samples: sqrt(201 / 120000) = 0.040927; AUC 0.5 + 1.6449 sd -> 5 %
    assert auc_null_sd(100, 100) == pytest.approx(0.0409268, abs=1e-6)
    assert auc_p_value(0.5, 100, 100) == pytest.approx(0.5)
    assert auc_p_value(0.5 + 1.6448536 * 0.0409268, 100, 100) == pytest.approx(0.05, abs=1e-5)
    assert math.isnan(binomial_p_value(0, 0, 0.5))


def test_sigmoid_calibration_fixes_overconfident_scores() -> None:
    rng = np.random.default_rng(2)
    true_p = rng.uniform(0.3, 0.7, 6000)
    y = (rng.uniform(size=6000) < true_p).astype(float)
    raw = 1 / (1 + np.exp(-4 * np.log(true_p / (1 - true_p))))  # 4x too confident
    cal = Calibrator("sigmoid").fit(raw[:3000], y[:3000])
    p = cal.transform(raw[3000:])
    assert cal.n == 3000
    assert (
        expected_calibration_error(y[3000:], p)
        < expected_calibration_error(y[3000:], raw[3000:]) / 2
    )
    iso = Calibrator("isotonic").fit(raw[:3000], y[:3000])
    assert iso.transform(raw[3000:]).min() > 0 and iso.transform(raw[3000:]).max() < 1


def _permuted(s: SideSamples, seed: int) -> SideSamples:
    y = np.random.default_rng(seed).permutation(s.y)
    return SideSamples(s.side, s.X, y, s.pos, s.t1, s.exit_r, s.cost_r)


def test_permuted_labels_score_at_chance(dataset: Dataset) -> None:
    """The leak test: with labels shuffled, nothing in the features can predict them, so an
    honest pipeline must score AUC 0.5 within sampling error (4 null standard deviations).

    Alone it is blind to a feature read from bar t+1 and to a calibrator fitted on the test
    fold; tests/ml/test_leakage.py runs the strengthened check (noxfx.ml.leakage.leak_check)
    that catches both."""
    cfg = WalkForwardConfig(n_folds=3)
    ev = walk_forward_evaluate(
        _permuted(dataset.sides["long"], 0),
        config=cfg,
        embargo=24,
        baselines=False,
        model_params=FAST,
    )
    n_pos = int(ev.y.sum())
    sd = auc_null_sd(n_pos, len(ev.y) - n_pos)
    assert abs(roc_auc(ev.y, ev.p) - 0.5) < 4 * sd
    assert ev.overall["brier_skill"] < 4 * sd  # no skill over the base rate either


def test_a_leaky_feature_is_caught_positive_control(dataset: Dataset) -> None:
    """The same pipeline with the label smuggled into a feature scores near-perfect AUC: the
    chance-level result above is not an artefact of a pipeline that cannot learn."""
    s = dataset.sides["short"]
    noise = np.random.default_rng(3).normal(0, 0.3, len(s))
    leaky = SideSamples(
        s.side, np.column_stack([s.X, s.y + noise]), s.y, s.pos, s.t1, s.exit_r, s.cost_r
    )
    ev = walk_forward_evaluate(
        leaky, config=WalkForwardConfig(n_folds=2), embargo=24, baselines=False, model_params=FAST
    )
    assert ev.overall["auc"] > 0.9
