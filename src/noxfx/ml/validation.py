"""Purged walk-forward validation with a calibration slice, baselines and an evaluation report.

Layout of one fold (bar positions increase to the right)::

    | train ............ |gap| calibration |gap| test |
    0                         c                  s      e

* **Walk-forward**: the test blocks tile the last ``test_fraction`` of the history in
  ``n_folds`` equal, consecutive blocks; each fold trains on everything before its calibration
  slice (an expanding window), so a model never sees data later than what it is tested on.
* **Calibration slice**: the last ``calibration_fraction`` of the history before ``s``. The raw
  model is fitted on *train*, the calibrator on *calibration* (later than training, earlier than
  testing), and only then are the test samples scored.
* **Purging**: a sample is dropped from train (calibration) when its label interval
  ``[t, t1]`` reaches into the next segment (``t1 >= c``, resp. ``t1 >= s``): its outcome would
  be partly made of the next segment's bars.
* **Embargo**: additionally, the last ``embargo_bars`` decision bars before ``c`` and before
  ``s`` are dropped (``t + embargo < c``). The embargo must be at least the label horizon, which
  makes the purge hold even for a label that runs its full horizon.

Calibration is judged per fold, not only pooled: each side's ``calibration`` gives every fold's
ECE, the worst fold, the ECE perfectly calibrated forecasts would reach by chance
(``ece_noise_p95``) and the verdict. **A model is called calibrated only when every fold's ECE is
below** :data:`~noxfx.ml.metrics.ECE_CALIBRATED_MAX` (0.03), see
:func:`~noxfx.ml.metrics.calibration_verdict`; a pooled ECE averages periods that err in
opposite directions and can look fine while single folds are not. :func:`skill_verdict` states
skill or no skill over the base rate with the numbers it rests on.

Baselines scored on exactly the same test samples: ``base_rate`` (the training base rate as a
constant probability), ``last_return_sign`` (the training frequency of a win given the sign of
the last bar's return), ``logreg`` (standardised logistic regression, calibrated like the model).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.errors import InsufficientData, InvalidInput
from noxfx.ml.calibration import CalibrationMethod, Calibrator
from noxfx.ml.dataset import Dataset, SideSamples, build_dataset
from noxfx.ml.features import FeatureConfig
from noxfx.ml.labels import SIDES, BarrierConfig
from noxfx.ml.metrics import (
    ECE_CALIBRATED_MAX,
    binary_metrics,
    calibration_verdict,
    ece_noise,
    reliability_table,
    trade_stats,
)
from noxfx.ml.models import make_model

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class WalkForwardConfig:
    """Walk-forward settings. Fractions are of the labelled span in bars; ``embargo_bars=None``
    means "equal to the label horizon" (the minimum allowed)."""

    n_folds: int = 5
    test_fraction: float = 0.5
    calibration_fraction: float = 0.2
    embargo_bars: int | None = None
    calibration: CalibrationMethod = "sigmoid"
    min_train: int = 500
    min_calibration: int = 200

    def __post_init__(self) -> None:
        if self.n_folds < 1:
            raise InvalidInput(f"n_folds must be >= 1, got {self.n_folds}")
        if not 0 < self.test_fraction < 1 or not 0 < self.calibration_fraction < 1:
            raise InvalidInput("test_fraction and calibration_fraction must be in (0, 1)")

    def embargo_for(self, horizon_bars: int) -> int:
        """The embargo in bars; raises when it is shorter than the label horizon."""
        embargo = horizon_bars if self.embargo_bars is None else self.embargo_bars
        if embargo < horizon_bars:
            raise InvalidInput(
                f"embargo_bars ({embargo}) must be >= the label horizon ({horizon_bars} bars)"
            )
        return embargo

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Fold:
    """Sample indices (into one side's arrays) and bar-position bounds of one fold."""

    number: int
    train: IntArray
    calibration: IntArray
    test: IntArray
    calibration_start: int
    test_start: int
    test_end: int


def _segments(
    pos: IntArray, t1: IntArray, c: int, s: int, e: int, embargo: int
) -> tuple[IntArray, IntArray, IntArray]:
    train = np.flatnonzero((pos + embargo < c) & (t1 < c))
    calib = np.flatnonzero((pos >= c) & (pos + embargo < s) & (t1 < s))
    test = np.flatnonzero((pos >= s) & (pos < e))
    return train.astype(np.int64), calib.astype(np.int64), test.astype(np.int64)


def purged_walk_forward(
    pos: IntArray, t1: IntArray, config: WalkForwardConfig, embargo: int
) -> list[Fold]:
    """The folds for samples at bar positions ``pos`` (sorted) with label ends ``t1``.

    Raises :class:`~noxfx.errors.InsufficientData` when a fold would have fewer than
    ``min_train`` training or ``min_calibration`` calibration samples.
    """
    if len(pos) == 0:
        raise InsufficientData("no samples to validate")
    if np.any(np.diff(pos) <= 0):
        raise InvalidInput("sample positions must be strictly increasing")
    p0, p1 = int(pos[0]), int(pos[-1]) + 1
    first_test = p0 + round((1.0 - config.test_fraction) * (p1 - p0))
    edges = np.linspace(first_test, p1, config.n_folds + 1).round().astype(np.int64)
    folds = []
    for k in range(config.n_folds):
        s, e = int(edges[k]), int(edges[k + 1])
        c = s - round(config.calibration_fraction * (s - p0))
        train, calib, test = _segments(pos, t1, c, s, e, embargo)
        if len(train) < config.min_train or len(calib) < config.min_calibration:
            raise InsufficientData(
                f"fold {k + 1}: {len(train)} training and {len(calib)} calibration samples; "
                f"need {config.min_train} and {config.min_calibration} (pass more bars or "
                f"fewer folds)"
            )
        folds.append(Fold(k + 1, train, calib, test, c, s, e))
    return folds


def final_split(
    pos: IntArray, t1: IntArray, config: WalkForwardConfig, embargo: int
) -> tuple[IntArray, IntArray]:
    """Train / calibration indices for the production model: calibration = the most recent
    ``calibration_fraction`` of the labelled span, training = everything before it (purged and
    embargoed the same way as in :func:`purged_walk_forward`)."""
    p0, p1 = int(pos[0]), int(pos[-1]) + 1
    c = p1 - round(config.calibration_fraction * (p1 - p0))
    train = np.flatnonzero((pos + embargo < c) & (t1 < c)).astype(np.int64)
    calib = np.flatnonzero(pos >= c).astype(np.int64)
    if len(train) < config.min_train or len(calib) < config.min_calibration:
        raise InsufficientData(
            f"{len(train)} training and {len(calib)} calibration samples; need "
            f"{config.min_train} and {config.min_calibration} (pass more bars)"
        )
    return train, calib


def fit_calibrated(
    kind: str,
    samples: SideSamples,
    train: IntArray,
    calib: IntArray,
    method: str,
    seed: int,
    params: dict[str, Any] | None = None,
) -> tuple[Any, Calibrator]:
    """Fit a ``kind`` model on ``train`` and its calibrator on ``calib`` (indices)."""
    model = make_model(kind, seed, params).fit(samples.X[train], samples.y[train])
    raw = model.predict_proba(samples.X[calib])
    calibrator = Calibrator(method).fit(raw, samples.y[calib])  # type: ignore[arg-type]
    return model, calibrator


#: the per-fold step: ``(kind, samples, fold, method, seed, params) -> test probabilities``
FoldForecaster = Callable[[str, SideSamples, Fold, str, int, dict[str, Any] | None], FloatArray]


def fold_forecast(
    kind: str,
    samples: SideSamples,
    fold: Fold,
    method: str,
    seed: int,
    params: dict[str, Any] | None = None,
) -> FloatArray:
    """The honest per-fold step: fit on ``fold.train``, calibrate on ``fold.calibration``, then
    score ``fold.test`` (whose labels are never read)."""
    fitted, calibrator = fit_calibrated(
        kind, samples, fold.train, fold.calibration, method, seed, params
    )
    return calibrator.transform(fitted.predict_proba(samples.X[fold.test]))


def _sign_baseline(
    samples: SideSamples, train: IntArray, test: IntArray, ret_col: int
) -> FloatArray:
    """P(win | sign of the last bar's return), frequencies from the training samples."""
    up_train = samples.X[train, ret_col] > 0
    y_train = samples.y[train]
    base = float(y_train.mean())
    p_up = float(y_train[up_train].mean()) if up_train.any() else base
    p_down = float(y_train[~up_train].mean()) if (~up_train).any() else base
    return np.where(samples.X[test, ret_col] > 0, p_up, p_down)


@dataclass
class SideEvaluation:
    """Out-of-sample results of one side: per fold, pooled, baselines, reliability, trading."""

    side: str
    model: str
    folds: list[dict[str, Any]]
    overall: dict[str, Any]
    calibration: dict[str, Any]
    baselines: dict[str, dict[str, Any]]
    reliability: list[dict[str, Any]]
    trades: dict[str, Any]
    # pooled out-of-sample arrays (not serialised)
    p: FloatArray = field(repr=False, default_factory=lambda: np.empty(0))
    y: FloatArray = field(repr=False, default_factory=lambda: np.empty(0))
    pos: IntArray = field(repr=False, default_factory=lambda: np.empty(0, dtype=np.int64))

    def as_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "model": self.model,
            "overall": self.overall,
            "calibration": self.calibration,
            "baselines": self.baselines,
            "trades": self.trades,
            "reliability": self.reliability,
            "folds": self.folds,
        }


