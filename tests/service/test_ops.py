"""Operations and edges: probes, metrics, request ids and JSON logs, problem+json for every
kind of error, production safety, settings, migrations on both databases, OpenAPI."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from sqlalchemy import inspect

from noxfx.service.settings import ConfigurationError, ServiceSettings
from tests.service.conftest import assert_problem


def test_probes(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ok" and ready["checks"]["database"] == "ok"
    assert ready["checks"]["redis"].startswith("not configured")


def test_readyz_names_the_missing_service(make_app: Any, redis_url: str) -> None:
    ok = make_app(redis_url=redis_url).test_client().get("/readyz").get_json()
    assert ok["checks"]["redis"] == "ok"
    down = make_app(redis_url="redis://127.0.0.1:1/0").test_client().get("/readyz")
    body = assert_problem(down, 503)
    assert "redis" in body["detail"] and "database" not in body["detail"]
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("unreachable")


def test_redis_outage_degrades_instead_of_failing(make_app: Any) -> None:
    client = make_app(redis_url="redis://127.0.0.1:1/0").test_client()
    assert client.get("/api/v1/instruments").status_code == 200  # limiter + cache fall back


def test_metrics(client: Any) -> None:
    client.get("/api/v1/instruments")
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'nox_http_requests_total{endpoint="/api/v1/instruments",method="GET",status="200"}' in text
    )
    assert "nox_http_request_duration_seconds_bucket" in text


def test_request_id_and_json_logs(app: Any, client: Any) -> None:
    from noxfx.service.observability import configure_logging

    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    r = client.get("/api/v1/instruments/EURUSD", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"
    evil = client.get("/healthz", headers={"X-Request-ID": "x" * 200 + "<script>"})
    assert len(evil.headers["X-Request-ID"]) == 32
    with app.test_request_context():
        logging.getLogger("noxfx.test").info("outside a request")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines and all("request_id" in line for line in lines)
    access = [ln for ln in lines if ln["logger"] == "noxfx.service.access"]
    assert access[0]["request_id"] == "abc-123" and access[0]["status"] == 200
    assert access[0]["path"] == "/api/v1/instruments/EURUSD" and "duration_ms" in access[0]
    configure_logging("WARNING")


def test_every_error_is_a_problem(app: Any) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    client = app.test_client()
    body = assert_problem(client.get("/boom"), 500)
    assert "secret internals" not in body["detail"] and body["request_id"]
    assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert "allowed" in assert_problem(client.delete("/api/v1/instruments"), 405)["detail"]
    malformed = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert malformed.status_code in (400, 422) and malformed.mimetype == "application/problem+json"
    big = client.post("/api/v1/auth/login", data="x" * (2 << 20), content_type="application/json")
    assert_problem(big, 413)
    assert_problem(client.get("/api/v1/jobs/not-a-uuid"), 404)


def test_production_refuses_default_or_missing_secret(tmp_path: Any) -> None:
    from noxfx.service.app import create_app

    for key in (None, "changeme", "too-short-but-random"):
        settings = ServiceSettings(
            _env_file=None,
            home=tmp_path,
            environment="production",  # type: ignore[call-arg]
            secret_key=key,
        )
        with pytest.raises(ConfigurationError, match="NOX_SECRET_KEY"):
            create_app(settings)


def test_development_key_is_generated_once_and_kept(tmp_path: Any) -> None:
    a = ServiceSettings(_env_file=None, home=tmp_path).resolved_secret_key()  # type: ignore[call-arg]
    b = ServiceSettings(_env_file=None, home=tmp_path).resolved_secret_key()  # type: ignore[call-arg]
    assert a == b and len(a) >= 32
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_database_url_aliases(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.delenv("NOX_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/nox")
    s = ServiceSettings(_env_file=None, home=tmp_path)  # type: ignore[call-arg]
    assert s.effective_database_url == "postgresql+psycopg://u:p@db:5432/nox"
    monkeypatch.setenv("NOX_DATABASE_URL", "sqlite:///x.db")
    assert ServiceSettings(_env_file=None).effective_database_url == "sqlite:///x.db"  # type: ignore[call-arg]
    monkeypatch.delenv("NOX_DATABASE_URL")
    monkeypatch.delenv("DATABASE_URL")
    assert ServiceSettings(_env_file=None, home=tmp_path).effective_database_url.endswith("nox.db")  # type: ignore[call-arg]


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"])
def test_migrations_round_trip_and_match_the_models(database_url: str, db_backend: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from noxfx.service.db import Base, make_engine
    from noxfx.service.migrate import current_revision, downgrade, head_revision, upgrade

    engine = make_engine(database_url)
    try:
        if db_backend == "sqlite":
            import pathlib

            pathlib.Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
        upgrade(engine)
        upgrade(engine)  # idempotent
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == []
        downgrade(engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert {"users", "refresh_tokens", "recovery_codes", "audit_log", "plans", "jobs"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_openapi_document(client: Any) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in (
        "/api/v1/market-data/{symbol}",
        "/api/v1/portfolio",
        "/api/v1/analysis/{symbol}",
        "/api/v1/auth/login",
        "/api/v1/jobs/{job_id}",
        "/api/v1/admin/audit",
    ):
        assert path in paths
    errors = paths["/api/v1/market-data/{symbol}"]["get"]["responses"]
    assert "application/problem+json" in errors["404"]["content"]
    assert "429" in errors and "default" in errors
    assert "BearerAuth" in spec["components"]["securitySchemes"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    page = docs.get_data(as_text=True)
    assert "cdn.jsdelivr" not in page  # renders offline: assets come from this server
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f"/docs/assets/{asset}" in page
        r = client.get(f"/docs/assets/{asset}")
        assert r.status_code == 200 and len(r.data) > 1000
    assert "/docs/assets/{filename}" not in paths


def test_portfolio(client: Any) -> None:
    from tests.service.conftest import bearer, new_user

    _, tokens = new_user(client)
    body = client.get("/api/v1/portfolio", headers=bearer(tokens["access_token"])).get_json()
    assert body["account_type"] == "paper" and body["positions"] == []
    assert body["balance"] == body["equity"] == 10_000.0 and body["currency"] == "USD"
    assert_problem(client.get("/api/v1/portfolio"), 401)
