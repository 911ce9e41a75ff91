"""Training the production model: walk-forward evaluation first, then a final calibrated fit.

:func:`train_model` returns a :class:`TrainedModel`, the unit the registry stores and
:func:`noxfx.ml.predict.predict` uses. Per side (long / short) it holds a fitted model and its
calibrator. The final fit trains on all labelled samples except the most recent
``calibration_fraction`` of the history, which (after purge and embargo) calibrates it; the
calibration therefore rests on the most recent out-of-sample outcomes, and ``n_calibration`` says
on how many. The metrics stored with the model are the walk-forward out-of-sample ones
(:func:`noxfx.ml.validation.evaluate_dataset`): the final model itself has no untouched test set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.errors import InvalidInput
from noxfx.ml.calibration import Calibrator
from noxfx.ml.dataset import Dataset, bars_sha256, build_dataset
from noxfx.ml.drift import FeatureReference, feature_reference
from noxfx.ml.features import FeatureConfig
from noxfx.ml.labels import SIDES, BarrierConfig
from noxfx.ml.models import Classifier
from noxfx.ml.validation import (
    EvaluationReport,
    WalkForwardConfig,
    evaluate_dataset,
    final_split,
    fit_calibrated,
    skill_verdict,
)

FloatArray = npt.NDArray[np.float64]
TARGETS: tuple[str, ...] = ("triple_barrier",)


@dataclass
class SideModel:
    """The fitted model and calibrator of one side, with what they rest on."""

    side: str
    model: Classifier
    calibrator: Calibrator
    n_train: int
    n_calibration: int
    base_rate_train: float
    train_last_utc: str
    calibration_first_utc: str
    calibration_last_utc: str

    def predict(self, X: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(calibrated, raw)`` probabilities of the target being hit first."""
        raw = self.model.predict_proba(X)
        return self.calibrator.transform(raw), raw

    def describe(self) -> dict[str, Any]:
        return {
            "n_train": self.n_train,
            "n_calibration": self.n_calibration,
            "base_rate_train": self.base_rate_train,
            "train_last_utc": self.train_last_utc,
            "calibration_first_utc": self.calibration_first_utc,
            "calibration_last_utc": self.calibration_last_utc,
            "calibration": self.calibrator.params(),
        }


@dataclass
class TrainedModel:
    """A trained long+short model bundle for one symbol / timeframe / target."""

    symbol: str
    timeframe: str
    target: str
    model_kind: str
    feature_names: list[str]
    feature_config: FeatureConfig
    labels: BarrierConfig
    validation: WalkForwardConfig
    sides: dict[str, SideModel]
    reference: dict[str, FeatureReference]
    data_first_utc: str
    data_last_utc: str
    n_bars: int
    data_sha256: str
    spread_pips: float
    created_utc: str
    seed: int
    metrics: dict[str, Any] = field(default_factory=dict)
    evaluation: EvaluationReport | None = field(default=None, repr=False)
    version: str | None = None

    def params(self) -> dict[str, Any]:
        """JSON-ready parameters: labels, features, validation, model, calibration."""
        return {
            "labels": self.labels.as_dict(),
            "features": self.feature_config.as_dict(),
            "validation": self.validation.as_dict(),
            "model": {s: m.model.params() for s, m in self.sides.items()},
            "sides": {s: m.describe() for s, m in self.sides.items()},
            "seed": self.seed,
            "spread_pips": self.spread_pips,
        }

    def meta(self) -> dict[str, Any]:
        """What ``meta.json`` records (without the version, which the registry adds)."""
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "target": self.target,
            "model": self.model_kind,
            "created_utc": self.created_utc,
            "features": self.feature_names,
            "params": self.params(),
            "data": {
                "first_bar_open_utc": self.data_first_utc,
                "last_bar_open_utc": self.data_last_utc,
                "n_bars": self.n_bars,
                "sha256": self.data_sha256,
            },
            "metrics": self.metrics,
        }


