"""Population stability index on a hand-worked example; the drift report on real bars."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from noxfx.ml.drift import (
    bin_proportions,
    drift_report,
    population_stability_index,
    psi_from_proportions,
    psi_status,
    reference_of,
    rolling_brier,
)
from noxfx.ml.training import TrainedModel

# expected 25 % in each of four bins, actual 10/20/30/40 %:
# (0.10-0.25) ln(0.10/0.25) + (0.20-0.25) ln(0.20/0.25) + (0.30-0.25) ln(0.30/0.25)
#   + (0.40-0.25) ln(0.40/0.25)
# = 0.137444 + 0.011157 + 0.009116 + 0.070501 = 0.228218
HAND_PSI = 0.2282177


def test_psi_hand_worked_proportions() -> None:
    psi = psi_from_proportions(np.array([0.25] * 4), np.array([0.1, 0.2, 0.3, 0.4]))
    assert psi == pytest.approx(HAND_PSI, abs=1e-6)
    assert psi_status(psi) == "moderate"
    assert psi_from_proportions(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0


def test_psi_hand_worked_from_values() -> None:
    """Training values 0..99 have quartile edges 24.75 / 49.5 / 74.25; the recent sample puts
    10, 20, 30 and 40 values in those four bins."""
    expected = np.arange(100, dtype=float)
    actual = np.concatenate(
        [np.full(10, 5.0), np.full(20, 30.0), np.full(30, 60.0), np.full(40, 90.0)]
    )
    ref = reference_of(expected, bins=4)
    assert ref.edges == (24.75, 49.5, 74.25)
    assert ref.proportions == (0.25, 0.25, 0.25, 0.25)
    np.testing.assert_allclose(bin_proportions(actual, np.array(ref.edges)), [0.1, 0.2, 0.3, 0.4])
    assert population_stability_index(expected, actual, bins=4) == pytest.approx(HAND_PSI, abs=1e-6)


def test_empty_bins_stay_finite_and_status_thresholds() -> None:
    psi = psi_from_proportions(np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5]))
    assert math.isfinite(psi) and psi_status(psi) == "major"
    assert psi_status(0.05) == "stable" and psi_status(float("nan")) == "unknown"


def test_rolling_brier() -> None:
    p = np.array([0.5, 1.0, 0.0, 0.5])
    y = np.array([1.0, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(rolling_brier(p, y, 2), [np.nan, 0.125, 0.5, 0.625])


def test_drift_report_on_real_bars(trained_small: TrainedModel, h1_recent: pd.DataFrame) -> None:
    report = drift_report(trained_small, h1_recent, recent_bars=600, window=100)
    assert len(report.features) == len(trained_small.feature_names)
    assert all(r["psi"] >= 0 for r in report.features)
    assert report.features == sorted(report.features, key=lambda r: -r["psi"])
    for side in ("long", "short"):
        perf = report.performance[side]
        # the model trained on all but the last 800 bars: ~776 of them have known outcomes
        assert 700 < perf["n"] <= 800
        assert pd.Timestamp(perf["first_utc"]) > pd.Timestamp(trained_small.data_last_utc)
        assert 0.15 < perf["brier"] < 0.35 and perf["status"] in ("ok", "degraded")
    assert isinstance(report.flags, list)
