"""Ratings, indicators and predictions endpoints on the real bundled sample."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import assert_problem, bearer, login, make_admin, new_user


def test_rating_has_the_tradingview_ta_shape(market_app: Any) -> None:
    body = market_app.test_client().get("/api/v1/ratings/EURUSD?timeframe=1h").get_json()
    assert body["symbol"] == "EURUSD" and body["exchange"] == "FX_IDC"
    assert body["summary"]["RECOMMENDATION"] in {"STRONG_BUY", "BUY", "NEUTRAL", "SELL",
                                                 "STRONG_SELL"}  # fmt: skip
    assert len(body["moving_averages"]["COMPUTE"]) == 15


def test_indicators(market_app: Any) -> None:
    client = market_app.test_client()
    r = client.get("/api/v1/indicators/EURUSD?spec=rsi:14&spec=macd&limit=5")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["columns"] == ["rsi_14", "macd_12_26_9", "macd_12_26_9_signal",
                               "macd_12_26_9_hist"]  # fmt: skip
    assert len(body["rows"]) == 5 and 0 <= body["rows"][-1]["rsi_14"] <= 100
    bad = assert_problem(client.get("/api/v1/indicators/EURUSD?spec=rsj:14"), 422)
    assert "rsi" in bad["detail"]


def test_predictions_need_a_paid_role_and_a_model(market_app: Any) -> None:
    client = market_app.test_client()
    email, tokens = new_user(client)
    assert_problem(client.get("/api/v1/predictions/EURUSD", headers=bearer(tokens["access_token"])),
                   403)  # fmt: skip
    make_admin(market_app, email)
    tokens = login(client, email)  # a role change voids earlier tokens
    body = assert_problem(
        client.get("/api/v1/predictions/EURUSD", headers=bearer(tokens["access_token"])), 404
    )
    assert "noxfx ml train" in body["detail"]


def test_predictions_from_the_champion_cached_per_model_and_data_version(
    market_app: Any,
) -> None:
    """A model trained on the real sample, promoted in the app's registry: the endpoint serves
    its calibrated probabilities, caches them, and a newly promoted model changes the answer."""
    from noxfx.ml.training import train_model
    from noxfx.ml.validation import WalkForwardConfig

    rt = market_app.extensions["nox"]
    bars = rt.store.read("EURUSD", "1h").iloc[-4000:]
    versions = []
    for rounds in (20, 30):
        trained = train_model(bars.iloc[:-500], symbol="EURUSD", timeframe="1h",
                              validation=WalkForwardConfig(n_folds=2),
                              model_params={"rounds": rounds})  # fmt: skip
        versions.append(rt.models.save(trained))
    rt.models.promote("EURUSD", "1h", versions[0])
    client = market_app.test_client()
    email, _ = new_user(client)
    make_admin(market_app, email)
    tokens = login(client, email)  # a role change voids earlier tokens
    url, auth = "/api/v1/predictions/EURUSD?timeframe=1h", bearer(tokens["access_token"])
    first = client.get(url, headers=auth)
    assert first.status_code == 200, first.data[:300]
    body = first.get_json()
    assert body["model_version"] == versions[0] and body["symbol"] == "EURUSD"
    for side in ("long", "short"):
        assert 0 < body[side]["probability"] < 1 and body[side]["n_calibration"] > 0
    hits = rt.cache.hits
    assert client.get(url, headers=auth).data == first.data and rt.cache.hits == hits + 1
    rt.models.promote("EURUSD", "1h", versions[1])
    assert client.get(url, headers=auth).get_json()["model_version"] == versions[1]
    # the plan reads the app's own registry (not a process-wide default), and a promotion
    # reaches it past the cache
    plan = client.post("/api/v1/trading-strategy", json={"symbol": "EURUSD"}).get_json()
    ml = [s for s in plan["strategy"]["rationale"] if s["text"].startswith("ML ")]
    assert ml and ml[0]["text"].startswith(f"ML {versions[1]}")
    assert not any("no trained model" in m for m in plan["strategy"]["missing_inputs"])
    rt.models.promote("EURUSD", "1h", versions[0])
    again = client.post("/api/v1/trading-strategy", json={"symbol": "EURUSD"}).get_json()
    assert any(s["text"].startswith(f"ML {versions[0]}") for s in again["strategy"]["rationale"])


def test_patterns_are_the_pattern_part_of_the_analysis_report(market_app: Any) -> None:
    client = market_app.test_client()
    r = client.get("/api/v1/patterns/EURUSD?timeframe=4h")
    assert r.status_code == 200, r.data[:300]
    body = r.get_json()
    assert body["symbol"] == "EURUSD" and body["timeframe"] == "4h"
    assert isinstance(body["candles"], list) and isinstance(body["chart_patterns"], list)
    assert body["levels"] and all("price" in level for level in body["levels"])
    _, tokens = new_user(client)
    report = client.get("/api/v1/analysis/EURUSD?timeframe=4h",
                        headers=bearer(tokens["access_token"])).get_json()  # fmt: skip
    for key in ("candles", "chart_patterns", "levels", "last_price", "as_of"):
        assert body[key] == report[key]
    # the history of each active chart pattern type: its past breakouts here, traded
    # (USDJPY 4h ends with active patterns in the sample)
    from noxfx.analysis.chart_patterns import detect_chart_patterns
    from noxfx.analysis.pattern_stats import DEFAULT_HORIZON, pattern_trades, summary
    from noxfx.instruments import get_instrument

    assert set(body["history"]) == {pattern["type"] for pattern in body["chart_patterns"]}
    jpy = client.get("/api/v1/patterns/USDJPY?timeframe=4h").get_json()
    types = {pattern["type"] for pattern in jpy["chart_patterns"]}
    assert types and set(jpy["history"]) == types
    assert "measured-move target" in jpy["history_method"]
    bars = market_app.extensions["nox"].store.read("USDJPY", "4h")
    spread = get_instrument("USDJPY").from_pips(get_instrument("USDJPY").typical_spread_pips)
    rows = pattern_trades(bars, detect_chart_patterns(bars), spread, DEFAULT_HORIZON)
    for name in types:
        expected = summary([r for r in rows if r["type"] == name])
        assert jpy["history"][name]["trades"] == expected["trades"] > 0
        assert abs(jpy["history"][name]["mean_r"] - expected["mean_r"]) < 1e-4
    assert_problem(client.get("/api/v1/patterns/EURUSX"), 404)
    assert client.get("/api/v1/ratings/EURUSD?timeframe=4h").data == client.get(
        "/api/v1/ratings/EURUSD?timeframe=4h").data  # fmt: skip
