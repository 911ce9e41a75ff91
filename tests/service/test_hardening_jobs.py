"""Hardening of jobs (issue 14): denial of service, fairness and reliability.

Each test is an attack or failure from the review, on the real services (PostgreSQL, Redis,
a real Celery worker process where the runner matters); none mocks the database, Redis or the
broker. A Redis that is down is a local port nothing listens on.
"""

from __future__ import annotations

import resource
from typing import Any

from tests.service.conftest import assert_problem, bearer, new_user


def _analyst(app: Any, client: Any) -> dict[str, str]:
    from noxfx.service.services.admin import set_role

    email, tokens = new_user(client)
    with app.app_context():
        set_role(email, "analyst")
    return bearer(tokens["access_token"])


RUN = {"strategy": "sma_cross", "symbol": "EURUSD", "timeframe": "1h",
       "start": "2019-01-01", "end": "2019-12-31"}  # fmt: skip


def _huge_spec(max_value: float) -> dict[str, Any]:
    return {"name": "huge", "direction": "long",
            "parameters": {"n": {"default": 14, "min": 2, "max": max_value, "step": 1}},
            "entry_long": "rsi(close, n) < 30", "exit_long": "rsi(close, n) > 55"}  # fmt: skip


# ------------------------------------------------------------------ optimisation grid size
def test_huge_optimisation_grids_are_422_before_anything_is_built(market_app: Any) -> None:
    client = market_app.test_client()
    auth = _analyst(market_app, client)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    body = {**RUN, "strategy": None, "strategy_spec": _huge_spec(10_000_000)}
    for method in ("grid", "random", "optuna"):
        problem = assert_problem(
            client.post("/api/v1/optimizations", json={**body, "method": method}, headers=auth),
            422,
        )
        assert "values" in problem["detail"], problem
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    assert grown < 200, f"the request thread grew by {grown:.0f} MiB"  # was 1.1 GB
    for text in ("0:inf:1", "0:1e300:1e-300", "nan:10:1", "5:1:1", "1:10:0"):
        for url in ("/api/v1/optimizations", "/api/v1/jobs"):
            payload = {**RUN, "ranges": {"fast": text}}
            json = (
                payload
                if url.endswith("optimizations")
                else {"kind": "optimize", "params": payload}
            )
            assert_problem(client.post(url, json=json, headers=auth), 422)
    # random search: the grid may be large, each parameter's values may not
    wide = {**body, "strategy_spec": _huge_spec(900_000), "method": "random", "trials": 5}
    assert (
        "per parameter"
        in assert_problem(client.post("/api/v1/optimizations", json=wide, headers=auth), 422)[
            "detail"
        ]
    )