def walk_forward_evaluate(
    samples: SideSamples,
    *,
    model: str = "lightgbm",
    config: WalkForwardConfig | None = None,
    embargo: int,
    reward_risk: float = 1.0,
    ret_col: int | None = None,
    baselines: bool = True,
    seed: int = 7,
    model_params: dict[str, Any] | None = None,
    forecast: FoldForecaster | None = None,
    on_fold: Callable[[int, int], None] | None = None,
    ece_threshold: float = ECE_CALIBRATED_MAX,
) -> SideEvaluation:
    """Purged walk-forward evaluation of one side (see the module docstring).

    ``ret_col`` is the column of the last bar's return in ``samples.X`` (for the sign baseline;
    skipped when None); ``model_params`` go to :func:`~noxfx.ml.models.make_model`. Metrics use
    calibrated probabilities; the Brier reference of each test sample is its fold's training
    base rate. ``forecast`` replaces the per-fold step (default :func:`fold_forecast`; the leak
    checks of :mod:`noxfx.ml.leakage` pass deliberately leaky ones); ``on_fold(done, total)`` is
    called after each fold (progress display). ``calibration`` holds every fold's ECE, the worst
    and the verdict of :func:`~noxfx.ml.metrics.calibration_verdict` with ``ece_threshold``.
    """
    cfg = config or WalkForwardConfig()
    folds = purged_walk_forward(samples.pos, samples.t1, cfg, embargo)
    names = [
        "base_rate",
        *(["last_return_sign"] if ret_col is not None else []),
        *(["logreg"] if baselines and model != "logreg" else []),
    ]
    pooled: dict[str, list[FloatArray]] = {k: [] for k in ["model", "ref", *names]}
    idx_all: list[IntArray] = []
    fold_rows = []
    step = forecast or fold_forecast
    for fold in folds:
        test = fold.test
        p = np.asarray(
            step(model, samples, fold, cfg.calibration, seed, model_params), dtype=np.float64
        )
        ref = float(samples.y[fold.train].mean())
        preds = {"model": p, "ref": np.full(len(test), ref), "base_rate": np.full(len(test), ref)}
        if ret_col is not None:
            preds["last_return_sign"] = _sign_baseline(samples, fold.train, test, ret_col)
        if "logreg" in names:
            lr, lr_cal = fit_calibrated(
                "logreg", samples, fold.train, fold.calibration, cfg.calibration, seed
            )
            preds["logreg"] = lr_cal.transform(lr.predict_proba(samples.X[test]))
        for k, v in preds.items():
            pooled[k].append(v)
        idx_all.append(test)
        y = samples.y[test]
        overlap = float(np.mean(samples.t1[test] - samples.pos[test])) if len(test) else 1.0
        row = {
            "fold": fold.number,
            "n_train": len(fold.train),
            "n_calibration": len(fold.calibration),
            "calibration_start_pos": fold.calibration_start,
            "test_start_pos": fold.test_start,
            "test_end_pos": fold.test_end,
            **binary_metrics(y, p, reference_rate=ref, overlap=overlap),
            "ece_noise_p95": ece_noise(p),
        }
        fold_rows.append(row)
        if on_fold is not None:
            on_fold(fold.number, len(folds))
    idx = np.concatenate(idx_all)
    y = samples.y[idx]
    ref_all = np.concatenate(pooled["ref"])
    p_all = np.concatenate(pooled["model"])
    overlap = float(np.mean(samples.t1[idx] - samples.pos[idx]))
    overall = binary_metrics(y, p_all, reference_rate=float(ref_all.mean()), overlap=overlap)
    # the pooled Brier reference uses each sample's own fold base rate
    overall["brier_reference"] = float(np.mean((ref_all - y) ** 2))
    overall["brier_skill"] = 1.0 - overall["brier"] / overall["brier_reference"]
    overall["label_overlap_bars"] = overlap
    base = {}
    for name in names:
        m = binary_metrics(
            y, np.concatenate(pooled[name]), reference_rate=float(ref_all.mean()), overlap=overlap
        )
        m["brier_skill"] = 1.0 - m["brier"] / overall["brier_reference"]
        base[name] = {
            k: m[k]
            for k in (
                "n",
                "accuracy",
                "balanced_accuracy",
                "log_loss",
                "brier",
                "brier_skill",
                "auc",
                "ece",
            )
        }
    trades = trade_stats(
        p_all, samples.exit_r[idx], samples.cost_r[idx], reward_risk, overlap=overlap
    )
    calibration = calibration_verdict(
        [r["ece"] for r in fold_rows], overall["ece"], threshold=ece_threshold
    )
    calibration["ece_noise_p95_folds"] = [r["ece_noise_p95"] for r in fold_rows]
    overall["ece_worst_fold"] = calibration["ece_worst_fold"]
    overall["calibrated"] = calibration["calibrated"]
    return SideEvaluation(
        side=samples.side,
        model=model,
        folds=fold_rows,
        overall=overall,
        calibration=calibration,
        baselines=base,
        reliability=reliability_table(y, p_all),
        trades=trades,
        p=p_all,
        y=y,
        pos=samples.pos[idx],
    )


