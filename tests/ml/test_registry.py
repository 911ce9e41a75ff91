"""Registry round trip, champion / promote / rollback, atomic writes, retraining."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from noxfx.ml.features import build_features
from noxfx.ml.registry import ModelNotFound, ModelRegistry, retrain
from noxfx.ml.training import TrainedModel
from tests.ml.conftest import FAST


def test_round_trip_gives_identical_forecasts(
    tmp_path: Path, trained_small: TrainedModel, h1_recent: pd.DataFrame
) -> None:
    reg = ModelRegistry(tmp_path)
    version = reg.save(trained_small)
    folder = tmp_path / "EURUSD" / "1h" / "triple_barrier" / version
    assert {p.name for p in folder.iterdir()} == {"model.joblib", "meta.json", "evaluation.json"}
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["version"] == version and meta["model"] == "lightgbm"
    assert meta["features"] == trained_small.feature_names
    assert len(meta["data"]["sha256"]) == 64 and meta["data"]["n_bars"] == 5200
    assert meta["metrics"]["kind"] == "walk_forward_out_of_sample"
    assert meta["metrics"]["sides"]["long"]["n"] > 1000
    assert meta["params"]["sides"]["long"]["n_calibration"] > 200
    loaded = ModelRegistry(tmp_path).load("EURUSD", "1h", version=version)
    X = build_features(h1_recent, "1h")[trained_small.feature_names].to_numpy()[-300:]
    for side in ("long", "short"):
        a = trained_small.sides[side].predict(X)[0]
        b = loaded.sides[side].predict(X)[0]
        np.testing.assert_array_equal(a, b)


def test_promote_and_rollback(tmp_path: Path, trained_small: TrainedModel) -> None:
    reg = ModelRegistry(tmp_path)
    with pytest.raises(ModelNotFound):
        reg.load("EURUSD", "1h")
    v1, v2, v3 = (reg.save(trained_small) for _ in range(3))
    assert reg.versions("EURUSD", "1h") == sorted([v1, v2, v3])
    assert reg.champion("EURUSD", "1h") is None
    reg.promote("EURUSD", "1h", v1)
    reg.promote("EURUSD", "1h", v2)
    reg.promote("EURUSD", "H1", v3)  # any timeframe spelling
    assert reg.champion("eur/usd", "1h") == v3
    assert reg.load("EURUSD", "1h").version == v3
    assert reg.rollback("EURUSD", "1h") == v2
    assert reg.rollback("EURUSD", "1h") == v1
    assert reg.champion("EURUSD", "1h") == v1
    with pytest.raises(ModelNotFound):
        reg.rollback("EURUSD", "1h")
    with pytest.raises(ModelNotFound):
        reg.promote("EURUSD", "1h", "20990101T000000Z-000000")
    rows = reg.list()
    assert len(rows) == 3 and [r["champion"] for r in rows].count(True) == 1


def test_interrupted_save_leaves_no_version(
    tmp_path: Path, trained_small: TrainedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import joblib

    reg = ModelRegistry(tmp_path)
    good = reg.save(trained_small)
    reg.promote("EURUSD", "1h", good)

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(joblib, "dump", crash)
    with pytest.raises(OSError, match="disk full"):
        reg.save(trained_small)
    folder = tmp_path / "EURUSD" / "1h" / "triple_barrier"
    assert reg.versions("EURUSD", "1h") == [good]
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp")]
    assert reg.champion("EURUSD", "1h") == good


def test_interrupted_promote_keeps_the_old_champion(
    tmp_path: Path, trained_small: TrainedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = ModelRegistry(tmp_path)
    v1, v2 = reg.save(trained_small), reg.save(trained_small)
    reg.promote("EURUSD", "1h", v1)

    def crash(src: object, dst: object) -> None:
        raise OSError("killed")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        reg.promote("EURUSD", "1h", v2)
    monkeypatch.undo()
    folder = tmp_path / "EURUSD" / "1h" / "triple_barrier"
    assert json.loads((folder / "champion.json").read_text())["version"] == v1
    assert not list(folder.glob(".champion.*.tmp"))


def test_retrain_promotes_only_on_a_better_out_of_sample_brier(
    tmp_path: Path, h1_recent: pd.DataFrame
) -> None:
    reg = ModelRegistry(tmp_path)
    bars = h1_recent.iloc[:4500]
    kwargs = {"evaluate": False, "model_params": FAST}
    first = retrain(
        bars,
        symbol="EURUSD",
        timeframe="1h",
        registry=reg,
        window_bars=800,
        min_window=300,
        **kwargs,
    )
    assert first.promoted and first.champion_version is None
    # a later retrain: the window is restricted to bars the champion never saw
    second = retrain(
        h1_recent.iloc[:6000],
        symbol="EURUSD",
        timeframe="1h",
        registry=reg,
        window_bars=800,
        min_window=300,
        **kwargs,
    )
    assert second.champion_version == first.challenger_version
    champion_last = pd.Timestamp(
        reg.load("EURUSD", "1h", version=first.challenger_version).data_last_utc
    )
    assert pd.Timestamp(second.window_first_utc) > champion_last
    assert min(second.n.values()) >= 300
    better = np.mean(list(second.brier_challenger.values())) < np.mean(
        list(second.brier_champion.values())
    )
    assert second.promoted == better
    expected = second.challenger_version if better else first.challenger_version
    assert reg.champion("EURUSD", "1h") == expected
    meta = reg.meta("EURUSD", "1h", second.challenger_version)
    assert meta["metrics"]["retrain_comparison"]["promoted"] == second.promoted


def test_retrain_without_unseen_data_promotes_nothing(
    tmp_path: Path, h1_recent: pd.DataFrame
) -> None:
    """A champion trained on every bar leaves no out-of-sample window: keep it."""
    from noxfx.ml.training import train_model

    reg = ModelRegistry(tmp_path)
    bars = h1_recent.iloc[:4000]
    champ = train_model(bars, symbol="EURUSD", timeframe="1h", evaluate=False, model_params=FAST)
    reg.promote("EURUSD", "1h", reg.save(champ))
    result = retrain(
        bars,
        symbol="EURUSD",
        timeframe="1h",
        registry=reg,
        window_bars=800,
        min_window=300,
        evaluate=False,
        model_params=FAST,
    )
    assert not result.promoted and "not promoted" in result.reason
    assert result.n == {"long": 0, "short": 0}
    assert reg.champion("EURUSD", "1h") == champ.version
