"""Binary classifiers behind one small interface: LightGBM (default) and scikit-learn baselines.

Interface (:class:`Classifier`): ``fit(X, y) -> self`` and ``predict_proba(X) -> p`` where ``X``
is a float64 array (rows = samples, columns = features in a fixed order; NaN allowed) and ``p`` is
a **1-D** array of P(y = 1) (unlike scikit-learn's two-column ``predict_proba``). These are the
*raw* scores of the model; :mod:`noxfx.ml.calibration` turns them into calibrated probabilities
on data the model did not train on. ``contributions(X)`` returns per-feature contributions to the
raw log-odds (last column: the bias) where the model can say, else ``None``.

Determinism: every model takes a ``seed``; LightGBM runs with ``deterministic=True``,
``force_row_wise=True`` and ``num_threads=2`` so a retrain on the same data gives the same trees.

Threads: LightGBM's OpenMP workers spin while waiting by default, which on 2 shared cores makes a
2-thread fit several times slower than a 1-thread one whenever another process is busy. This module
sets ``OMP_WAIT_POLICY=PASSIVE`` (unless already set) before LightGBM is first imported; it only
takes effect if no OpenMP runtime was loaded earlier in the process.

The scikit-learn models run with BLAS limited to one thread (``threadpoolctl``): their matrices
are small (tens of thousands x ~60), where a second BLAS thread gains nothing and, on a busy
2-core machine, spinning BLAS threads made a logistic fit ~9x slower.

Kinds: ``lightgbm`` (gradient-boosted trees, heavily regularised for noisy FX labels),
``logreg`` (standardised L2 logistic regression), ``forest`` (random forest), ``ensemble``
(soft voting: the mean of the three members' probabilities). A deep (Keras) model is not
provided: on tens of thousands of noisy, overlapping samples it adds dependencies and
non-determinism without evidence it helps.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal, Protocol, Self

import numpy as np
import numpy.typing as npt

from noxfx.errors import InvalidInput

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ModelKind = Literal["lightgbm", "logreg", "forest", "ensemble"]
MODEL_KINDS: tuple[str, ...] = ("lightgbm", "logreg", "forest", "ensemble")
FloatArray = npt.NDArray[np.float64]

#: LightGBM parameters: shallow trees, large leaves, strong L2, row/column subsampling.
LIGHTGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.045,
    "num_leaves": 15,
    "max_bin": 63,
    "min_data_in_leaf": 200,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.7,
    "bagging_freq": 1,
    "lambda_l2": 10.0,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbose": -1,
}
LIGHTGBM_ROUNDS = 200


class Classifier(Protocol):
    """What the validation, training and prediction code needs from a model."""

    kind: str

    def fit(self, X: FloatArray, y: FloatArray) -> Self: ...

    def predict_proba(self, X: FloatArray) -> FloatArray: ...

    def contributions(self, X: FloatArray) -> FloatArray | None: ...

    def params(self) -> dict[str, Any]: ...


def single_blas_thread(n_rows: int | None = None) -> AbstractContextManager[object]:
    """Context limiting BLAS (OpenBLAS/MKL) to one thread around a scikit-learn call.

    Entering it costs about 3 ms (threadpoolctl inspects the loaded libraries), so for fewer
    than 1,000 rows (live predictions) it does nothing.
    """
    if n_rows is not None and n_rows < 1000:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _check_xy(X: FloatArray, y: FloatArray) -> None:
    if X.ndim != 2 or len(X) != len(y):
        raise InvalidInput(f"X must be 2-D with one row per label; got {X.shape} and {y.shape}")
    if len(np.unique(y)) < 2:
        raise InvalidInput("the training labels hold a single class; need both 0 and 1")


class LightGBMModel:
    """Gradient-boosted trees (LightGBM ``train`` API, binary objective)."""

    kind = "lightgbm"

    def __init__(self, seed: int = 7, rounds: int = LIGHTGBM_ROUNDS, **overrides: Any) -> None:
        self.seed = seed
        self.rounds = rounds
        self._params = {**LIGHTGBM_PARAMS, "seed": seed, **overrides}
        self.booster: Any = None

    def fit(self, X: FloatArray, y: FloatArray) -> Self:
        import lightgbm as lgb

        _check_xy(X, y)
        data_params = {"verbose": -1, "max_bin": self._params["max_bin"]}
        data = lgb.Dataset(X, label=y, params=data_params, free_raw_data=True)
        self.booster = lgb.train(self._params, data, num_boost_round=self.rounds)
        return self

    def _threads(self, X: FloatArray) -> int:
        # a handful of rows (live prediction) is faster on one thread than waking a pool
        return 1 if len(X) < 1000 else int(self._params["num_threads"])

    def predict_proba(self, X: FloatArray) -> FloatArray:
        return np.asarray(self.booster.predict(X, num_threads=self._threads(X)), dtype=np.float64)

    def contributions(self, X: FloatArray) -> FloatArray | None:
        """SHAP-style contributions to the raw log-odds (``pred_contrib=True``), bias last."""
        out = self.booster.predict(X, pred_contrib=True, num_threads=self._threads(X))
        return np.asarray(out, dtype=np.float64)

    def params(self) -> dict[str, Any]:
        return {**self._params, "num_boost_round": self.rounds}


class LogisticModel:
    """Median imputation, standardisation and L2 logistic regression (scikit-learn)."""

    kind = "logreg"

    def __init__(self, seed: int = 7, C: float = 0.1) -> None:
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        self.seed = seed
        self.C = C
        self.pipeline = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median")),
                ("scale", StandardScaler()),
                ("logreg", LogisticRegression(C=C, max_iter=2000, random_state=seed)),
            ]
        )

    def fit(self, X: FloatArray, y: FloatArray) -> Self:
        _check_xy(X, y)
        with single_blas_thread():
            self.pipeline.fit(X, y.astype(np.int64))
        return self

    def predict_proba(self, X: FloatArray) -> FloatArray:
        with single_blas_thread(len(X)):
            return np.asarray(self.pipeline.predict_proba(X)[:, 1], dtype=np.float64)

    def contributions(self, X: FloatArray) -> FloatArray | None:
        """Exact log-odds terms ``coef_j * z_j`` of the standardised features, intercept last."""
        with single_blas_thread(len(X)):
            z = self.pipeline[:-1].transform(X)
        lr = self.pipeline[-1]
        terms = z * lr.coef_[0]
        bias = np.full((len(X), 1), lr.intercept_[0])
        return np.asarray(np.hstack([terms, bias]), dtype=np.float64)

    def params(self) -> dict[str, Any]:
        return {"C": self.C, "penalty": "l2", "standardised": True, "seed": self.seed}


class ForestModel:
    """Median imputation and a random forest with large leaves (scikit-learn, 2 jobs)."""

    kind = "forest"

    def __init__(self, seed: int = 7, n_estimators: int = 200, min_samples_leaf: int = 100) -> None:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline

        self.seed = seed
        self._params = {
            "n_estimators": n_estimators,
            "min_samples_leaf": min_samples_leaf,
            "max_features": "sqrt",
            "max_depth": 12,
            "seed": seed,
        }
        self.pipeline = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median")),
                (
                    "forest",
                    RandomForestClassifier(
                        n_estimators=n_estimators,
                        min_samples_leaf=min_samples_leaf,
                        max_features="sqrt",
                        max_depth=12,
                        n_jobs=2,
                        random_state=seed,
                    ),
                ),
            ]
        )

    def fit(self, X: FloatArray, y: FloatArray) -> Self:
        _check_xy(X, y)
        self.pipeline.fit(X, y.astype(np.int64))
        return self

    def predict_proba(self, X: FloatArray) -> FloatArray:
        return np.asarray(self.pipeline.predict_proba(X)[:, 1], dtype=np.float64)

    def contributions(self, X: FloatArray) -> FloatArray | None:
        return None

    def params(self) -> dict[str, Any]:
        return dict(self._params)


class EnsembleModel:
    """Soft voting: the (weighted) mean of the members' probabilities.

    ``contributions`` are the LightGBM member's (in its own log-odds), the most informative
    explanation available; they do not add up to the ensemble's score.
    """

    kind = "ensemble"

    def __init__(self, seed: int = 7, weights: tuple[float, ...] = (1.0, 1.0, 1.0)) -> None:
        self.members: list[Classifier] = [
            LightGBMModel(seed),
            LogisticModel(seed),
            ForestModel(seed),
        ]
        if len(weights) != len(self.members) or min(weights) < 0 or sum(weights) <= 0:
            raise InvalidInput("ensemble weights: one non-negative weight per member")
        self.weights = np.asarray(weights, dtype=np.float64) / float(sum(weights))

    def fit(self, X: FloatArray, y: FloatArray) -> Self:
        for member in self.members:
            member.fit(X, y)
        return self

    def predict_proba(self, X: FloatArray) -> FloatArray:
        probs = np.vstack([m.predict_proba(X) for m in self.members])
        return np.asarray(self.weights @ probs, dtype=np.float64)

    def contributions(self, X: FloatArray) -> FloatArray | None:
        return self.members[0].contributions(X)

    def params(self) -> dict[str, Any]:
        return {
            "weights": self.weights.tolist(),
            "members": {m.kind: m.params() for m in self.members},
        }


def make_model(kind: str, seed: int = 7, params: dict[str, Any] | None = None) -> Classifier:
    """A fresh, unfitted model of ``kind`` (``lightgbm``, ``logreg``, ``forest``, ``ensemble``).

    ``params`` go to the model's constructor (e.g. ``{"rounds": 100}`` for LightGBM,
    ``{"C": 1.0}`` for logistic regression).
    """
    extra = params or {}
    try:
        if kind == "lightgbm":
            return LightGBMModel(seed, **extra)
        if kind == "logreg":
            return LogisticModel(seed, **extra)
        if kind == "forest":
            return ForestModel(seed, **extra)
        if kind == "ensemble":
            return EnsembleModel(seed, **extra)
    except TypeError as exc:
        raise InvalidInput(f"bad parameters for {kind}: {exc}") from exc
    raise InvalidInput(f"unknown model {kind!r}; choose one of {', '.join(MODEL_KINDS)}")


__all__ = [
    "LIGHTGBM_PARAMS",
    "MODEL_KINDS",
    "Classifier",
    "EnsembleModel",
    "ForestModel",
    "LightGBMModel",
    "LogisticModel",
    "ModelKind",
    "make_model",
    "single_blas_thread",
]