def _summary(report: EvaluationReport) -> dict[str, Any]:
    keep = (
        "n",
        "positive_rate",
        "accuracy",
        "majority_accuracy",
        "balanced_accuracy",
        "log_loss",
        "brier",
        "brier_reference",
        "brier_skill",
        "auc",
        "auc_p_value_effective",
        "ece",
        "p_value",
        "p_value_effective",
        "n_effective",
    )
    verdict = skill_verdict(report)
    return {
        "kind": "walk_forward_out_of_sample",
        "skill": verdict["skill"],
        "verdict": verdict["line"],
        "test_first_utc": report.test_first_utc,
        "n_folds": report.validation["n_folds"],
        "sides": {
            side: {
                **{k: ev.overall[k] for k in keep},
                "calibration": ev.calibration,
                "baselines": ev.baselines,
                "trades": ev.trades,
            }
            for side, ev in report.sides.items()
        },
    }


def fit_final(
    data: Dataset,
    *,
    model: str,
    config: WalkForwardConfig,
    seed: int,
    model_params: dict[str, Any] | None = None,
) -> dict[str, SideModel]:
    """Fit the production model of each side: train on the past, calibrate on the latest slice."""
    embargo = config.embargo_for(data.labels.horizon_bars)
    out: dict[str, SideModel] = {}
    for side in SIDES:
        s = data.sides[side]
        train, calib = final_split(s.pos, s.t1, config, embargo)
        fitted, calibrator = fit_calibrated(
            model, s, train, calib, config.calibration, seed, model_params
        )
        out[side] = SideModel(
            side=side,
            model=fitted,
            calibrator=calibrator,
            n_train=len(train),
            n_calibration=len(calib),
            base_rate_train=float(s.y[train].mean()),
            train_last_utc=data.index[int(s.pos[train[-1]])].isoformat(),
            calibration_first_utc=data.index[int(s.pos[calib[0]])].isoformat(),
            calibration_last_utc=data.index[int(s.pos[calib[-1]])].isoformat(),
        )
    return out


def train_model(
    bars: pd.DataFrame,
    *,
    symbol: str,
    timeframe: str,
    target: str = "triple_barrier",
    model: str = "lightgbm",
    labels: BarrierConfig | None = None,
    features: FeatureConfig | None = None,
    validation: WalkForwardConfig | None = None,
    spread_pips: float | None = None,
    evaluate: bool = True,
    seed: int = 7,
    model_params: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> TrainedModel:
    """Evaluate (walk-forward, out-of-sample) and fit the production model on ``bars``.

    ``evaluate=False`` skips the walk-forward evaluation (the model then carries no metrics;
    the registry and retraining still compare models on fresh data). ``model_params`` go to
    :func:`~noxfx.ml.models.make_model` (e.g. ``{"rounds": 100}``). ``progress(side, done,
    total)`` is called after each walk-forward fold, then once as ``("final", 1, 1)`` when the
    production model is fitted.
    """
    if target not in TARGETS:
        raise InvalidInput(f"unknown target {target!r}; available: {', '.join(TARGETS)}")
    cfg = validation or WalkForwardConfig()
    data = build_dataset(
        bars,
        symbol=symbol,
        timeframe=timeframe,
        labels=labels,
        features=features,
        spread_pips=spread_pips,
    )
    report = None
    if evaluate:
        report = evaluate_dataset(
            data, model=model, config=cfg, seed=seed, model_params=model_params, progress=progress
        )
    sides = fit_final(data, model=model, config=cfg, seed=seed, model_params=model_params)
    if progress is not None:
        progress("final", 1, 1)
    return TrainedModel(
        symbol=data.symbol,
        timeframe=data.timeframe.name,
        target=target,
        model_kind=model,
        feature_names=data.feature_names,
        feature_config=data.feature_config,
        labels=data.labels,
        validation=cfg,
        sides=sides,
        reference=feature_reference(data.sides["long"].X, data.feature_names),
        data_first_utc=data.index[0].isoformat(),
        data_last_utc=data.index[-1].isoformat(),
        n_bars=data.n_bars,
        data_sha256=bars_sha256(bars),
        spread_pips=data.spread_pips,
        created_utc=pd.Timestamp.now("UTC").isoformat(),
        seed=seed,
        metrics=_summary(report) if report is not None else {},
        evaluation=report,
    )


__all__ = ["TARGETS", "SideModel", "TrainedModel", "fit_final", "train_model"]