@dataclass
class EvaluationReport:
    """The honest out-of-sample evaluation of one model on one symbol/timeframe."""

    symbol: str
    timeframe: str
    model: str
    created_utc: str
    n_bars: int
    data_first_utc: str
    data_last_utc: str
    test_first_utc: str
    spread_pips: float
    labels: dict[str, Any]
    features: list[str]
    validation: dict[str, Any]
    sides: dict[str, SideEvaluation]
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "sides"}
        out["sides"] = {k: v.as_dict() for k, v in self.sides.items()}
        return out

    def summary_rows(self) -> list[dict[str, Any]]:
        """One flat row per side: the numbers a person looks at first."""
        rows = []
        for side, ev in self.sides.items():
            o = ev.overall
            rows.append(
                {
                    "symbol": self.symbol,
                    "timeframe": self.timeframe,
                    "side": side,
                    "model": self.model,
                    "n_oos": o["n"],
                    "base_rate": o["positive_rate"],
                    "accuracy": o["accuracy"],
                    "majority_acc": o["majority_accuracy"],
                    "bal_acc": o["balanced_accuracy"],
                    "auc": o["auc"],
                    "log_loss": o["log_loss"],
                    "brier": o["brier"],
                    "bss": o["brier_skill"],
                    "ece": o["ece"],
                    "ece_worst_fold": ev.calibration["ece_worst_fold"],
                    "calibrated": ev.calibration["calibrated"],
                    "p_value": o["p_value"],
                    "p_value_eff": o["p_value_effective"],
                    "n_eff": o["n_effective"],
                    "logreg_auc": ev.baselines.get("logreg", {}).get("auc", math.nan),
                    "logreg_bss": ev.baselines.get("logreg", {}).get("brier_skill", math.nan),
                    "sign_acc": ev.baselines.get("last_return_sign", {}).get("accuracy", math.nan),
                    "trades": ev.trades["n_trades"],
                    "trade_hit": ev.trades["hit_rate"],
                    "trade_mean_r": ev.trades["mean_r"],
                }
            )
        return rows


