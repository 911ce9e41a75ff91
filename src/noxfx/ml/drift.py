"""Drift: has the market moved away from what the model learned, and do its forecasts still hold?

Two checks:

* **Feature drift** -- the population stability index per feature between the training data and
  recent bars. Bins are the deciles of the training values (stored with the model as a
  :class:`FeatureReference`); with expected proportions ``e_b`` and recent proportions ``a_b``
  (both floored at ``1e-4`` so empty bins stay finite)::

      PSI = sum_b (a_b - e_b) * ln(a_b / e_b)

  Customary reading: < 0.10 stable, 0.10-0.25 moderate shift, >= 0.25 major shift. Caveat: the
  recent bars are not independent draws. A slow feature (daily RSI, 120-bar volatility) takes few
  distinct values over a few weeks of hourly bars, so its PSI is large over short windows even
  when nothing is wrong; judge slow features over months (``recent_bars``), fast ones over weeks.
* **Performance drift** -- the Brier score of the model's calibrated forecasts on bars *after* its
  training data whose outcome is known, overall and over a rolling window, against the Brier
  score of its walk-forward evaluation and of the base rate. Flagged when the recent Brier is
  worse than the better of the two by more than two standard errors (using ``n / overlap``
  effective samples, since labels overlap).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.errors import InsufficientData

if TYPE_CHECKING:
    from noxfx.ml.training import TrainedModel

FloatArray = npt.NDArray[np.float64]
PSI_EPS = 1e-4
PSI_MODERATE = 0.10
PSI_MAJOR = 0.25


@dataclass(frozen=True, slots=True)
class FeatureReference:
    """Training distribution of one feature: inner bin ``edges`` (a value ``v`` falls in bin
    ``searchsorted(edges, v, side="right")``) and the training ``proportions`` per bin."""

    edges: tuple[float, ...]
    proportions: tuple[float, ...]
    n: int


def bin_proportions(values: FloatArray, edges: FloatArray) -> FloatArray:
    """Fraction of the finite ``values`` in each of the ``len(edges) + 1`` bins."""
    v = values[np.isfinite(values)]
    counts = np.bincount(np.searchsorted(edges, v, side="right"), minlength=len(edges) + 1)
    return counts / max(len(v), 1)


def psi_from_proportions(expected: FloatArray, actual: FloatArray, eps: float = PSI_EPS) -> float:
    """PSI between two proportion vectors over the same bins (see the module docstring)."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), eps)
    a = np.maximum(np.asarray(actual, dtype=np.float64), eps)
    return float(np.sum((a - e) * np.log(a / e)))


def reference_of(values: FloatArray, bins: int = 10) -> FeatureReference:
    """Decile edges (unique) of the finite training ``values`` and the proportions in them."""
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return FeatureReference((), (1.0,), 0)
    edges = np.unique(np.quantile(v, np.linspace(0, 1, bins + 1)[1:-1]))
    props = bin_proportions(v, edges)
    return FeatureReference(tuple(map(float, edges)), tuple(map(float, props)), len(v))


def population_stability_index(expected: FloatArray, actual: FloatArray, bins: int = 10) -> float:
    """PSI of ``actual`` values against ``expected`` values, on the deciles of ``expected``."""
    ref = reference_of(np.asarray(expected, dtype=np.float64), bins)
    return psi_against(ref, np.asarray(actual, dtype=np.float64))


def psi_against(ref: FeatureReference, actual: FloatArray) -> float:
    """PSI of ``actual`` values against a stored :class:`FeatureReference`."""
    return psi_from_proportions(
        np.asarray(ref.proportions), bin_proportions(actual, np.asarray(ref.edges))
    )


def feature_reference(
    X: FloatArray, names: list[str], bins: int = 10
) -> dict[str, FeatureReference]:
    """A :class:`FeatureReference` per column of the training matrix ``X``."""
    return {name: reference_of(X[:, j], bins) for j, name in enumerate(names)}


def psi_status(psi: float) -> str:
    if not math.isfinite(psi):
        return "unknown"
    return "major" if psi >= PSI_MAJOR else "moderate" if psi >= PSI_MODERATE else "stable"


def rolling_brier(p: FloatArray, y: FloatArray, window: int) -> FloatArray:
    """Mean of ``(p - y)^2`` over the last ``window`` forecasts (NaN until ``window`` exist)."""
    sq = pd.Series((np.asarray(p) - np.asarray(y)) ** 2)
    return np.asarray(sq.rolling(window).mean().to_numpy(), dtype=np.float64)


