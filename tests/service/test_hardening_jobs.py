"""Hardening of jobs (issue 14): denial of service, fairness and reliability.

Each test is an attack or failure from the review, on the real services (PostgreSQL, Redis,
a real Celery worker process where the runner matters); none mocks the database, Redis or the
broker. A Redis that is down is a local port nothing listens on.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from noxfx.errors import NoxError
from noxfx.service.jobs import Progress, job_kind
from tests.service.conftest import (
    PASSWORD,
    SECRET,
    assert_problem,
    bearer,
    login,
    new_user,
    wait_for_job,
)


def _analyst(app: Any, client: Any) -> dict[str, str]:
    from noxfx.service.services.admin import set_role

    email, _ = new_user(client)
    with app.app_context():
        set_role(email, "analyst")
    return bearer(login(client, email)["access_token"])  # a role change voids earlier tokens


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


# ------------------------------------------------------------------ helpers for the job tests
_GATES: dict[str, threading.Event] = {}


@job_kind("test_hold", permission="jobs:own", description="(tests) wait for params.gate.")
def _hold(params: dict[str, Any], _progress: Progress) -> dict[str, Any]:
    gate = _GATES.setdefault(str(params["gate"]), threading.Event())
    if not gate.wait(timeout=60):
        raise NoxError("gate never opened")
    return {"held": params["gate"]}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """These tests run on SQLite and on the real PostgreSQL."""
    return str(request.param)


def _open(gate: str) -> None:
    _GATES.setdefault(gate, threading.Event()).set()


def _rows(app: Any, *where: Any) -> list[Any]:
    from sqlalchemy import select

    from noxfx.service.db import db
    from noxfx.service.models import Job

    with app.app_context():
        rows = list(db.session.scalars(select(Job).where(*where).order_by(Job.created_at)))
        db.remove_session()
        return rows


def _wait(predicate: Any, what: str, timeout_s: float = 60) -> None:
    """Poll ``predicate()`` until true (fails with ``what`` after ``timeout_s``; not a
    timing assertion: the bound only keeps a broken build from hanging)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        time.sleep(0.05)


def _status(client: Any, job_id: str, headers: dict[str, str]) -> str:
    return str(client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()["status"])


def _hold_job(client: Any, headers: dict[str, str], gate: str) -> Any:
    return client.post("/api/v1/jobs", json={"kind": "test_hold", "params": {"gate": gate}},
                       headers=headers)  # fmt: skip


# ------------------------------------------------------------------ quota, limits, size
def test_kind_rate_limit_is_shared_by_every_route(market_app: Any, make_app: Any) -> None:
    """/backtests used up the trading limit; POST /jobs kind=backtest was a way around it."""
    app = make_app(home=market_app.config["NOX_SETTINGS"].home, rate_limit_trading="2/minute",
                   job_max_active_per_user=50)  # fmt: skip
    client = app.test_client()
    auth = _analyst(app, client)
    body = {**RUN, "start": "2019-12-01"}
    for _ in range(2):
        assert client.post("/api/v1/backtests", json=body, headers=auth).status_code == 202
    around = client.post("/api/v1/jobs", json={"kind": "backtest", "params": body}, headers=auth)
    problem = assert_problem(around, 429)
    assert int(around.headers["Retry-After"]) >= 1 and "backtest" in problem["detail"]
    # another kind, another counter; another user, another counter
    assert client.post("/api/v1/jobs", json={"kind": "ping"}, headers=auth).status_code == 202
    other = _analyst(app, client)
    assert client.post("/api/v1/jobs", json={"kind": "backtest", "params": body},
                       headers=other).status_code == 202  # fmt: skip
    assert len(_rows(app)) == 4


