"""The model interface: every kind fits, predicts probabilities, and is deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from noxfx.errors import InvalidInput
from noxfx.ml.dataset import build_dataset
from noxfx.ml.models import MODEL_KINDS, EnsembleModel, make_model


@pytest.fixture(scope="module")
def xy(h1_recent):  # type: ignore[no-untyped-def]
    s = build_dataset(h1_recent.iloc[-3000:], symbol="EURUSD", timeframe="1h").sides["long"]
    return s.X, s.y


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_kind_fits_and_predicts_probabilities(kind: str, xy) -> None:  # type: ignore[no-untyped-def]
    X, y = xy
    params = (
        {"rounds": 30} if kind == "lightgbm" else {"n_estimators": 30} if kind == "forest" else None
    )
    model = make_model(kind, seed=3, params=params).fit(X[:1500], y[:1500])
    p = model.predict_proba(X[1500:])
    assert p.shape == (len(X) - 1500,) and ((p >= 0) & (p <= 1)).all()
    contrib = model.contributions(X[1500:1510])
    if kind in ("lightgbm", "logreg", "ensemble"):
        assert contrib is not None and contrib.shape == (10, X.shape[1] + 1)
    if kind == "lightgbm":  # contributions add up to the raw log-odds
        logit = np.log(p[:10] / (1 - p[:10]))
        np.testing.assert_allclose(contrib.sum(axis=1), logit, atol=1e-9)  # type: ignore[union-attr]


def test_lightgbm_is_deterministic(xy) -> None:  # type: ignore[no-untyped-def]
    X, y = xy
    a = make_model("lightgbm", seed=11).fit(X, y).predict_proba(X)
    b = make_model("lightgbm", seed=11).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_ensemble_is_the_mean_of_its_members(xy) -> None:  # type: ignore[no-untyped-def]
    X, y = xy
    ens = EnsembleModel(seed=5).fit(X[:2000], y[:2000])
    members = np.mean([m.predict_proba(X[2000:]) for m in ens.members], axis=0)
    np.testing.assert_allclose(ens.predict_proba(X[2000:]), members, rtol=1e-12)


def test_bad_kind_or_params() -> None:
    with pytest.raises(InvalidInput):
        make_model("keras")
    with pytest.raises(InvalidInput):
        make_model("logreg", params={"nope": 1})