@dataclass
class DriftReport:
    """Feature and performance drift of one model on recent bars."""

    symbol: str
    timeframe: str
    version: str | None
    last_bar_open_utc: str
    recent_bars: int
    features: list[dict[str, Any]]
    performance: dict[str, dict[str, Any]]
    flags: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _performance(
    trained: TrainedModel, bars: pd.DataFrame, feats: pd.DataFrame, window: int
) -> dict[str, dict[str, Any]]:
    from noxfx.instruments import get_instrument
    from noxfx.ml.labels import barrier_outcomes

    pip = get_instrument(trained.symbol).pip_size
    after = pd.DatetimeIndex(bars.index) > pd.Timestamp(trained.data_last_utc)
    X = feats[trained.feature_names].to_numpy(dtype=np.float64)
    usable = after & np.isfinite(X).all(axis=1)
    out: dict[str, dict[str, Any]] = {}
    for side, sm in trained.sides.items():
        res = barrier_outcomes(bars, trained.labels, side, pip)  # type: ignore[arg-type]
        rows = np.flatnonzero(usable & np.isfinite(res.label))
        oos = trained.metrics.get("sides", {}).get(side, {})
        entry: dict[str, Any] = {
            "n": len(rows),
            "brier_oos": oos.get("brier"),
            "brier_base_rate_oos": oos.get("brier_reference"),
        }
        if len(rows) == 0:
            out[side] = {**entry, "status": "no new outcomes"}
            continue
        p, _ = sm.predict(X[rows])
        y = res.label[rows]
        sq = (p - y) ** 2
        overlap = max(float(np.mean(res.exit_pos[rows] - rows)), 1.0)
        se = float(np.std(sq) / math.sqrt(max(len(rows) / overlap, 1.0)))
        recent = float(sq.mean())
        base = float(np.mean((sm.base_rate_train - y) ** 2))
        bar = min(v for v in (oos.get("brier"), base) if v is not None)
        roll = rolling_brier(p, y, window) if len(rows) >= window else np.empty(0)
        worse = recent > bar + 2 * se
        entry.update(
            {
                "brier": recent,
                "brier_base_rate": base,
                "standard_error": se,
                "rolling_brier_last": float(roll[-1]) if len(roll) else None,
                "window_bars": window,
                "first_utc": bars.index[rows[0]].isoformat(),
                "last_utc": bars.index[rows[-1]].isoformat(),
                "status": "degraded" if worse else "ok",
            }
        )
        out[side] = entry
    return out


def drift_report(
    trained: TrainedModel, bars: pd.DataFrame, *, recent_bars: int = 1500, window: int = 200
) -> DriftReport:
    """PSI of the last ``recent_bars`` bars' features against training, and the Brier score of
    forecasts made after the training data (bars whose labels are known)."""
    from noxfx.ml.features import build_features

    feats = build_features(bars, trained.timeframe, trained.feature_config)
    recent = feats[trained.feature_names].iloc[-recent_bars:]
    recent = recent[np.isfinite(recent.to_numpy()).all(axis=1)]
    if len(recent) < min(100, recent_bars):
        raise InsufficientData(f"only {len(recent)} recent bars with complete features")
    rows: list[dict[str, Any]] = []
    for name in trained.feature_names:
        psi = psi_against(trained.reference[name], recent[name].to_numpy(dtype=np.float64))
        rows.append({"feature": name, "psi": psi, "status": psi_status(psi)})
    rows.sort(key=lambda r: -float(r["psi"]))
    perf = _performance(trained, bars, feats, window)
    flags = [
        f"feature {r['feature']}: PSI {r['psi']:.2f} ({r['status']} shift)"
        for r in rows
        if r["status"] in ("moderate", "major")
    ]
    flags += [
        f"{side}: recent Brier {v['brier']:.4f} worse than expected (n={v['n']})"
        for side, v in perf.items()
        if v.get("status") == "degraded"
    ]
    return DriftReport(
        symbol=trained.symbol,
        timeframe=trained.timeframe,
        version=trained.version,
        last_bar_open_utc=pd.Timestamp(bars.index[-1]).isoformat(),
        recent_bars=len(recent),
        features=rows,
        performance=perf,
        flags=flags,
    )


__all__ = [
    "PSI_MAJOR",
    "PSI_MODERATE",
    "DriftReport",
    "FeatureReference",
    "bin_proportions",
    "drift_report",
    "feature_reference",
    "population_stability_index",
    "psi_against",
    "psi_from_proportions",
    "psi_status",
    "reference_of",
    "rolling_brier",
]