def test_active_jobs_quota_per_user(make_app: Any) -> None:
    app = make_app(job_max_active_per_user=2)
    client = app.test_client()
    _, tokens = new_user(client)
    h = bearer(tokens["access_token"])
    gate = uuid.uuid4().hex
    for _ in range(2):
        assert _hold_job(client, h, gate).status_code == 202
    over = _hold_job(client, h, gate)
    assert_problem(over, 429)
    assert int(over.headers["Retry-After"]) >= 1
    assert client.post("/api/v1/jobs", json={"kind": "ping"}, headers=h).status_code == 429
    _, other = new_user(client)  # another user is not affected
    oh = bearer(other["access_token"])
    assert client.post("/api/v1/jobs", json={"kind": "ping"}, headers=oh).status_code == 202
    assert len(_rows(app)) == 3  # the refused ones stored nothing
    _open(gate)
    for job in client.get("/api/v1/jobs", headers=h).get_json():
        assert wait_for_job(client, job["id"], h)["status"] == "succeeded"
    assert client.post("/api/v1/jobs", json={"kind": "ping"}, headers=h).status_code == 202


def test_quota_holds_under_concurrent_submissions(make_app: Any) -> None:
    """Eight submissions at once from one user: exactly the quota (4) is accepted."""
    from concurrent.futures import ThreadPoolExecutor

    app = make_app()
    client = app.test_client()
    _, tokens = new_user(client)
    h = bearer(tokens["access_token"])
    gate = uuid.uuid4().hex
    start = threading.Barrier(8)

    def submit(_: int) -> int:
        start.wait()
        return int(_hold_job(app.test_client(), h, gate).status_code)

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(submit, range(8)))
    _open(gate)
    assert codes == [202] * 4 + [429] * 4, codes
    assert len(_rows(app)) == 4


def test_oversized_job_params_are_413(market_app: Any) -> None:
    client = market_app.test_client()
    auth = _analyst(market_app, client)
    big = "x" * 70_000
    r = client.post("/api/v1/jobs", json={"kind": "ping", "params": {"echo": big}}, headers=auth)
    assert "65,536" in assert_problem(r, 413)["detail"]
    spec = {**_huge_spec(50), "description": big}
    r = client.post("/api/v1/backtests", json={**RUN, "strategy": None, "strategy_spec": spec},
                    headers=auth)  # fmt: skip
    assert_problem(r, 413)
    assert _rows(market_app) == []


# ------------------------------------------------------------------ fairness
def test_one_users_batch_does_not_starve_another(make_app: Any) -> None:
    """One runner thread; user A's first job holds it while A queues three more, then B
    queues one. B's job runs next (round robin by user), not after all of A's."""
    app = make_app(job_threads=1)
    client = app.test_client()
    _, ta = new_user(client)
    _, tb = new_user(client)
    ha, hb = bearer(ta["access_token"]), bearer(tb["access_token"])
    first, rest = uuid.uuid4().hex, uuid.uuid4().hex
    held = _hold_job(client, ha, first).get_json()["id"]
    _wait(lambda: _status(client, held, ha) == "running", "A's first job runs")
    a_jobs = [_hold_job(client, ha, rest).get_json()["id"] for _ in range(3)]
    b_job = _hold_job(client, hb, rest).get_json()["id"]
    _open(rest)
    _open(first)
    for job_id, h in [*((j, ha) for j in a_jobs), (b_job, hb)]:
        assert wait_for_job(client, job_id, h)["status"] == "succeeded"
    started = sorted(_rows(app), key=lambda j: j.started_at)
    order = [str(j.id) for j in started]
    assert order[0] == held and order[1] == b_job, order  # FIFO ran B's job last


