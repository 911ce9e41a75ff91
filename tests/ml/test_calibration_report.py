"""The ML report states every fold's ECE and the worst fold next to the pooled figure, and says
"calibrated" only when every fold supports it (:func:`noxfx.ml.metrics.calibration_verdict`)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve

from noxfx.ml.dataset import build_dataset
from noxfx.ml.metrics import (
    ECE_CALIBRATED_MAX,
    calibration_verdict,
    ece_noise,
    expected_calibration_error,
    reliability_table,
)
from noxfx.ml.validation import (
    EvaluationReport,
    WalkForwardConfig,
    evaluate_dataset,
    skill_verdict,
)
from tests.ml.conftest import FAST


@pytest.fixture(scope="module")
def report(h1_recent: pd.DataFrame) -> EvaluationReport:
    data = build_dataset(h1_recent, symbol="EURUSD", timeframe="1h")
    return evaluate_dataset(
        data, config=WalkForwardConfig(n_folds=3), baselines=False, model_params=FAST
    )


def test_verdict_rule_every_fold_must_be_below_the_threshold() -> None:
    t = ECE_CALIBRATED_MAX
    ok = calibration_verdict([t / 2, t / 3], pooled_ece=t / 4)
    assert ok["calibrated"] and ok["worst_fold"] == 1 and ok["n_folds_calibrated"] == 2
    # a good pooled figure does not rescue one bad fold
    bad = calibration_verdict([t / 2, 2 * t, t / 3], pooled_ece=t / 4)
    assert not bad["calibrated"]
    assert bad["worst_fold"] == 2 and bad["ece_worst_fold"] == 2 * t
    assert bad["n_folds_calibrated"] == 2
    assert not calibration_verdict([t / 2, math.nan], pooled_ece=t / 4)["calibrated"]
    assert not calibration_verdict([], pooled_ece=0.0)["calibrated"]


def test_report_states_each_fold_and_the_worst(report: EvaluationReport) -> None:
    for side, ev in report.sides.items():
        cal = ev.calibration
        # recompute each fold's ECE from the pooled out-of-sample arrays, in fold order
        edges = np.cumsum([0] + [f["n"] for f in ev.folds])
        expected = [
            expected_calibration_error(ev.y[a:b], ev.p[a:b]) for a, b in itertools.pairwise(edges)
        ]
        assert cal["ece_folds"] == pytest.approx(expected)
        assert cal["ece_worst_fold"] == max(expected)
        assert cal["worst_fold"] == int(np.argmax(expected)) + 1
        assert cal["ece_pooled"] == pytest.approx(expected_calibration_error(ev.y, ev.p))
        # pooling averages the folds' errors: it can only hide, never add, miscalibration
        assert cal["ece_pooled"] <= cal["ece_worst_fold"] + 1e-12
        assert cal["calibrated"] == all(e < cal["ece_threshold"] for e in expected)
        assert ev.as_dict()["calibration"] == cal
        assert ev.overall["ece_worst_fold"] == cal["ece_worst_fold"]
        word = "not calibrated" if not cal["calibrated"] else "calibrated"
        assert f"{side} worst fold {cal['worst_fold']}" in report.notes[-1]
        assert word in report.notes[-1]


def test_ece_noise_is_the_chance_ece_of_calibrated_forecasts(report: EvaluationReport) -> None:
    """The folds' real forecasts, with outcomes drawn from those very probabilities (perfect
    calibration): their ECE stays under ``ece_noise`` about 95 % of the time."""
    ev = report.sides["short"]
    n = ev.folds[0]["n"]
    p = ev.p[:n]
    assert ev.folds[0]["ece_noise_p95"] == ece_noise(p)
    assert ev.calibration["ece_noise_p95_folds"][0] == ev.folds[0]["ece_noise_p95"]
    rng = np.random.default_rng(11)
    sims = [expected_calibration_error((rng.random(n) < p).astype(float), p) for _ in range(300)]
    below = float(np.mean(np.array(sims) <= ece_noise(p)))
    assert 0.9 <= below <= 0.99


def test_ece_bins_are_scikit_learns(report: EvaluationReport) -> None:
    ev = report.sides["long"]
    prob_true, prob_pred = calibration_curve(ev.y, ev.p, n_bins=10, strategy="uniform")
    table = [r for r in reliability_table(ev.y, ev.p) if r["n"]]
    assert [r["frac_positive"] for r in table] == pytest.approx(list(prob_true))
    assert [r["mean_p"] for r in table] == pytest.approx(list(prob_pred))
    n = np.array([r["n"] for r in table])
    ece = float(np.sum(n * np.abs(prob_true - prob_pred)) / n.sum())
    assert ev.overall["ece"] == pytest.approx(ece)


def test_skill_verdict_rests_on_the_reported_numbers(report: EvaluationReport) -> None:
    verdict = skill_verdict(report)
    for side, ev in report.sides.items():
        v = verdict["sides"][side]
        assert v["brier_skill"] == ev.overall["brier_skill"]
        assert v["ece_worst_fold"] == ev.calibration["ece_worst_fold"]
        assert v["skill"] == (
            ev.overall["brier_skill"] > 0 and ev.overall["auc_p_value_effective"] < verdict["alpha"]
        )
        assert f"Brier skill {ev.overall['brier_skill']:+.4f}" in verdict["line"]
    assert verdict["skill"] == any(v["skill"] for v in verdict["sides"].values())
    assert "\n" not in verdict["line"]
    assert verdict["line"].startswith("verdict: " + ("SKILL" if verdict["skill"] else "NO SKILL"))