#: significance level of the AUC test in :func:`skill_verdict`
SKILL_ALPHA = 0.05


def skill_verdict(report: EvaluationReport, alpha: float = SKILL_ALPHA) -> dict[str, Any]:
    """Skill over the base rate, per side and overall, with the numbers it rests on.

    Rule: a side has skill when its pooled out-of-sample **Brier skill is above 0** (better than
    the training base rate as a constant forecast) **and** its AUC is above 0.5 with a one-sided
    p-value below ``alpha`` on the effective sample size (``auc_p_value_effective``). The model
    has skill when at least one side has. ``line`` is a one-line summary for people.
    """
    sides: dict[str, dict[str, Any]] = {}
    parts = []
    for side, ev in report.sides.items():
        o, cal = ev.overall, ev.calibration
        bss, auc, p_auc = o["brier_skill"], o["auc"], o["auc_p_value_effective"]
        has = bool(math.isfinite(bss) and bss > 0 and math.isfinite(p_auc) and p_auc < alpha)
        sides[side] = {
            "skill": has,
            "brier_skill": bss,
            "auc": auc,
            "auc_p_value_effective": p_auc,
            "ece_pooled": cal["ece_pooled"],
            "ece_worst_fold": cal["ece_worst_fold"],
            "worst_fold": cal["worst_fold"],
            "calibrated": cal["calibrated"],
        }
        parts.append(
            f"{side} {'skill' if has else 'no skill'}: Brier skill {bss:+.4f}, AUC {auc:.3f} "
            f"(p {p_auc:.2g}), ECE worst fold {cal['ece_worst_fold']:.3f} "
            f"(fold {cal['worst_fold']}){'' if cal['calibrated'] else ', not calibrated'}"
        )
    skill = any(v["skill"] for v in sides.values())
    head = "SKILL over the base rate" if skill else "NO SKILL over the base rate"
    return {
        "skill": skill,
        "alpha": alpha,
        "sides": sides,
        "line": f"verdict: {head} ({'; '.join(parts)})",
    }


