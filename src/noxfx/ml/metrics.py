"""Scores for probabilistic binary forecasts, with their sample sizes and an honest p-value.

All functions take ``y`` (0/1 outcomes) and ``p`` (forecast probabilities of 1) as 1-D arrays.

* ``accuracy`` thresholds ``p`` at 0.5; ``majority_accuracy`` is what always predicting the more
  frequent class *of the evaluated sample* scores (a conservative bar: it is chosen in hindsight).
* ``brier`` = mean((p - y)^2); ``brier_reference`` is the Brier score of the constant forecast
  ``reference_rate`` (the base rate of the *training* labels: what was knowable in advance);
  ``brier_skill`` = 1 - brier / brier_reference (> 0 means better than the base rate).
* ``ece``: expected calibration error over ``bins`` equal-width probability bins,
  sum_b (n_b / n) |mean p_b - mean y_b|; :func:`reliability_table` lists the bins. A pooled ECE
  can hide miscalibrated periods (folds that err in opposite directions average out), so the
  walk-forward report also gives every fold's ECE and the worst one, and calls a model
  *calibrated* only under :func:`calibration_verdict`'s rule.

Brier, log loss, AUC, balanced accuracy and the reliability bins are scikit-learn's
(``sklearn.metrics``, ``sklearn.calibration.calibration_curve``).
* ``p_value``: one-sided exact binomial test of "accuracy > majority_accuracy" treating the
  ``n`` predictions as independent. Overlapping labels (a 24-bar horizon on hourly decisions) are
  not independent, so ``p_value_effective`` repeats the test with ``n_effective = n /
  overlap`` trials (``overlap`` = the mean label length in bars, given by the caller) and the same
  accuracy; trust that one. ``auc_p_value_effective`` is the one-sided p-value of AUC > 0.5
  (normal approximation, Hanley & McNeil) with the same effective sample size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
_CLIP = 1e-15


def brier(y: FloatArray, p: FloatArray) -> float:
    """Mean squared error of the probabilities (scikit-learn ``brier_score_loss``)."""
    if not len(y):
        return math.nan
    from sklearn.metrics import brier_score_loss

    return float(brier_score_loss(y, p, pos_label=1))


def log_loss(y: FloatArray, p: FloatArray) -> float:
    """Cross-entropy (scikit-learn ``log_loss``; probabilities clipped to 1e-15 from 0 and 1)."""
    if not len(y):
        return math.nan
    from sklearn.metrics import log_loss as sk_log_loss

    q = np.clip(p, _CLIP, 1.0 - _CLIP)
    return float(sk_log_loss(y, q, labels=[0.0, 1.0]))


def roc_auc(y: FloatArray, p: FloatArray) -> float:
    """Area under the ROC curve (scikit-learn ``roc_auc_score``); NaN with a single class."""
    if len(np.unique(y)) < 2:
        return math.nan
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def auc_null_sd(n_pos: int, n_neg: int) -> float:
    """Standard deviation of the AUC of an uninformative score (Hanley & McNeil at AUC 0.5)."""
    if n_pos == 0 or n_neg == 0:
        return math.nan
    return math.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg))


def auc_p_value(auc: float, n_pos: float, n_neg: float) -> float:
    """One-sided p-value of ``auc`` > 0.5 under the normal approximation to the null AUC
    (:func:`auc_null_sd`); pass effective counts when samples overlap."""
    if not math.isfinite(auc) or n_pos < 1 or n_neg < 1:
        return math.nan
    sd = math.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg))
    return 0.5 * math.erfc((auc - 0.5) / sd / math.sqrt(2.0))


def balanced_accuracy(y: FloatArray, pred: FloatArray) -> float:
    """Mean of the recalls of both classes (scikit-learn ``balanced_accuracy_score``); NaN with a
    single class."""
    if len(np.unique(y)) < 2:
        return math.nan
    from sklearn.metrics import balanced_accuracy_score

    return float(balanced_accuracy_score(y, pred))


def reliability_table(y: FloatArray, p: FloatArray, bins: int = 10) -> list[dict[str, Any]]:
    """Equal-width bins of ``p``: ``lo``, ``hi``, ``n``, ``mean_p``, ``frac_positive``.

    The bins and per-bin means are scikit-learn's ``calibration_curve(strategy="uniform")``
    (a probability on an inner edge belongs to the lower bin); empty bins are listed with
    ``n = 0`` and NaN means."""
    from sklearn.calibration import calibration_curve

    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=bins)
    frac = np.full(bins, math.nan)
    mean_p = np.full(bins, math.nan)
    if len(y):
        frac_nz, mean_nz = calibration_curve(y, p, n_bins=bins, strategy="uniform", pos_label=1)
        frac[counts > 0] = frac_nz
        mean_p[counts > 0] = mean_nz
    return [
        {
            "lo": float(edges[b]),
            "hi": float(edges[b + 1]),
            "n": int(counts[b]),
            "mean_p": float(mean_p[b]),
            "frac_positive": float(frac[b]),
        }
        for b in range(bins)
    ]


def expected_calibration_error(y: FloatArray, p: FloatArray, bins: int = 10) -> float:
    """sum_b (n_b / n) |mean p_b - frac positive_b| over :func:`reliability_table`'s bins."""
    if not len(y):
        return math.nan
    table = reliability_table(y, p, bins)
    return float(
        sum(r["n"] * abs(r["mean_p"] - r["frac_positive"]) for r in table if r["n"]) / len(y)
    )


