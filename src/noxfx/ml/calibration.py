"""Probability calibration on a slice the model did not train on.

A model's raw score is not a probability one can bet on: boosted trees on noisy labels are
over-confident, regularised logistic regression under-confident. A :class:`Calibrator` maps raw
scores to calibrated probabilities, fitted on a **calibration slice that lies after the training
data and before the test data** (:mod:`noxfx.ml.validation` builds the slices, with purging and
an embargo between them), so neither the model nor the calibration has seen the outcomes it is
judged on.

Methods:

* ``sigmoid`` (Platt scaling, default): a logistic regression of the label on ``logit(raw)``;
  two parameters, stable on a few hundred samples, monotone, never exactly 0 or 1.
* ``isotonic``: a non-decreasing step function (scikit-learn ``IsotonicRegression``); more
  flexible, needs thousands of samples; outputs are clipped to ``[0.5/n, 1 - 0.5/n]`` so a
  calibrated probability is never a certainty the slice cannot support.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from noxfx.errors import InvalidInput
from noxfx.ml.models import single_blas_thread

CalibrationMethod = Literal["sigmoid", "isotonic"]
FloatArray = npt.NDArray[np.float64]
_EPS = 1e-6


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, _EPS, 1.0 - _EPS)
    return np.asarray(np.log(q / (1.0 - q)), dtype=np.float64)


class Calibrator:
    """Maps raw model scores in [0, 1] to calibrated probabilities.

    ``n`` is the number of calibration samples it rests on (reported with every prediction);
    ``base_rate`` their fraction of positives.
    """

    def __init__(self, method: CalibrationMethod = "sigmoid") -> None:
        if method not in ("sigmoid", "isotonic"):
            raise InvalidInput(f"calibration must be 'sigmoid' or 'isotonic', got {method!r}")
        self.method: CalibrationMethod = method
        self.n = 0
        self.base_rate = float("nan")
        self._model: Any = None

    def fit(self, raw: FloatArray, y: FloatArray) -> Calibrator:
        """Fit on raw scores ``raw`` and 0/1 labels ``y`` of the calibration slice."""
        raw = np.asarray(raw, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if len(raw) != len(y) or len(raw) == 0:
            raise InvalidInput("calibration needs one raw score per label and at least one")
        if len(np.unique(y)) < 2:
            raise InvalidInput("the calibration slice holds a single class; use a longer slice")
        self.n = len(y)
        self.base_rate = float(y.mean())
        with single_blas_thread():
            self._model = self._fit(raw, y)
        return self

    def _fit(self, raw: FloatArray, y: FloatArray) -> Any:
        if self.method == "sigmoid":
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=1e6, max_iter=1000)
            model.fit(_logit(raw).reshape(-1, 1), y.astype(np.int64))
        else:
            from sklearn.isotonic import IsotonicRegression

            lo = 0.5 / self.n
            model = IsotonicRegression(y_min=lo, y_max=1.0 - lo, out_of_bounds="clip")
            model.fit(raw, y)
        return model

    def transform(self, raw: FloatArray) -> FloatArray:
        """Calibrated probabilities for raw scores ``raw``."""
        if self._model is None:
            raise InvalidInput("calibrator used before fit")
        raw = np.asarray(raw, dtype=np.float64)
        with single_blas_thread(len(raw)):
            if self.method == "sigmoid":
                out = self._model.predict_proba(_logit(raw).reshape(-1, 1))[:, 1]
            else:
                out = self._model.predict(raw)
        return np.asarray(out, dtype=np.float64)

    def params(self) -> dict[str, Any]:
        """JSON-ready description: method, n, base rate (and the Platt slope/intercept)."""
        out: dict[str, Any] = {"method": self.method, "n": self.n, "base_rate": self.base_rate}
        if self.method == "sigmoid" and self._model is not None:
            out["slope"] = float(self._model.coef_[0][0])
            out["intercept"] = float(self._model.intercept_[0])
        return out


__all__ = ["CalibrationMethod", "Calibrator"]