# ------------------------------------------------------------------ broker down
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own on a free port (killed by the test to take it
    down)."""
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=1)

    def up() -> bool:
        try:
            return bool(client.ping())
        except Exception:
            return False

    _wait(up, "redis-server answers", 20)
    yield f"redis://127.0.0.1:{port}/0", proc
    proc.kill()
    proc.wait()


def test_broker_down_is_503_and_stores_nothing(
    make_app: Any, own_redis: tuple[str, subprocess.Popen[bytes]], caplog: Any
) -> None:
    url, server = own_redis
    app = make_app(redis_url=url, job_backend="celery")
    client = app.test_client()
    _, tokens = new_user(client)
    h = bearer(tokens["access_token"])
    assert client.post("/api/v1/jobs", json={"kind": "ping"}, headers=h).status_code == 202
    assert client.get("/readyz").get_json()["checks"]["rate_limits"].startswith("redis")
    server.kill()
    server.wait()
    r = client.post("/api/v1/jobs", json={"kind": "ping"}, headers=h)
    assert "nothing was submitted" in assert_problem(r, 503)["detail"]
    assert int(r.headers["Retry-After"]) >= 1
    r = client.post("/api/v1/scans", json={"symbols": ["EURUSD"]}, headers=h)
    assert_problem(r, 503)
    assert [j.kind for j in _rows(app)] == ["ping"]  # only the one accepted before
    # rate limits went on in memory, and /readyz and the log say so
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "per process in memory" in ready.get_json()["checks"]["rate_limits"]
    assert any("per-process memory" in rec.getMessage() for rec in caplog.records)
    assert "X-RateLimit-Limit" in client.get("/api/v1/jobs", headers=h).headers


# ------------------------------------------------------------------ leases
def _orphan(app: Any, user_email: str, attempts: int, *, lease: bool = True) -> str:
    """A job left 'running' by a worker that died (its lease ran out long ago)."""
    from sqlalchemy import select

    from noxfx.service.db import db, utcnow
    from noxfx.service.models import Job, User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == user_email))
        assert user is not None
        past = utcnow() - timedelta(hours=1)
        job = Job(user_id=user.id, kind="ping", params={"echo": attempts}, status="running",
                  started_at=past, attempts=attempts, worker="gone:1:dead",
                  heartbeat_at=past if lease else None,
                  lease_expires_at=past if lease else None)  # fmt: skip
        db.session.add(job)
        db.session.commit()
        job_id = str(job.id)
        db.remove_session()
        return job_id


def test_jobs_of_a_dead_worker_are_requeued_once_then_failed(make_app: Any) -> None:
    app = make_app(job_lease_seconds=1.0)
    client = app.test_client()
    email, tokens = new_user(client)
    h = bearer(tokens["access_token"])
    first = _orphan(app, email, attempts=1)  # died once: runs again
    legacy = _orphan(app, email, attempts=0, lease=False)  # a row from before leases
    last = _orphan(app, email, attempts=2)  # died on its second run: failed
    done = {j: wait_for_job(client, j, h, timeout_s=60) for j in (first, legacy, last)}
    assert done[first]["status"] == "succeeded" and done[first]["result"]["echo"] == 1
    assert done[legacy]["status"] == "succeeded"
    assert done[last]["status"] == "failed" and "worker stopped" in done[last]["error"]
    rows = {str(j.id): j for j in _rows(app)}
    assert rows[first].attempts == 2 and rows[legacy].attempts == 1


def test_a_live_job_keeps_its_lease(make_app: Any) -> None:
    """Held for several leases, a running job is renewed by its heartbeat: never re-queued,
    one run, its outcome stored."""
    app = make_app(job_lease_seconds=0.6)
    client = app.test_client()
    _, tokens = new_user(client)
    h = bearer(tokens["access_token"])
    gate = uuid.uuid4().hex
    job_id = _hold_job(client, h, gate).get_json()["id"]
    _wait(lambda: _status(client, job_id, h) == "running", "the job runs")
    beats: set[Any] = set()

    def renewed_three_times() -> bool:
        (row,) = _rows(app)
        beats.add(row.lease_expires_at)
        assert row.status == "running" and row.attempts == 1, (row.status, row.attempts)
        return len(beats) >= 4

    _wait(renewed_three_times, "three heartbeats")
    _open(gate)
    done = wait_for_job(client, job_id, h)
    assert done["status"] == "succeeded" and done["result"] == {"held": gate}
    assert _rows(app)[0].attempts == 1


def test_a_stale_worker_cannot_overwrite_the_new_run(make_app: Any) -> None:
    """A worker whose lease was taken (it stalled, the job was re-queued and run elsewhere)
    stores nothing when it wakes up."""
    from noxfx.service.db import db
    from noxfx.service.jobs import _run_claimed, claim_next_job

    app = make_app(job_threads=1, job_lease_seconds=1.0)
    client = app.test_client()
    email, tokens = new_user(client)
    job_id = _orphan(app, email, attempts=1)
    h = bearer(tokens["access_token"])
    assert wait_for_job(client, job_id, h)["status"] == "succeeded"  # the new run
    with app.app_context():
        assert claim_next_job(db.session, 60) is None  # nothing queued
        _run_claimed(app, uuid.UUID(job_id), "gone:1:dead")  # the old worker wakes up
    (row,) = _rows(app)
    assert row.status == "succeeded" and row.worker != "gone:1:dead"


# ------------------------------------------------------------------ kill -9 of the stack
class _Http:
    """A tiny JSON client for a real server (urllib: no test client, real sockets)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def __call__(self, method: str, path: str, body: Any = None,
                 token: str | None = None) -> tuple[int, Any]:  # fmt: skip
        import json
        import urllib.error
        import urllib.request

        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def up(self) -> bool:
        try:
            return self("GET", "/healthz")[0] == 200
        except OSError:
            return False


