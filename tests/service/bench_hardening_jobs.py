"""Figures of the job hardening (issue 14), printed; not a test (pytest does not collect it).

    PYTHONPATH=src NOX_TEST_REDIS_DB=12 .venv/bin/python -m tests.service.bench_hardening_jobs

1. Time and peak-memory growth of ``POST /optimizations`` with a declared range of 10,000,000
   values and with ``"fast": "0:inf:1"`` (in-process app, SQLite, the sample bars).
2. Fairness with a real Celery worker (one process, ``--pool solo``) on the real Redis
   (database ``$NOX_TEST_REDIS_DB``, flushed): user A submits 20 optimisations, user B one
   ping; how many of A's are accepted and how long B's ping waits.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PASSWORD = "correct horse battery staple 42"
SECRET = "bench-hardening-secret-key-0123456789abcdef"


def _app(home: Path, **overrides: Any) -> Any:
    from noxfx.data.sample import bootstrap
    from noxfx.data.store import BarStore
    from noxfx.service.app import create_app
    from noxfx.service.settings import ServiceSettings

    bootstrap(BarStore(home / "bars"))
    values: dict[str, Any] = {"home": home, "secret_key": SECRET, "argon2_memory_kib": 1024,
                              "argon2_time_cost": 1, "argon2_parallelism": 1,
                              "log_level": "ERROR", "rate_limit_auth": "1000/minute",
                              **overrides}  # fmt: skip
    return create_app(ServiceSettings(_env_file=None, **values))  # type: ignore[call-arg]


def _user(app: Any, email: str, role: str | None = None) -> dict[str, str]:
    from noxfx.service.services.admin import set_role

    client = app.test_client()
    client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    if role:
        with app.app_context():
            set_role(email, role)
    login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": "Bearer " + login.get_json()["access_token"]}


def grid_requests() -> None:
    from noxfx.service.app import close_app

    app = _app(Path(tempfile.mkdtemp()) / "home")
    try:
        client, auth = app.test_client(), _user(app, "m@example.com", "analyst")
        n = {"default": 14, "min": 2, "max": 10_000_000, "step": 1}
        spec = {"name": "huge", "direction": "long", "entry_long": "rsi(close, n) < 30",
                "exit_long": "rsi(close, n) > 55", "parameters": {"n": n}}  # fmt: skip
        run = {"symbol": "EURUSD", "start": "2019-01-01"}
        cases = [("declared max 10,000,000", {**run, "strategy_spec": spec}),
                 ('ranges "fast": "0:inf:1"', {**run, "strategy": "sma_cross",
                                               "ranges": {"fast": "0:inf:1"}})]  # fmt: skip
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for name, body in cases:
            t = time.perf_counter()
            r = client.post("/api/v1/optimizations", json=body, headers=auth)
            dt = time.perf_counter() - t
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss0
            print(f"{name}: {r.status_code} {r.mimetype} in {dt * 1000:.0f} ms, peak RSS "
                  f"+{grown:.0f} MiB: {r.get_json()['detail']}")  # fmt: skip
    finally:
        close_app(app)


def fairness() -> None:
    import redis

    from noxfx.service.app import close_app

    url = f"redis://127.0.0.1:6379/{os.environ.get('NOX_TEST_REDIS_DB', '14')}"
    redis.Redis.from_url(url).flushdb()
    home = Path(tempfile.mkdtemp()) / "home"
    db = f"sqlite:///{home / 'nox.db'}"
    app = _app(home, database_url=db, redis_url=url)
    env = {**os.environ, "NOX_HOME": str(home), "NOX_DATABASE_URL": db, "NOX_REDIS_URL": url,
           "NOX_SECRET_KEY": SECRET, "NOX_LOG_LEVEL": "ERROR"}  # fmt: skip
    code = "from noxfx.service import worker; worker(concurrency=1, pool='solo', loglevel='ERROR')"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        client = app.test_client()
        a, b = _user(app, "a@example.com", "analyst"), _user(app, "b@example.com")
        opt = {"strategy": "sma_cross", "symbol": "EURUSD", "start": "2016-01-01",
               "min_trades": 1, "ranges": {"fast": "5:40:5", "slow": "50:200:10"}}  # fmt: skip
        codes = [client.post("/api/v1/optimizations", json=opt, headers=a).status_code
                 for _ in range(20)]  # fmt: skip
        print("user A's 20 optimisations:", {k: codes.count(k) for k in sorted(set(codes))})
        time.sleep(1.0)  # A's first one is running
        t = time.perf_counter()
        job = client.post("/api/v1/jobs", json={"kind": "ping"}, headers=b).get_json()["id"]
        while client.get(f"/api/v1/jobs/{job}", headers=b).get_json()["status"] not in (
            "succeeded", "failed"):  # fmt: skip
            time.sleep(0.05)
        waited = time.perf_counter() - t
        statuses = [j["status"] for j in client.get("/api/v1/jobs", headers=a).get_json()]
        print(f"user B's ping waited {waited:.1f} s; A's jobs then: {statuses}")
    finally:
        proc.terminate()
        proc.wait(20)
        close_app(app)
        redis.Redis.from_url(url).flushdb()


if __name__ == "__main__":
    grid_requests()
    fairness()
