"""Scans as jobs on the real bundled sample: plans per pair, ranked, with progress."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import assert_problem, bearer, new_user, wait_for_job


def test_scan_ranks_the_stored_pairs_and_reports_the_rest(market_app: Any) -> None:
    client = market_app.test_client()
    _, tokens = new_user(client)
    auth = bearer(tokens["access_token"])
    r = client.post("/api/v1/scans", json={"timeframe": "1h"}, headers=auth)
    assert r.status_code == 202, r.data[:300]
    assert r.headers["Location"] == f"/api/v1/jobs/{r.get_json()['id']}"
    job = wait_for_job(client, r.get_json()["id"], auth)
    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1.0
    result = job["result"]
    # the sample has EURUSD and GBPUSD at 1h; USDJPY only at 4h and 1d (derived 1h impossible)
    assert {row["symbol"] for row in result["plans"]} == {"EURUSD", "GBPUSD"}
    assert [e["symbol"] for e in result["errors"]] == ["USDJPY"]
    evs = [row["ev_r"] for row in result["plans"]]
    assert evs == sorted(evs, reverse=True)
    # each row is the pair's own plan (same as POST /trading-strategy)
    spec = {"symbol": "EURUSD", "timeframe": "1h"}
    plan = client.post("/api/v1/trading-strategy", json=spec).get_json()["strategy"]
    row = next(row for row in result["plans"] if row["symbol"] == "EURUSD")
    assert row["ev_r"] == plan["expected_value_r"] and row["direction"] == plan["direction"]


def test_scan_input_errors(market_app: Any) -> None:
    client = market_app.test_client()
    _, tokens = new_user(client)
    auth = bearer(tokens["access_token"])
    body = assert_problem(client.post("/api/v1/scans", json={"symbols": ["EURUSX"]},
                                      headers=auth), 404)  # fmt: skip
    assert "Did you mean EURUSD" in body["detail"]
    assert_problem(client.post("/api/v1/scans", json={"symbols": []}, headers=auth), 422)
    assert_problem(client.post("/api/v1/scans", json={"timeframe": "2h"}, headers=auth), 422)
    assert_problem(client.post("/api/v1/scans", json={}), 401)