def _iso(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).isoformat()


def _side_progress(
    progress: Callable[[str, int, int], None], side: str
) -> Callable[[int, int], None]:
    return lambda done, total: progress(side, done, total)


def evaluate_dataset(
    data: Dataset,
    *,
    model: str = "lightgbm",
    config: WalkForwardConfig | None = None,
    baselines: bool = True,
    seed: int = 7,
    model_params: dict[str, Any] | None = None,
    forecast: FoldForecaster | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> EvaluationReport:
    """Walk-forward evaluation of both sides of a prepared :class:`Dataset`.

    ``progress(side, folds_done, n_folds)`` is called after each fold of each side;
    ``forecast`` is passed to :func:`walk_forward_evaluate`.
    """
    cfg = config or WalkForwardConfig()
    embargo = cfg.embargo_for(data.labels.horizon_bars)
    ret_col = data.feature_names.index("ret_1_atr") if "ret_1_atr" in data.feature_names else None
    sides: dict[str, SideEvaluation] = {
        side: walk_forward_evaluate(
            data.sides[side],
            model=model,
            config=cfg,
            embargo=embargo,
            reward_risk=data.labels.reward_risk,
            ret_col=ret_col,
            baselines=baselines,
            seed=seed,
            model_params=model_params,
            forecast=forecast,
            on_fold=None if progress is None else _side_progress(progress, side),
        )
        for side in SIDES
    }
    first_test = min(int(ev.pos[0]) for ev in sides.values())
    notes = [
        "All metrics are out-of-sample: each test block is scored by a model trained and "
        "calibrated only on earlier bars (purged, embargoed).",
        f"Labels overlap (mean {sides['long'].overall['label_overlap_bars']:.1f} bars): the "
        "effective number of independent predictions is about n / overlap (n_effective); "
        "p_value_effective uses it.",
        "accuracy thresholds the calibrated probability at 0.5; majority_accuracy is the "
        "accuracy of always predicting the more frequent class of the test set.",
        f"Trades: entered when EV = p*{data.labels.reward_risk:g} - (1-p) - cost > 0, cost = "
        f"{data.spread_pips:g} pips spread / stop pips; results at the barrier, before swap.",
        "ECE is given per fold and for the worst fold next to the pooled figure (a pooled ECE "
        "averages periods and hides miscalibrated ones); 'calibrated' means every fold's ECE is "
        f"below {ECE_CALIBRATED_MAX:g}: "
        + "; ".join(
            f"{side} worst fold {ev.calibration['worst_fold']} ECE "
            f"{ev.calibration['ece_worst_fold']:.3f} (pooled {ev.calibration['ece_pooled']:.3f}), "
            f"{'calibrated' if ev.calibration['calibrated'] else 'not calibrated'}"
            for side, ev in sides.items()
        )
        + ".",
    ]
    return EvaluationReport(
        symbol=data.symbol,
        timeframe=data.timeframe.name,
        model=model,
        created_utc=pd.Timestamp.now("UTC").isoformat(),
        n_bars=data.n_bars,
        data_first_utc=_iso(data.index[0]),
        data_last_utc=_iso(data.index[-1]),
        test_first_utc=_iso(data.index[first_test]),
        spread_pips=data.spread_pips,
        labels=data.labels.as_dict(),
        features=data.feature_names,
        validation={**cfg.as_dict(), "embargo_bars": embargo},
        sides=sides,
        notes=notes,
    )


def evaluate(
    bars: pd.DataFrame,
    *,
    symbol: str,
    timeframe: str,
    model: str = "lightgbm",
    labels: BarrierConfig | None = None,
    features: FeatureConfig | None = None,
    config: WalkForwardConfig | None = None,
    spread_pips: float | None = None,
    baselines: bool = True,
    seed: int = 7,
    model_params: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> EvaluationReport:
    """Build the dataset from ``bars`` and run :func:`evaluate_dataset` on it."""
    data = build_dataset(
        bars,
        symbol=symbol,
        timeframe=timeframe,
        labels=labels,
        features=features,
        spread_pips=spread_pips,
    )
    return evaluate_dataset(
        data,
        model=model,
        config=config,
        baselines=baselines,
        seed=seed,
        model_params=model_params,
        progress=progress,
    )


__all__ = [
    "SKILL_ALPHA",
    "EvaluationReport",
    "Fold",
    "FoldForecaster",
    "SideEvaluation",
    "WalkForwardConfig",
    "evaluate",
    "evaluate_dataset",
    "final_split",
    "fit_calibrated",
    "fold_forecast",
    "purged_walk_forward",
    "skill_verdict",
    "walk_forward_evaluate",
]
