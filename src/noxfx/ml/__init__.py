"""Machine learning on bars: labels, leak-free features, calibrated models, honest evaluation.

Public surface (imported on first use, so ``import noxfx.ml`` loads neither LightGBM nor
scikit-learn)::

    from noxfx.ml import train_model, evaluate, ModelRegistry
    from noxfx.ml.predict import predict  # the module shares the function's name

* :func:`triple_barrier_labels`, :func:`direction_labels`, :func:`meta_labels` -- labels per
  decision bar, entry at the next bar's open, with the label's end time ``t1``;
* :func:`build_features` -- features at ``t`` from bars ``<= t`` only;
* :func:`make_model` -- ``lightgbm`` (default), ``logreg``, ``forest``, ``ensemble``;
* :func:`evaluate` -- purged walk-forward evaluation with a calibration slice between training
  and test, baselines and an :class:`EvaluationReport`;
* :func:`train_model` -> :class:`TrainedModel`; :class:`ModelRegistry` stores versions and the
  champion; :func:`retrain` promotes a challenger only when it beats the champion out of sample;
* :func:`noxfx.ml.predict.predict` -> :class:`Prediction` (calibrated P(target before stop),
  EV in R after costs);
* :func:`drift_report` -- PSI per feature and recent Brier score.

Layout: ``nb`` (numba label kernel), ``labels``, ``features``, ``dataset`` (samples),
``models``, ``calibration``, ``metrics``, ``validation``, ``training``, ``registry``, ``drift``,
``predict``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from noxfx.ml.drift import DriftReport, drift_report, population_stability_index
    from noxfx.ml.features import FeatureConfig, build_features
    from noxfx.ml.labels import BarrierConfig, direction_labels, meta_labels, triple_barrier_labels
    from noxfx.ml.models import make_model
    from noxfx.ml.predict import Prediction, SidePrediction, predict_with
    from noxfx.ml.registry import ModelNotFound, ModelRegistry, RetrainResult, retrain
    from noxfx.ml.training import TrainedModel, train_model
    from noxfx.ml.validation import EvaluationReport, WalkForwardConfig, evaluate

_EXPORTS: dict[str, str] = {
    "BarrierConfig": "labels",
    "triple_barrier_labels": "labels",
    "direction_labels": "labels",
    "meta_labels": "labels",
    "FeatureConfig": "features",
    "build_features": "features",
    "make_model": "models",
    "WalkForwardConfig": "validation",
    "EvaluationReport": "validation",
    "evaluate": "validation",
    "TrainedModel": "training",
    "train_model": "training",
    "ModelRegistry": "registry",
    "ModelNotFound": "registry",
    "RetrainResult": "registry",
    "retrain": "registry",
    "Prediction": "predict",
    "SidePrediction": "predict",
    "predict_with": "predict",
    "DriftReport": "drift",
    "drift_report": "drift",
    "population_stability_index": "drift",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'noxfx.ml' has no attribute {name!r}")
    return getattr(importlib.import_module(f"noxfx.ml.{module}"), name)


__all__ = [
    "BarrierConfig",
    "DriftReport",
    "EvaluationReport",
    "FeatureConfig",
    "ModelNotFound",
    "ModelRegistry",
    "Prediction",
    "RetrainResult",
    "SidePrediction",
    "TrainedModel",
    "WalkForwardConfig",
    "build_features",
    "direction_labels",
    "drift_report",
    "evaluate",
    "make_model",
    "meta_labels",
    "population_stability_index",
    "predict_with",
    "retrain",
    "train_model",
    "triple_barrier_labels",
]