def _spawn(code: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115  (closed with the process)
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=out, stderr=out,
                            start_new_session=True, cwd=log.parent)  # fmt: skip


def _kill9(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the process and its children (gunicorn workers)
    proc.wait()


@pytest.mark.parametrize(("mode", "db_backend"), [("celery", "postgresql"),
                                                  ("embedded", "sqlite")])  # fmt: skip
def test_kill_9_of_server_and_worker_loses_nothing(
    mode: str, database_url: str, redis_url: str, sample_bars: Path, tmp_path: Path
) -> None:
    """A real API server (gunicorn) and a real Celery worker (``celery``; or the server alone,
    running jobs on one thread: ``embedded``); jobs queued and running, a bar import writing.
    kill -9 of all of them, restart: no job stays queued or running (the running one is
    recovered from its lease and runs again, the queued ones are dispatched again), every bar
    file reads whole, and the account and its jobs are all there."""
    import shutil

    from noxfx.data.store import BarStore
    from noxfx.service.server import set_role
    from noxfx.service.settings import ServiceSettings

    home = tmp_path / "home"
    shutil.copytree(sample_bars, home / "bars")
    store = BarStore(home / "bars")
    before = {(s, tf.name): len(store.read(s, tf.name)) for s in store.symbols()
              for tf in store.stored_timeframes(s)}  # fmt: skip
    csv = tmp_path / "EURUSD_1h.csv"  # the bars again, to import (an upsert of all of them)
    store.read("EURUSD", "1h").to_csv(csv)
    port = _free_port()
    env = {**os.environ, "NOX_HOME": str(home), "NOX_DATABASE_URL": database_url,
           "NOX_SECRET_KEY": SECRET, "NOX_ARGON2_MEMORY_KIB": "1024",
           "NOX_ARGON2_TIME_COST": "1", "NOX_ARGON2_PARALLELISM": "1",
           "NOX_RATE_LIMIT_AUTH": "1000/minute", "NOX_LOG_LEVEL": "WARNING",
           "NOX_JOB_LEASE_SECONDS": "2"}  # fmt: skip
    if mode == "celery":
        env["NOX_REDIS_URL"] = redis_url
    else:
        env["NOX_JOB_THREADS"] = "1"
    serve = f"from noxfx.service.server import serve; serve(port={port}, workers=1, threads=4)"
    work = "from noxfx.service import worker; worker(concurrency=1, pool='solo')"
    log = tmp_path / "stack.log"

    def stack() -> list[subprocess.Popen[bytes]]:
        started = [_spawn(serve, env, log)]
        if mode == "celery":
            started.append(_spawn(work, env, log))
        return started

    procs = stack()
    http = _Http(port)
    try:
        _wait(http.up, "the server answers", 60)
        email = f"kill9-{uuid.uuid4().hex[:8]}@example.com"
        assert (
            http("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD})[0] == 201
        )
        settings = ServiceSettings(_env_file=None, home=home, database_url=database_url,  # type: ignore[call-arg]
                                   secret_key=SECRET, log_level="WARNING")  # fmt: skip
        set_role(email, "analyst", settings)
        token = http("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})[1][
            "access_token"]  # fmt: skip
        assert http("PATCH", "/api/v1/users/me", {"display_name": "Kill Nine"}, token)[0] == 200
        importer = _spawn(
            "import sys; from noxfx.cli import main; sys.argv = ['noxfx', 'data', 'import', "
            f"{str(csv)!r}, '--symbol', 'EURUSD', '--timeframe', '1h']; main()",
            env,
            log,
        )
        procs.append(importer)
        opt = {**RUN, "start": "2017-01-01", "ranges": {"fast": "5:20:5", "slow": "30:60:10"},
               "min_trades": 1}  # fmt: skip
        status, running = http("POST", "/api/v1/optimizations", opt, token)
        assert status == 202, running
        ids = [running["id"]]
        for body in ({"kind": "ping", "params": {"echo": 1}}, {"kind": "backtest", "params": RUN},
                     {"kind": "ping", "params": {"echo": 2}}):  # fmt: skip
            status, job = http("POST", "/api/v1/jobs", body, token)
            assert status == 202, job
            ids.append(job["id"])
        _wait(lambda: http("GET", f"/api/v1/jobs/{ids[0]}", token=token)[1]["status"]
              == "running", "the optimisation runs", 60)  # fmt: skip
        importer_alive = importer.poll() is None
        for proc in procs:
            _kill9(proc)
        print(f"bar import killed while running: {importer_alive}")
        # the running job is orphaned: nothing runs it any more
        status_now = {j.status for j in _job_rows(database_url)}
        assert "running" in status_now or "queued" in status_now, status_now

        procs = stack()
        _wait(http.up, "the server answers again", 60)

        def all_done() -> bool:
            return all(j.status in ("succeeded", "failed") for j in _job_rows(database_url))

        _wait(all_done, "every job finished after the restart", 90)
        rows = {str(j.id): j for j in _job_rows(database_url)}
        assert set(rows) == set(ids)
        assert all(j.status == "succeeded" for j in rows.values()), {
            k: (j.status, j.error) for k, j in rows.items()}  # fmt: skip
        assert rows[ids[0]].attempts == 2  # recovered from its lease, run once more
        # the account, its profile and its jobs survived
        token = http("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})[1][
            "access_token"]  # fmt: skip
        assert http("GET", "/api/v1/users/me", token=token)[1]["display_name"] == "Kill Nine"
        assert {j["id"] for j in http("GET", "/api/v1/jobs", token=token)[1]} == set(ids)
        # every bar file reads whole, none lost a bar
        after = BarStore(home / "bars")
        for (symbol, tf), n in before.items():
            assert len(after.read(symbol, tf)) >= n, (symbol, tf)
    except BaseException:
        print(log.read_text()[-5000:])
        raise
    finally:
        for proc in procs:
            _kill9(proc)


def _job_rows(database_url: str) -> list[Any]:
    """The jobs table, read directly (not through the server under test)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from noxfx.service.db import make_engine
    from noxfx.service.models import Job

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(Job)))
    finally:
        engine.dispose()
