"""Backtests and optimisations as jobs, on the real bundled sample bars (thread runner)."""

from __future__ import annotations

from typing import Any

from noxfx.backtest.runs import backtest_document, make_config
from noxfx.backtest.strategy_spec import load_strategy
from tests.service.conftest import assert_problem, bearer, login, new_user, wait_for_job


def _analyst(app: Any, client: Any) -> dict[str, str]:
    from noxfx.service.services.admin import set_role

    email, _ = new_user(client)
    with app.app_context():
        set_role(email, "analyst")
    return bearer(login(client, email)["access_token"])  # a role change voids earlier tokens


RUN = {"strategy": "sma_cross", "symbol": "EURUSD", "timeframe": "1h",
       "start": "2019-01-01", "end": "2019-12-31", "commission_per_lot": 3.5}  # fmt: skip


def test_backtest_job_matches_the_library_run(market_app: Any) -> None:
    client = market_app.test_client()
    auth = _analyst(market_app, client)
    r = client.post("/api/v1/backtests", json={**RUN, "params": {"fast": 12, "slow": 48}},
                    headers=auth)  # fmt: skip
    assert r.status_code == 202, r.data[:400]
    queued = r.get_json()
    assert queued["kind"] == "backtest" and queued["status"] in ("queued", "running", "succeeded")
    job = wait_for_job(client, queued["id"], auth)
    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1.0
    result = job["result"]
    bars = market_app.extensions["nox"].store.read("EURUSD", "1h", "2019-01-01", "2019-12-31")
    config = make_config("EURUSD", commission_per_lot=3.5)
    strategy = load_strategy("sma_cross")
    expected, _ = backtest_document(strategy, bars, {"fast": 12, "slow": 48}, config, "1h")
    assert result["params"] == {"fast": 12, "slow": 48}
    assert result["metrics"]["trades"] == expected["metrics"]["trades"] > 0
    assert result["metrics"]["net_profit"] == expected["metrics"]["net_profit"]
    assert "3.5" in result["costs"]["commission"]


def test_optimization_job_reports_trials_dsr_and_pbo(market_app: Any) -> None:
    client = market_app.test_client()
    auth = _analyst(market_app, client)
    body = {**RUN, "ranges": {"fast": "5:20:5", "slow": "30:60:10"}, "min_trades": 5}
    r = client.post("/api/v1/optimizations", json=body, headers=auth)
    assert r.status_code == 202, r.data[:400]
    job = wait_for_job(client, r.get_json()["id"], auth)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert result["n_trials"] == 16 and result["method"] == "grid"
    assert set(result["best_params"]) == {"fast", "slow"}
    assert 0 <= result["deflated_sharpe"]["dsr"] <= 1
    assert result["pbo"] is None or 0 <= result["pbo"]["pbo"] <= 1
    assert job["progress"] == 1.0


def test_inline_strategy_through_the_generic_jobs_endpoint(market_app: Any) -> None:
    client = market_app.test_client()
    auth = _analyst(market_app, client)
    spec = {"name": "rsi_dip", "parameters": {"n": {"default": 14, "min": 2, "max": 50}},
            "entry_long": "rsi(close, n) < 30", "exit_long": "rsi(close, n) > 55",
            "direction": "long"}  # fmt: skip
    params = {"strategy_spec": spec, "symbol": "GBPUSD", "start": "2020-01-01"}
    r = client.post("/api/v1/jobs", json={"kind": "backtest", "params": params}, headers=auth)
    assert r.status_code == 202, r.data[:400]
    job = wait_for_job(client, r.get_json()["id"], auth)
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["strategy"] == "rsi_dip" and job["result"]["metrics"]["trades"] > 0


def test_bad_runs_are_refused_at_submission(market_app: Any) -> None:
    client = market_app.test_client()
    _, tokens = new_user(client)
    assert_problem(client.post("/api/v1/backtests", json=RUN,
                               headers=bearer(tokens["access_token"])), 403)  # fmt: skip
    auth = _analyst(market_app, client)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({**RUN, "strategy": "../../etc/passwd"}, "/api/v1/backtests", "strategy"),
        ({**RUN, "strategy_spec": {"entry_long": "close > 1"}}, "/api/v1/backtests", "strategy"),
        ({**RUN, "start": "2020-01-01", "end": "2019-01-01"}, "/api/v1/backtests", "start"),
        ({**RUN, "ranges": {"fast": "2:100:1", "slow": "5:400:5"}}, "/api/v1/optimizations", ""),
        ({**RUN, "params": {"fastt": 3}}, "/api/v1/backtests", ""),
    ]
    for body, url, field in cases:
        problem = assert_problem(client.post(url, json=body, headers=auth), 422)
        if field:
            assert field in {e["field"] for e in problem["errors"]}, problem
    grid = assert_problem(client.post("/api/v1/optimizations", json={
        **RUN, "ranges": {"fast": "2:100:1", "slow": "5:400:5"}}, headers=auth), 422)  # fmt: skip
    assert "5,000" in grid["detail"]
    unknown = assert_problem(client.post("/api/v1/backtests", json={**RUN, "params": {"fastt": 3}},
                                         headers=auth), 422)  # fmt: skip
    assert "fastt" in unknown["detail"]
    none = assert_problem(client.post("/api/v1/backtests", json={**RUN, "symbol": "EURCHF"},
                                      headers=auth), 404)  # fmt: skip
    assert "noxfx data" in none["detail"]


def test_a_cross_backtests_through_the_api_with_the_conversion_from_the_store(
    market_app: Any,
) -> None:
    """USDJPY on a EUR account: JPY -> USD -> EUR from the stored USDJPY and EURUSD bars, the
    same run as the library's with workflows.with_conversion (issue 13)."""
    from noxfx.workflows import with_conversion

    client = market_app.test_client()
    auth = _analyst(market_app, client)
    body = {**RUN, "symbol": "USDJPY", "timeframe": "4h", "account_currency": "EUR",
            "params": {"fast": 10, "slow": 40}, "swap_long": -2.0, "swap_short": -2.0}  # fmt: skip
    r = client.post("/api/v1/backtests", json=body, headers=auth)
    assert r.status_code == 202, r.data[:400]
    job = wait_for_job(client, r.get_json()["id"], auth)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert result["costs"]["conversion"].startswith("JPY->EUR from stored pairs")
    store = market_app.extensions["nox"].store
    bars = with_conversion(store, store.read("USDJPY", "4h", "2019-01-01", "2019-12-31"),
                           "USDJPY", "EUR", "4h")  # fmt: skip
    config = make_config("USDJPY", commission_per_lot=3.5, account_currency="EUR",
                         swap_long=-2.0, swap_short=-2.0)  # fmt: skip
    expected, _ = backtest_document(load_strategy("sma_cross"), bars, {"fast": 10, "slow": 40},
                                    config, "4h")  # fmt: skip
    assert result["metrics"]["trades"] == expected["metrics"]["trades"] > 0
    assert result["metrics"]["net_profit"] == expected["metrics"]["net_profit"]
    assert result["metrics"]["swap"] < 0
