"""The analysis endpoint on real bars, and jobs on both runners (threads; Celery with a real
worker process on the real Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from noxfx.data.sample import bootstrap
from noxfx.data.store import BarStore
from tests.service.conftest import assert_problem, bearer, login, new_user, wait_for_job


@pytest.fixture(scope="module")
def bars_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("jobs-sample") / "bars"
    bootstrap(BarStore(root))
    return root


@pytest.fixture
def home(tmp_path: Path, bars_root: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "bars").symlink_to(bars_root, target_is_directory=True)
    return home


def test_analysis_report(make_app: Any, home: Path) -> None:
    app = make_app(home=home)
    client = app.test_client()
    assert_problem(client.get("/api/v1/analysis/EURUSD"), 401)
    _, tokens = new_user(client)
    h = bearer(tokens["access_token"])
    r = client.get("/api/v1/analysis/EURUSD?timeframe=1h", headers=h)
    assert r.status_code == 200, r.data[:500]
    report = r.get_json()
    assert report["symbol"] == "EURUSD" and report["timeframe"] == "1h"
    assert report["rating"]["summary"]["RECOMMENDATION"] and "rsi_14" in report["indicators"]
    assert {v["timeframe"] for v in report["higher_timeframes"]} <= {"4h", "1d"}
    cache = app.extensions["nox"].cache
    hits = cache.hits
    assert client.get("/api/v1/analysis/EURUSD", headers=h).data == r.data
    assert cache.hits == hits + 1
    assert (
        "Did you mean"
        in assert_problem(client.get("/api/v1/analysis/EURUSF", headers=h), 404)["detail"]
    )


def test_thread_runner_jobs(make_app: Any, home: Path) -> None:
    app = make_app(home=home)
    client = app.test_client()
    _, tokens = new_user(client)
    h = bearer(tokens["access_token"])
    kinds = {k["kind"] for k in client.get("/api/v1/jobs/kinds", headers=h).get_json()["kinds"]}
    assert {"ping", "analysis"} <= kinds
    r = client.post("/api/v1/jobs", json={"kind": "ping", "params": {"echo": 7}}, headers=h)
    assert r.status_code == 202 and r.get_json()["status"] == "queued"
    done = wait_for_job(client, r.get_json()["id"], h)
    assert done["status"] == "succeeded" and done["result"]["echo"] == 7
    assert done["result"]["pid"] == os.getpid()  # ran in this process (thread runner)
    r = client.post(
        "/api/v1/jobs", json={"kind": "analysis", "params": {"symbol": "gbp/usd"}}, headers=h
    )
    assert r.get_json()["params"] == {"symbol": "GBPUSD", "timeframe": "1h"}
    done = wait_for_job(client, r.get_json()["id"], h)
    assert done["status"] == "succeeded", done
    assert done["result"]["symbol"] == "GBPUSD"
    unknown = client.post("/api/v1/jobs", json={"kind": "mine-bitcoin"}, headers=h)
    assert assert_problem(unknown, 422)["errors"][0]["field"] == "kind"
    bad = client.post(
        "/api/v1/jobs", json={"kind": "analysis", "params": {"symbol": "XXXYYY"}}, headers=h
    )
    assert_problem(bad, 404)


def test_celery_runner_with_a_real_worker(
    make_app: Any, home: Path, redis_url: str, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{home / 'nox.db'}"
    app = make_app(home=home, redis_url=redis_url, job_backend="celery", database_url=db_url)
    env = {
        **os.environ,
        "NOX_HOME": str(home),
        "NOX_DATABASE_URL": db_url,
        "NOX_REDIS_URL": redis_url,
        "NOX_SECRET_KEY": "celery-test-secret-key-0123456789",
        "NOX_ARGON2_MEMORY_KIB": "1024",
        "NOX_LOG_LEVEL": "WARNING",
    }
    code = (
        "from noxfx.service import worker; worker(concurrency=1, pool='solo', loglevel='WARNING')"
    )
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=log, stderr=log, cwd=tmp_path
    )
    try:
        client = app.test_client()
        _, tokens = new_user(client)
        h = bearer(tokens["access_token"])
        r = client.post(
            "/api/v1/jobs", json={"kind": "ping", "params": {"echo": "celery"}}, headers=h
        )
        assert r.status_code == 202
        done = wait_for_job(client, r.get_json()["id"], h)
        assert done["status"] == "succeeded", (done, (tmp_path / "worker.log").read_text()[-3000:])
        assert done["result"]["echo"] == "celery" and done["result"]["pid"] == proc.pid
        # a backtest through the worker, with its progress stored by the worker process
        from noxfx.service.services.admin import set_role

        email, _ = new_user(client)
        with app.app_context():
            set_role(email, "analyst")
        h = bearer(login(client, email)["access_token"])  # a role change voids earlier tokens
        body = {"strategy": "ema_cross", "symbol": "GBPUSD", "start": "2020-01-01"}
        r = client.post("/api/v1/backtests", json=body, headers=h)
        assert r.status_code == 202, r.data[:300]
        done = wait_for_job(client, r.get_json()["id"], h)
        assert done["status"] == "succeeded", (done, (tmp_path / "worker.log").read_text()[-3000:])
        assert done["progress"] == 1.0 and done["result"]["metrics"]["trades"] > 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
