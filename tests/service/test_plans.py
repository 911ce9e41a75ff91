"""The specification's POST /trading-strategy and the per-user /plans, on the real sample bars."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import assert_problem, bearer, new_user


def test_trading_strategy_as_the_specification_calls_it(market_app: Any) -> None:
    client = market_app.test_client()
    spec_body = {"symbol": "EURUSD", "timeframe": "1h", "risk_tolerance": "medium"}
    r = client.post("/api/v1/trading-strategy", json=spec_body)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert 0 <= body["confidence_score"] <= 1
    plan = body["strategy"]
    assert plan["symbol"] == "EURUSD" and plan["direction"] in ("LONG", "SHORT", "NO_TRADE")
    assert body["confidence_score"] == plan["confidence_score"]
    assert plan["entry"]["price"] > 0 and plan["stop"]["pips"] > 0 and len(plan["targets"]) == 3
    assert plan["probability"]["cases"] >= 30
    assert plan["history"]["trades"] > 0
    # served from cached bytes: exactly what the documented schema would have produced
    from noxfx.service.schemas.plans import TradingStrategyOut

    assert TradingStrategyOut().dump(body) == body
    assert client.post("/api/v1/trading-strategy", json=spec_body).data == r.data
    assert plan["swap_r"] is None and any("swap" in m for m in plan["missing_inputs"])
    swapped = client.post(
        "/api/v1/trading-strategy", json={**spec_body, "swap_long": -6.0, "swap_short": -6.0}
    ).get_json()
    assert swapped["strategy"]["swap_r"] < 0  # fmt: skip
    assert swapped["strategy"]["cost_r"] > plan["cost_r"]


def test_trading_strategy_bad_input(market_app: Any) -> None:
    client = market_app.test_client()
    body = assert_problem(client.post("/api/v1/trading-strategy", json={"symbol": "EURUSX"}), 404)
    assert "Did you mean EURUSD" in body["detail"]
    yolo = {"symbol": "EURUSD", "risk_tolerance": "yolo"}
    bad = assert_problem(client.post("/api/v1/trading-strategy", json=yolo), 422)
    assert bad["errors"][0]["field"] == "risk_tolerance"
    missing = assert_problem(client.post("/api/v1/trading-strategy", json={"symbol": "AUDCAD"}),
                             404)  # fmt: skip
    assert "AUDCAD" in missing["detail"]


def test_plans_are_private(market_app: Any) -> None:
    client = market_app.test_client()
    _, alice = new_user(client)
    _, bob = new_user(client)
    made = client.post("/api/v1/plans", json={"symbol": "GBPUSD"},
                       headers=bearer(alice["access_token"]))  # fmt: skip
    assert made.status_code == 201, made.get_json()
    plan_id = made.get_json()["id"]
    mine = client.get("/api/v1/plans", headers=bearer(alice["access_token"])).get_json()
    assert [p["id"] for p in mine] == [plan_id]
    one = client.get(f"/api/v1/plans/{plan_id}", headers=bearer(alice["access_token"]))
    assert one.status_code == 200 and one.get_json()["data"]["symbol"] == "GBPUSD"
    assert_problem(client.get(f"/api/v1/plans/{plan_id}", headers=bearer(bob["access_token"])),
                   404)  # fmt: skip
    assert client.get("/api/v1/plans", headers=bearer(bob["access_token"])).get_json() == []
    assert_problem(client.get("/api/v1/plans"), 401)


def test_trading_strategy_takes_the_plan_requests_cost_fields(market_app: Any) -> None:
    """Every PlanRequest cost field is in the API (one definition: issue 13/15)."""
    from dataclasses import fields

    from noxfx.plans.generator import PlanRequest
    from noxfx.service.schemas.plans import PlanIn

    assert {f.name for f in fields(PlanRequest)} <= set(PlanIn().fields)
    client = market_app.test_client()
    base = {"symbol": "EURUSD", "timeframe": "1h"}
    bare = client.post("/api/v1/trading-strategy", json=base).get_json()["strategy"]
    assert any("commission" in m for m in bare["missing_inputs"])
    body = {**base, "commission_per_lot": 3.5, "leverage": 50, "spread_pips": 1.2}
    r = client.post("/api/v1/trading-strategy", json=body)
    assert r.status_code == 200, r.get_json()
    plan = r.get_json()["strategy"]
    assert plan["quote"]["spread_pips"] == 1.2 and plan["position"]["leverage"] == 50
    assert plan["cost_r"] > 0 and not any("commission" in m for m in plan["missing_inputs"])
    assert plan["expected_value_r"] < bare["expected_value_r"]