#: the largest ECE a walk-forward fold may show for the model to be called calibrated (the same
#: goal as the plan ledger's, :data:`noxfx.portfolio.reliability.ECE_GOAL`)
ECE_CALIBRATED_MAX = 0.03


def ece_noise(
    p: FloatArray, bins: int = 10, quantile: float = 0.95, n_sim: int = 200, seed: int = 0
) -> float:
    """The ``quantile`` of the ECE that *perfectly calibrated* forecasts ``p`` would show on
    ``len(p)`` outcomes by chance alone (outcomes drawn as Bernoulli(p), ``n_sim`` times): an
    ECE well above it is miscalibration, not sampling noise."""
    p = np.asarray(p, dtype=np.float64)
    if not len(p):
        return math.nan
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.searchsorted(edges[1:-1], p)
    counts = np.bincount(which, minlength=bins).astype(np.float64)
    sum_p = np.bincount(which, weights=p, minlength=bins)
    y = np.random.default_rng(seed).random((n_sim, len(p))) < p
    sum_y = np.stack([np.bincount(which, weights=row, minlength=bins) for row in y])
    eces = np.abs(sum_p - sum_y).sum(axis=1) / len(p)
    return float(np.quantile(eces, quantile)) if counts.sum() else math.nan


def calibration_verdict(
    fold_ece: Sequence[float], pooled_ece: float, threshold: float = ECE_CALIBRATED_MAX
) -> dict[str, Any]:
    """Whether the folds support the word "calibrated".

    Rule: **calibrated only when every fold's ECE is finite and below ``threshold``** (default
    :data:`ECE_CALIBRATED_MAX`, 0.03). The pooled ECE is reported but never decides: it is an
    average over periods and is below the worst fold by construction. Returns ``ece_pooled``,
    ``ece_folds`` (fold order), ``ece_worst_fold`` and ``worst_fold`` (1-based number),
    ``ece_threshold``, ``n_folds_calibrated`` and ``calibrated``.
    """
    eces = [float(e) for e in fold_ece]
    finite = [e for e in eces if math.isfinite(e)]
    worst = max(finite) if finite else math.nan
    ok = [math.isfinite(e) and e < threshold for e in eces]
    return {
        "ece_pooled": float(pooled_ece),
        "ece_folds": eces,
        "ece_worst_fold": worst,
        "worst_fold": eces.index(worst) + 1 if finite else None,
        "ece_threshold": float(threshold),
        "n_folds_calibrated": int(sum(ok)),
        "calibrated": bool(eces) and all(ok),
    }


