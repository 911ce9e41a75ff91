"""Fixtures of the service tests: a fresh app and database for every test.

Real services only. PostgreSQL (127.0.0.1:5432, database ``test``) and Redis (127.0.0.1:6379)
must be running: a test that needs one FAILS with a message naming the missing service (never
skips). PostgreSQL tests get their own schema (``search_path``), dropped afterwards; Redis tests
use database 14 (or ``$NOX_TEST_REDIS_DB``, so parallel checkouts do not collide), flushed
before and after.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from noxfx.service.app import close_app, create_app
from noxfx.service.mail import read_outbox
from noxfx.service.settings import ServiceSettings

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('NOX_TEST_REDIS_DB', '14')}"
PASSWORD = "correct horse battery staple 42"
SECRET = "service-tests-secret-key-" + "0123456789abcdef" * 3


@pytest.fixture(scope="session")
def postgres_available() -> str:
    import psycopg

    try:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3
        ) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is down or unreachable at 127.0.0.1:5432 (database 'test'): "
            f"{exc}. Start it; these tests never skip."
        )
    return PG_BASE


@pytest.fixture(scope="session")
def redis_available() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        pytest.fail(
            f"Redis is down or unreachable at 127.0.0.1:6379: {exc}. Start it; these "
            "tests never skip."
        )
    return REDIS_URL


@pytest.fixture
def redis_url(redis_available: str) -> Iterator[str]:
    """Redis database 14, empty before and after the test."""
    import redis

    client = redis.Redis.from_url(redis_available)
    client.flushdb()
    yield redis_available
    client.flushdb()
    client.close()


def _pg_schema_url(base: str) -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    return schema, f"{base}?options=-csearch_path%3D{schema}"


@pytest.fixture
def db_backend() -> str:
    """Which database the test's app uses; security modules parametrise it."""
    return "sqlite"


@pytest.fixture
def database_url(request: pytest.FixtureRequest, db_backend: str, tmp_path: Path) -> Iterator[str]:
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'home' / 'nox.db'}"
        return
    import psycopg

    request.getfixturevalue("postgres_available")
    schema, url = _pg_schema_url(PG_BASE)
    dsn = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield url
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., ServiceSettings]:
    """Settings for a test app; keyword arguments override fields."""

    def build(**overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "home": tmp_path / "home",
            "database_url": database_url,
            "redis_url": None,
            "secret_key": SECRET,
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
            "argon2_parallelism": 1,
            "rate_limit_auth": "1000/minute",
            "job_backend": "thread",
            "log_level": "WARNING",
        }
        values.update(overrides)
        return ServiceSettings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def make_app(make_settings: Callable[..., ServiceSettings]) -> Iterator[Callable[..., Any]]:
    """Build apps (closed at the end of the test)."""
    apps = []

    def build(**overrides: Any) -> Any:
        app = create_app(make_settings(**overrides))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        close_app(app)


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    return make_app()


@pytest.fixture
def client(app: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def sample_bars(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample of real bars, loaded once into a bar store (copy it to write)."""
    from noxfx.data.sample import bootstrap
    from noxfx.data.store import BarStore

    root = tmp_path_factory.mktemp("sample") / "bars"
    bootstrap(BarStore(root))
    return root


@pytest.fixture
def market_app(make_app: Callable[..., Any], sample_bars: Path, tmp_path: Path) -> Any:
    """An app whose NOX_HOME holds the sample bars (read-only, linked)."""
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "bars").symlink_to(sample_bars, target_is_directory=True)
    return make_app(home=home)


# ---------------------------------------------------------------------------- helpers
def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(client: FlaskClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    r = client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert r.status_code == 201, r.get_json()
    return r.get_json()  # type: ignore[no-any-return]


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.get_json()
    return r.get_json()  # type: ignore[no-any-return]


def new_user(client: FlaskClient, email: str | None = None) -> tuple[str, dict[str, Any]]:
    """Register and log in; returns (email, tokens)."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    register(client, email)
    return email, login(client, email)


def mailed_token(app: Any, email: str, subject_word: str) -> str:
    """The token in the newest outbox mail to ``email`` whose subject contains the word."""
    settings: ServiceSettings = app.config["NOX_SETTINGS"]
    mails = [
        m
        for m in read_outbox(settings.outbox_dir, to=email)
        if subject_word.lower() in str(m["Subject"]).lower()
    ]
    assert mails, f"no '{subject_word}' mail to {email} in {settings.outbox_dir}"
    body = mails[-1].get_content()
    match = re.search(r"token=([A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


def make_admin(app: Any, email: str) -> None:
    from noxfx.service.services.admin import set_role

    with app.app_context():
        set_role(email, "admin")


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status``; returns the body."""
    assert response.status_code == status, (response.status_code, response.data[:500])
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"] and body["type"] and body["detail"], body
    return body  # type: ignore[no-any-return]


def wait_for_job(client: Any, job_id: str, headers: dict[str, str], timeout_s: float = 180) -> Any:
    """Poll ``GET /jobs/{id}`` until the job has succeeded or failed (or the time is up)."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)
