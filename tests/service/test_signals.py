"""Ratings, indicators and predictions endpoints on the real bundled sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from noxfx.data.sample import bootstrap
from noxfx.data.store import BarStore
from tests.service.conftest import assert_problem, bearer, make_admin, new_user


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("signals-sample") / "bars"
    bootstrap(BarStore(root))
    return root


@pytest.fixture
def signals_app(make_app: Any, sample_root: Path, tmp_path: Path) -> Any:
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "bars").symlink_to(sample_root, target_is_directory=True)
    return make_app(home=home)


def test_rating_has_the_tradingview_ta_shape(signals_app: Any) -> None:
    body = signals_app.test_client().get("/api/v1/ratings/EURUSD?timeframe=1h").get_json()
    assert body["symbol"] == "EURUSD" and body["exchange"] == "FX_IDC"
    assert body["summary"]["RECOMMENDATION"] in {"STRONG_BUY", "BUY", "NEUTRAL", "SELL",
                                                 "STRONG_SELL"}  # fmt: skip
    assert len(body["moving_averages"]["COMPUTE"]) == 15


def test_indicators(signals_app: Any) -> None:
    client = signals_app.test_client()
    r = client.get("/api/v1/indicators/EURUSD?spec=rsi:14&spec=macd&limit=5")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["columns"] == ["rsi_14", "macd_12_26_9", "macd_12_26_9_signal",
                               "macd_12_26_9_hist"]  # fmt: skip
    assert len(body["rows"]) == 5 and 0 <= body["rows"][-1]["rsi_14"] <= 100
    bad = assert_problem(client.get("/api/v1/indicators/EURUSD?spec=rsj:14"), 422)
    assert "rsi" in bad["detail"]


def test_predictions_need_a_paid_role_and_a_model(signals_app: Any) -> None:
    client = signals_app.test_client()
    email, tokens = new_user(client)
    assert_problem(client.get("/api/v1/predictions/EURUSD", headers=bearer(tokens["access_token"])),
                   403)  # fmt: skip
    make_admin(signals_app, email)
    body = assert_problem(
        client.get("/api/v1/predictions/EURUSD", headers=bearer(tokens["access_token"])), 404
    )
    assert "noxfx ml train" in body["detail"]