def binomial_p_value(successes: int, trials: int, p0: float) -> float:
    """One-sided exact binomial P(X >= successes) for X ~ Binomial(trials, p0)."""
    if trials <= 0:
        return math.nan
    from scipy.stats import binomtest

    p0 = min(max(p0, 0.0), 1.0)
    return float(binomtest(successes, trials, p0, alternative="greater").pvalue)


def binary_metrics(
    y: FloatArray, p: FloatArray, *, reference_rate: float, overlap: float = 1.0
) -> dict[str, Any]:
    """All scores of one set of forecasts (see the module docstring for each key)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    n = len(y)
    if n == 0:
        return {"n": 0}
    pred = (p >= 0.5).astype(np.float64)
    correct = int(np.sum(pred == y))
    rate = float(y.mean())
    majority = max(rate, 1.0 - rate)
    accuracy = correct / n
    ref = float(np.clip(reference_rate, _CLIP, 1 - _CLIP))
    brier_ref = brier(y, np.full(n, ref))
    score = brier(y, p)
    n_eff = max(1, int(n / max(overlap, 1.0)))
    auc = roc_auc(y, p)
    return {
        "n": n,
        "positive_rate": rate,
        "reference_rate": float(reference_rate),
        "accuracy": accuracy,
        "majority_accuracy": majority,
        "balanced_accuracy": balanced_accuracy(y, pred),
        "log_loss": log_loss(y, p),
        "brier": score,
        "brier_reference": brier_ref,
        "brier_skill": 1.0 - score / brier_ref if brier_ref > 0 else math.nan,
        "auc": auc,
        "auc_p_value_effective": auc_p_value(auc, rate * n_eff, (1.0 - rate) * n_eff),
        "ece": expected_calibration_error(y, p),
        "mean_p": float(p.mean()),
        "p_value": binomial_p_value(correct, n, majority),
        "n_effective": n_eff,
        "p_value_effective": binomial_p_value(round(accuracy * n_eff), n_eff, majority),
    }


def trade_stats(
    p: FloatArray,
    exit_r: FloatArray,
    cost_r: FloatArray,
    reward_risk: float,
    overlap: float = 1.0,
) -> dict[str, Any]:
    """What trading the forecasts would have made: enter when the expected value is positive.

    ``EV = p * reward_risk - (1 - p) - cost_r`` (R multiples; a timeout counts as a full loss in
    the EV, matching the ``timeout="zero"`` label). Realised result per trade: ``exit_r -
    cost_r`` (``exit_r`` assumes fills at the barrier; gaps through a stop lose more). Trades on
    consecutive bars overlap, so ``mean_r_se`` (standard error of ``mean_r``) uses
    ``n_trades / overlap`` effective trades.
    """
    ev = p * reward_risk - (1.0 - p) - cost_r
    take = ev > 0
    n = int(take.sum())
    realised = exit_r[take] - cost_r[take]
    n_eff = max(n / max(overlap, 1.0), 1.0)
    return {
        "n_trades": n,
        "trade_rate": float(n / len(p)) if len(p) else math.nan,
        "hit_rate": float(np.mean(exit_r[take] > 0)) if n else math.nan,
        "mean_r": float(realised.mean()) if n else math.nan,
        "mean_r_se": float(realised.std(ddof=1) / math.sqrt(n_eff)) if n > 1 else math.nan,
        "total_r": float(realised.sum()) if n else 0.0,
        "mean_cost_r": float(cost_r.mean()) if len(cost_r) else math.nan,
    }


__all__ = [
    "ECE_CALIBRATED_MAX",
    "auc_null_sd",
    "auc_p_value",
    "balanced_accuracy",
    "binary_metrics",
    "binomial_p_value",
    "brier",
    "calibration_verdict",
    "ece_noise",
    "expected_calibration_error",
    "log_loss",
    "reliability_table",
    "roc_auc",
    "trade_stats",
]
