"""Scores for probabilistic binary forecasts, with their sample sizes and an honest p-value.

All functions take ``y`` (0/1 outcomes) and ``p`` (forecast probabilities of 1) as 1-D arrays.

* ``accuracy`` thresholds ``p`` at 0.5; ``majority_accuracy`` is what always predicting the more
  frequent class *of the evaluated sample* scores (a conservative bar: it is chosen in hindsight).
* ``brier`` = mean((p - y)^2); ``brier_reference`` is the Brier score of the constant forecast
  ``reference_rate`` (the base rate of the *training* labels: what was knowable in advance);
  ``brier_skill`` = 1 - brier / brier_reference (> 0 means better than the base rate).
* ``ece``: expected calibration error over ``bins`` equal-width probability bins,
  sum_b (n_b / n) |mean p_b - mean y_b|; :func:`reliability_table` lists the bins.
* ``p_value``: one-sided exact binomial test of "accuracy > majority_accuracy" treating the
  ``n`` predictions as independent. Overlapping labels (a 24-bar horizon on hourly decisions) are
  not independent, so ``p_value_effective`` repeats the test with ``n_effective = n /
  overlap`` trials (``overlap`` = the mean label length in bars, given by the caller) and the same
  accuracy; trust that one. ``auc_p_value_effective`` is the one-sided p-value of AUC > 0.5
  (normal approximation, Hanley & McNeil) with the same effective sample size.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
_CLIP = 1e-15


def brier(y: FloatArray, p: FloatArray) -> float:
    return float(np.mean((p - y) ** 2)) if len(y) else math.nan


def log_loss(y: FloatArray, p: FloatArray) -> float:
    if not len(y):
        return math.nan
    q = np.clip(p, _CLIP, 1.0 - _CLIP)
    return float(-np.mean(y * np.log(q) + (1.0 - y) * np.log(1.0 - q)))


def roc_auc(y: FloatArray, p: FloatArray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties averaged); NaN with a single class."""
    from scipy.stats import rankdata

    n1 = int(np.sum(y == 1))
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


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
    pos, neg = y == 1, y == 0
    if not pos.any() or not neg.any():
        return math.nan
    return float((np.mean(pred[pos] == 1) + np.mean(pred[neg] == 0)) / 2.0)


def reliability_table(y: FloatArray, p: FloatArray, bins: int = 10) -> list[dict[str, Any]]:
    """Equal-width bins of ``p``: ``lo``, ``hi``, ``n``, ``mean_p``, ``frac_positive`` (empty
    bins are listed with ``n = 0`` and NaN means)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        rows.append(
            {
                "lo": float(edges[b]),
                "hi": float(edges[b + 1]),
                "n": n,
                "mean_p": float(p[mask].mean()) if n else math.nan,
                "frac_positive": float(y[mask].mean()) if n else math.nan,
            }
        )
    return rows


def expected_calibration_error(y: FloatArray, p: FloatArray, bins: int = 10) -> float:
    if not len(y):
        return math.nan
    table = reliability_table(y, p, bins)
    return float(
        sum(r["n"] * abs(r["mean_p"] - r["frac_positive"]) for r in table if r["n"]) / len(y)
    )


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
    "auc_null_sd",
    "auc_p_value",
    "balanced_accuracy",
    "binary_metrics",
    "binomial_p_value",
    "brier",
    "expected_calibration_error",
    "log_loss",
    "reliability_table",
    "roc_auc",
    "trade_stats",
]
