"""Rate limits on the real Redis (and in memory): headers, 429 problems, per-user keys."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import assert_problem, bearer, login, register


@pytest.fixture(params=["redis", "memory"])
def limited_app(request: pytest.FixtureRequest, make_app: Any) -> Any:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    return make_app(redis_url=redis_url, rate_limit_auth="5/minute", rate_limit_market="3/minute")


def test_auth_limit_five_per_minute(limited_app: Any) -> None:
    client = limited_app.test_client()
    bad = {"email": "someone@example.com", "password": "wrong password 1"}
    remaining = []
    for _ in range(5):
        r = client.post("/api/v1/auth/login", json=bad)
        assert r.status_code == 401
        assert r.headers["X-RateLimit-Limit"] == "5"
        remaining.append(int(r.headers["X-RateLimit-Remaining"]))
        assert "Retry-After" not in r.headers
    assert remaining == [4, 3, 2, 1, 0]
    r = client.post("/api/v1/auth/login", json=bad)
    body = assert_problem(r, 429)
    assert body["type"].endswith("rate-limited") and "5 per 1 minute" in body["detail"]
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert r.headers["X-RateLimit-Remaining"] == "0" and int(r.headers["X-RateLimit-Reset"]) > 0


def test_market_limit_is_per_user_and_per_ip_when_anonymous(limited_app: Any) -> None:
    client = limited_app.test_client()
    limited_app.config["NOX_RATE_LIMITS"]["auth"] = "100/minute"
    tokens = {}
    for name in ("ann", "bob"):
        register(client, f"{name}@example.com")
        tokens[name] = login(client, f"{name}@example.com")["access_token"]
    url = "/api/v1/instruments"
    for _ in range(3):
        assert client.get(url, headers=bearer(tokens["ann"])).status_code == 200
    assert_problem(client.get(url, headers=bearer(tokens["ann"])), 429)
    # Bob, same IP, has his own budget; anonymous callers share the IP's budget
    assert client.get(url, headers=bearer(tokens["bob"])).headers["X-RateLimit-Remaining"] == "2"
    for _ in range(3):
        assert client.get(url).status_code == 200
    assert_problem(client.get(url), 429)
    other_ip = client.get(url, environ_overrides={"REMOTE_ADDR": "10.1.2.3"})
    assert other_ip.status_code == 200


def test_probes_are_not_limited(limited_app: Any) -> None:
    client = limited_app.test_client()
    for _ in range(10):
        assert client.get("/healthz").status_code == 200
        assert client.get("/openapi.json").status_code == 200
