"""``predict`` output: shape, probabilities in [0, 1], EV arithmetic; the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from noxfx.errors import InsufficientData, InvalidInput
from noxfx.ml.predict import Prediction, predict
from noxfx.ml.registry import ModelRegistry
from noxfx.ml.training import TrainedModel


@pytest.fixture
def registry(tmp_path: Path, trained_small: TrainedModel) -> ModelRegistry:
    reg = ModelRegistry(tmp_path)
    reg.promote("EURUSD", "1h", reg.save(trained_small))
    return reg


def test_prediction_shape_and_ranges(registry: ModelRegistry, h1_recent: pd.DataFrame) -> None:
    pred = predict("EURUSD", "1h", h1_recent, registry)
    assert isinstance(pred, Prediction)
    assert pred.as_of == h1_recent.index[-1] + pd.Timedelta(hours=1)
    assert pred.model_version == registry.champion("EURUSD", "1h")
    assert pred.horizon_bars == 24 and pred.spread_pips == 0.8
    for side in (pred.long, pred.short):
        assert 0.0 <= side.probability <= 1.0 and 0.0 <= side.probability_raw <= 1.0
        assert side.n_calibration > 200
        assert side.reward_risk == pytest.approx(1.0)
        assert side.cost_r == pytest.approx(0.8 / side.stop_pips)
        ev = side.probability * side.reward_risk - (1 - side.probability) - side.cost_r
        assert side.expected_value_r == pytest.approx(ev)
        assert side.break_even_probability == pytest.approx((1 + side.cost_r) / 2)
        assert 2 < side.stop_pips < 60  # ATR(14) of EURUSD 1h in pips
        assert len(side.top_features) == 5
        assert all(
            c.feature in registry.load("EURUSD", "1h").feature_names for c in side.top_features
        )
        assert side.oos["n"] > 1000 and "brier_skill" in side.oos
        assert side.oos_skill == (
            side.oos["brier_skill"] > 0 and side.oos["auc_p_value_effective"] < 0.05
        )
    as_json = json.loads(json.dumps(pred.as_dict(), default=str))
    assert set(as_json) >= {"symbol", "as_of", "model_version", "long", "short"}


def test_prediction_is_stable_to_older_history(
    registry: ModelRegistry, h1_recent: pd.DataFrame, eurusd_h1: pd.DataFrame
) -> None:
    """Only the last HISTORY_BARS bars are used: a longer history gives the same forecast."""
    a = predict("EURUSD", "1h", h1_recent, registry)
    b = predict("EURUSD", "1h", eurusd_h1, registry)
    assert a.long.probability == pytest.approx(b.long.probability, abs=1e-9)


def test_prediction_errors(registry: ModelRegistry, h1_recent: pd.DataFrame) -> None:
    with pytest.raises(InsufficientData):
        predict("EURUSD", "1h", h1_recent.iloc[-300:], registry)
    with pytest.raises(InvalidInput):
        predict("EURUSD", "1h", h1_recent, registry, spread_pips=-1)


def test_cli_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, h1_recent: pd.DataFrame
) -> None:
    from noxfx.cli.ml import app
    from noxfx.config import get_settings
    from noxfx.data.store import BarStore

    home = tmp_path / "home"
    monkeypatch.setenv("NOX_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        BarStore.default().write("EURUSD", "1h", h1_recent.iloc[-4000:])
        runner = CliRunner()
        out = runner.invoke(
            app, ["train", "-s", "EURUSD", "-t", "1h", "--model", "logreg", "--json"]
        )
        assert out.exit_code == 0, out.output
        v1 = json.loads(out.stdout)["version"]
        assert json.loads(out.stdout)["champion"] is True
        out = runner.invoke(app, ["train", "-s", "EURUSD", "--model", "logreg", "--json"])
        v2 = json.loads(out.stdout)["version"]
        assert json.loads(out.stdout)["champion"] is False
        out = runner.invoke(app, ["predict", "EURUSD", "--json"])
        assert out.exit_code == 0, out.output
        pred = json.loads(out.stdout)
        assert pred["model_version"] == v1 and 0 <= pred["long"]["probability"] <= 1
        assert runner.invoke(app, ["promote", "EURUSD", v2]).exit_code == 0
        rows = json.loads(runner.invoke(app, ["models", "--json"]).stdout)
        assert {r["version"]: r["champion"] for r in rows} == {v1: False, v2: True}
        assert runner.invoke(app, ["rollback", "EURUSD"]).exit_code == 0
        assert ModelRegistry.default().champion("EURUSD", "1h") == v1
        out = runner.invoke(app, ["drift", "EURUSD", "--recent-bars", "500", "--json"])
        assert out.exit_code == 0, out.output
        assert "features" in json.loads(out.stdout)
        table = runner.invoke(app, ["predict", "EURUSD"])
        assert table.exit_code == 0 and "P(target before stop)" in table.stdout
        report = tmp_path / "eval.json"
        out = runner.invoke(
            app,
            ["evaluate", "-s", "EURUSD", "--model", "logreg", "--folds", "2", "--out", str(report)],
        )
        assert out.exit_code == 0, out.output
        assert "Brier skill" in out.stdout
        assert json.loads(report.read_text())["sides"]["long"]["overall"]["n"] > 500
    finally:
        get_settings.cache_clear()
