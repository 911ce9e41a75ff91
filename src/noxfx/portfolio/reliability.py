"""Reliability statistics of stated probabilities against what happened (pure computation).

Input: the predicted P(TP1 before stop) of each settled plan and its outcome (1 TP1 first,
0 otherwise). Output: a reliability table (predicted P in fixed-width bins; per bin n, mean
predicted P, realised rate with a 95 % Wilson interval and whether the mean prediction lies
inside it), the Brier score (scikit-learn ``brier_score_loss``), the Brier score of always
predicting the base rate and the skill against it (1 - Brier / Brier_ref; > 0 means better than
the base rate, which is itself measured on the same rows: a generous reference), the expected
calibration error (ECE: bin-size-weighted mean |mean predicted - realised|), and the realised
mean R against the predicted expected value in R.

Also :class:`IsotonicCorrection`: an isotonic map from stated to realised probability, fit only
on plans resolved before a given time (the correction a plan may use without lookahead).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: ECE a calibrated ledger should stay under (the issue's goal).
ECE_GOAL = 0.03
#: Bin width of the reliability table (probability units).
BIN_WIDTH = 0.05
#: Fewest settled plans a verdict is given for.
MIN_ROWS = 30


def wilson_interval(hits: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """The Wilson score interval of ``hits``/``n`` (statsmodels ``proportion_confint``)."""
    from statsmodels.stats.proportion import proportion_confint

    if n <= 0:
        return (0.0, 1.0)
    lo, hi = proportion_confint(hits, n, alpha=alpha, method="wilson")
    return (float(lo), float(hi))


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    lo: float
    hi: float
    n: int
    mean_predicted: float
    realised: float
    interval_95: tuple[float, float]
    inside: bool  # the mean prediction lies inside the realised rate's interval


@dataclass(frozen=True, slots=True)
class Reliability:
    """See the module docstring. ``None`` where undefined (no rows, no EV given)."""

    n: int
    base_rate: float | None
    mean_predicted: float | None
    brier: float | None
    brier_reference: float | None
    brier_skill: float | None
    ece: float | None
    bins: list[ReliabilityBin] = field(default_factory=list)
    predicted_ev_r: float | None = None
    realised_r: float | None = None
    realised_r_interval_95: tuple[float, float] | None = None
    calibrated: bool | None = None  # ECE < goal and every bin inside its interval
    verdict: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _verdict(n: int, ece: float | None, outside: int, nbins: int) -> tuple[bool | None, str]:
    if n < MIN_ROWS or ece is None:
        return None, f"too few settled plans ({n}; need {MIN_ROWS}) for a verdict"
    ok = ece < ECE_GOAL and outside == 0
    words = (f"ECE {ece:.3f} ({'<' if ece < ECE_GOAL else '>='} {ECE_GOAL}); "
             f"{outside} of {nbins} bins outside their 95 % interval")  # fmt: skip
    return ok, ("calibrated: " if ok else "MISCALIBRATED: ") + words


def reliability(
    predicted: npt.ArrayLike,
    hit: npt.ArrayLike,
    *,
    predicted_ev_r: npt.ArrayLike | None = None,
    realised_r: npt.ArrayLike | None = None,
    bin_width: float = BIN_WIDTH,
) -> Reliability:
    """The reliability of ``predicted`` (probabilities) against ``hit`` (1/0); rows where either
    is NaN are left out. ``predicted_ev_r``/``realised_r`` (same rows) give the EV check."""
    from sklearn.metrics import brier_score_loss

    p = np.asarray(predicted, dtype=np.float64)
    y = np.asarray(hit, dtype=np.float64)
    ok = np.isfinite(p) & np.isfinite(y)
    p, y = p[ok], y[ok]
    n = len(p)
    ev_pred = ev_real = ev_iv = None
    if predicted_ev_r is not None and realised_r is not None:
        e = np.asarray(predicted_ev_r, dtype=np.float64)[ok]
        r = np.asarray(realised_r, dtype=np.float64)[ok]
        good = np.isfinite(e) & np.isfinite(r)
        if good.any():
            ev_pred, ev_real = float(e[good].mean()), float(r[good].mean())
            se = float(r[good].std(ddof=1) / np.sqrt(good.sum())) if good.sum() > 1 else np.nan
            ev_iv = (ev_real - 1.96 * se, ev_real + 1.96 * se) if np.isfinite(se) else None
    if n == 0:
        return Reliability(0, None, None, None, None, None, None, [], ev_pred, ev_real, ev_iv,
                           None, "no settled plans")  # fmt: skip
    base = float(y.mean())
    brier = float(brier_score_loss(y, np.clip(p, 0, 1))) if len(np.unique(y)) > 1 or n > 0 \
        else None  # fmt: skip
    ref = base * (1 - base)
    skill = (1 - brier / ref) if brier is not None and ref > 0 else None
    edges = np.arange(0.0, 1.0 + bin_width / 2, bin_width)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, len(edges) - 2)
    bins: list[ReliabilityBin] = []
    ece = 0.0
    for b in np.unique(which):
        m = which == b
        k, hits = int(m.sum()), int(y[m].sum())
        mp, rate = float(p[m].mean()), hits / k
        iv = wilson_interval(hits, k)
        bins.append(ReliabilityBin(round(float(edges[b]), 4), round(float(edges[b + 1]), 4), k,
                                   mp, rate, iv, iv[0] <= mp <= iv[1]))  # fmt: skip
        ece += k / n * abs(mp - rate)
    outside = sum(not b.inside for b in bins)
    calibrated, verdict = _verdict(n, ece, outside, len(bins))
    return Reliability(n, base, float(p.mean()), brier, ref, skill, float(ece), bins, ev_pred,
                       ev_real, ev_iv, calibrated, verdict)  # fmt: skip


def reliability_frame(rows: pd.DataFrame, *, prob: str = "p_tp1") -> Reliability:
    """:func:`reliability` of a resolved ledger frame (``hit``, ``ev_r``, ``realised_r``)."""
    return reliability(rows[prob], rows["hit"],
                       predicted_ev_r=rows.get("ev_r", None),
                       realised_r=rows.get("realised_r", None))  # fmt: skip


def grouped(
    rows: pd.DataFrame, keys: Sequence[str], *, prob: str = "p_tp1"
) -> list[dict[str, Any]]:
    """One summary per group of ``keys`` (e.g. symbol, timeframe, source, tolerance): the keys,
    n, base rate, mean predicted, Brier, skill, ECE, predicted EV and realised R, verdict."""
    out: list[dict[str, Any]] = []
    if rows.empty:
        return out
    for key, part in rows.groupby(list(keys), sort=True, dropna=False):
        rel = reliability_frame(part, prob=prob)
        values = key if isinstance(key, tuple) else (key,)
        d = dict(zip(keys, values, strict=True))
        d.update(n=rel.n, base_rate=rel.base_rate, mean_predicted=rel.mean_predicted,
                 brier=rel.brier, brier_skill=rel.brier_skill, ece=rel.ece,
                 predicted_ev_r=rel.predicted_ev_r, realised_r=rel.realised_r,
                 calibrated=rel.calibrated)  # fmt: skip
        out.append(d)
    return out


@dataclass
class IsotonicCorrection:
    """Stated P -> realised rate, isotonic (monotone), fit on settled plans resolved before
    ``fitted_before`` only. Below :data:`MIN_ROWS` rows it is the identity."""

    fitted_before: pd.Timestamp | None = None
    n: int = 0
    _model: Any = None

    @classmethod
    def fit(
        cls, rows: pd.DataFrame, before: pd.Timestamp, *, prob: str = "p_tp1"
    ) -> IsotonicCorrection:
        from sklearn.isotonic import IsotonicRegression

        done = rows[pd.to_datetime(rows["resolved_at"], utc=True) < before]
        done = done[np.isfinite(done[prob].to_numpy(dtype=float)) & done["hit"].notna()]
        corr = cls(before, len(done))
        if len(done) >= MIN_ROWS:
            model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            model.fit(done[prob].to_numpy(dtype=float), done["hit"].to_numpy(dtype=float))
            corr._model = model
        return corr

    def apply(self, p: npt.ArrayLike) -> npt.NDArray[np.float64]:
        arr = np.asarray(p, dtype=np.float64)
        if self._model is None:
            return arr.copy()
        out = arr.copy()
        ok = np.isfinite(arr)
        out[ok] = self._model.predict(arr[ok])
        return out


def walk_forward_corrected(rows: pd.DataFrame, *, refit_every: str = "90D",
                           prob: str = "p_tp1") -> pd.Series:  # fmt: skip
    """Each plan's P corrected by an isotonic map fit only on plans resolved before the start
    of its ``refit_every`` period (so strictly before the plan's time): out of sample."""
    t = pd.to_datetime(rows["as_of"], utc=True)
    out = pd.Series(np.nan, index=rows.index)
    if rows.empty:
        return out
    periods = pd.date_range(t.min().floor("D"), t.max() + pd.Timedelta(refit_every),
                            freq=refit_every)  # fmt: skip
    for lo, hi in itertools.pairwise(periods):
        m = (t >= lo) & (t < hi)
        if m.any():
            corr = IsotonicCorrection.fit(rows, lo, prob=prob)
            out[m] = corr.apply(rows.loc[m, prob]) if corr.n >= MIN_ROWS else np.nan
    return out


__all__ = [
    "BIN_WIDTH",
    "ECE_GOAL",
    "IsotonicCorrection",
    "Reliability",
    "ReliabilityBin",
    "grouped",
    "reliability",
    "reliability_frame",
    "walk_forward_corrected",
    "wilson_interval",
]
