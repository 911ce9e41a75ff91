"""Background jobs: one API, two runners, and the database as the one source of truth.

* :class:`ThreadRunner` (embedded mode): a thread pool inside the API process.
* :class:`CeleryRunner` (server mode): a Celery task on the Redis broker, executed by
  ``noxfx worker`` (:func:`noxfx.service.server.worker`).

A job is a row in ``jobs`` (kind, params, status, result, error, lease). Submitting commits the
row and sends the runner a *dispatch*: a message saying "a job is waiting". Whoever receives a
dispatch claims a job from the database with :func:`claim_next_job` -- fairly, not in arrival
order: among queued jobs, those of the user with the fewest running jobs first, then of the
user served least recently, then the oldest. So one user's batch cannot starve the others, and
the claim is a conditional ``UPDATE`` (two workers never run the same job). A dispatch that
finds nothing to claim does nothing.

Leases: a running job has a ``worker`` and a ``lease_expires_at``, renewed by a heartbeat
thread every third of ``job_lease_seconds`` while the job runs. A job whose lease ran out lost
its worker (killed, machine gone): :func:`recover_jobs` re-queues it while it has had fewer than
``job_max_attempts`` runs and fails it with the reason otherwise; it also re-dispatches queued
jobs whose dispatch is older than a lease (the message was lost with a process or a broker).
The thread runner runs a :class:`Janitor` doing that every half lease, and so does the Celery
worker (:mod:`noxfx.service.tasks`); a janitor never takes the jobs its own process is running
(alive by definition, even when a long computation holding the GIL delays their heartbeat).
A worker whose lease was taken from it stores nothing.

Kinds are registered with :func:`job_kind` next to the service they call; the modules that
define them are the one explicit list :data:`KIND_MODULES`, imported by :func:`job_kinds`
(every process that runs or submits jobs knows the same kinds, whatever it imported). Each
kind names the permission a user needs and its rate-limit category (:data:`KIND_RATE_LIMITS`),
applied per user and kind whichever route submits it. Results are JSON; a job raising a NOX
error fails with that message, any other exception fails with a generic message and a logged
traceback. A job function receives its params and a ``progress(fraction)`` callable; progress
is stored on the row (at most twice a second) and shown by ``GET /jobs/{id}``.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from flask import Flask

from noxfx.errors import NoxError
from noxfx.service.celery_app import CELERY_QUEUE, CELERY_TASK

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from noxfx.service.settings import ServiceSettings

log = logging.getLogger(__name__)
Progress = Callable[[float], None]
JobFunction = Callable[[dict[str, Any], Progress], dict[str, Any]]

#: The modules that define the service's job kinds (with :func:`job_kind`).
KIND_MODULES = (
    "noxfx.service.services.jobs",  # ping, analysis
    "noxfx.service.services.backtests",  # backtest, optimize
    "noxfx.service.services.scans",  # scan
)
#: Rate-limit category of each kind (``ServiceSettings.rate_limit_<category>``), counted per
#: user and kind whichever route submits it; a kind not listed here is ``trading``.
KIND_RATE_LIMITS: dict[str, str] = {
    "ping": "default",
    "analysis": "market",
    "backtest": "trading",
    "optimize": "trading",
    "scan": "trading",
}


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    permission: str
    description: str
    run: JobFunction
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def rate_limit(self) -> str:
        """The rate-limit category (see :data:`KIND_RATE_LIMITS`)."""
        return KIND_RATE_LIMITS.get(self.name, "trading")


_KINDS: dict[str, JobKind] = {}
_kinds_loaded = False


def job_kind(
    name: str,
    *,
    permission: str,
    description: str,
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[JobFunction], JobFunction]:
    """Register ``fn(params, progress) -> result`` as the job kind ``name``;
    ``validate(params)`` runs at submission (raise a NOX error to refuse) and returns the params
    to store."""

    def register(fn: JobFunction) -> JobFunction:
        _KINDS[name] = JobKind(name, permission, description, fn, validate)
        return fn

    return register


def job_kinds() -> dict[str, JobKind]:
    """Every registered kind (the modules of :data:`KIND_MODULES` imported first)."""
    global _kinds_loaded
    if not _kinds_loaded:
        for module in KIND_MODULES:
            importlib.import_module(module)
        _kinds_loaded = True
    return dict(_KINDS)


class JobRunner(Protocol):
    name: str

    def submit(self, job_id: uuid.UUID) -> None: ...
    def close(self) -> None: ...


def _settings(app: Flask | None = None) -> ServiceSettings:
    from flask import current_app

    settings: ServiceSettings = (app or current_app).config["NOX_SETTINGS"]
    return settings


class ThreadRunner:
    """Runs jobs on a small thread pool inside this process; its janitor recovers the jobs of
    processes that died (this one's previous life included)."""

    name = "thread"

    def __init__(self, app: Flask, threads: int) -> None:
        self._app = app
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="nox-job")
        self._closed = False
        self._janitor = Janitor(app, self)

    def submit(self, job_id: uuid.UUID) -> None:
        """A dispatch: one pool thread claims (fairly) and runs one queued job."""
        if not self._closed:
            self._pool.submit(self._run)

    def _run(self) -> None:
        with self._app.app_context():
            run_next_job()

    def close(self) -> None:
        self._closed = True
        self._janitor.close()
        self._pool.shutdown(wait=True, cancel_futures=True)


#: Publishing a dispatch: one retry after 0.2 s, then the error (a 503 for the submitter).
_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2,
                  "interval_max": 0.2}  # fmt: skip


class CeleryRunner:
    """Sends dispatches to ``noxfx worker`` through the Redis broker. A broker that does not
    answer raises (within about two seconds) rather than hanging the request."""

    name = "celery"

    def __init__(self, redis_url: str) -> None:
        from noxfx.service.celery_app import celery_app, configure_celery

        configure_celery(redis_url)
        self._celery = celery_app

    def submit(self, job_id: uuid.UUID) -> None:
        # one quick retry (a pooled connection to a broker that restarted), then give up
        self._celery.send_task(CELERY_TASK, args=[str(job_id)], queue=CELERY_QUEUE,
                               retry=True, retry_policy=_PUBLISH_RETRY)  # fmt: skip

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------- claiming
def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_next_job(session: Session, lease_seconds: float) -> tuple[uuid.UUID, str] | None:
    """Claim the fairest queued job: (job id, worker id), or None when nothing is queued.

    Order: users with the fewest running jobs first; among them the user whose last job
    started longest ago (never first); then the oldest job. The claim is a conditional
    ``UPDATE ... WHERE status = 'queued'``: a job another worker claimed first is skipped.
    """
    from sqlalchemy import case, func, select, update

    from noxfx.service.db import utcnow
    from noxfx.service.models import Job, JobStatus

    queued_users = select(Job.user_id).where(Job.status == JobStatus.QUEUED.value).distinct()
    stats = (
        select(
            Job.user_id.label("user_id"),
            func.sum(case((Job.status == JobStatus.RUNNING.value, 1), else_=0)).label("running"),
            func.max(Job.started_at).label("last_start"),
        )
        .where(Job.user_id.in_(queued_users))
        .group_by(Job.user_id)
        .subquery()
    )
    candidates = (
        select(Job.id)
        .join(stats, stats.c.user_id == Job.user_id)
        .where(Job.status == JobStatus.QUEUED.value)
        .order_by(
            stats.c.running, stats.c.last_start.is_not(None), stats.c.last_start, Job.created_at
        )
        .limit(8)
    )
    for job_id in list(session.scalars(candidates)):
        now = utcnow()
        worker = _worker_id()
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value, started_at=now, progress=0.0,
                    attempts=Job.attempts + 1, worker=worker, heartbeat_at=now,
                    lease_expires_at=now + timedelta(seconds=lease_seconds), error=None)
        )  # fmt: skip
        session.commit()
        if getattr(claimed, "rowcount", 0) == 1:
            return job_id, worker
    return None


def recover_jobs(
    session: Session,
    lease_seconds: float,
    max_attempts: int,
    *,
    now: datetime | None = None,
    alive: Collection[str] = (),
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Re-queue or fail running jobs whose lease ran out, and pick the queued jobs to dispatch
    again. Returns (jobs to dispatch: re-queued ones and queued ones whose last dispatch is
    older than a lease; jobs failed). ``alive``: worker ids known to be running (this
    process's own: a heartbeat starved by a long computation holding the GIL must not cost a
    live job its run). Safe to run in several processes at once."""
    from sqlalchemy import and_, or_, select, update

    from noxfx.service.db import utcnow
    from noxfx.service.models import Job, JobStatus

    now = now or utcnow()
    lease = timedelta(seconds=lease_seconds)
    running = JobStatus.RUNNING.value
    lapsed = or_(
        Job.lease_expires_at < now,
        and_(Job.lease_expires_at.is_(None),
             or_(Job.started_at.is_(None), Job.started_at < now - lease)),
    )  # fmt: skip
    if alive:
        lapsed = and_(lapsed, or_(Job.worker.is_(None), Job.worker.not_in(list(alive))))
    dispatch: list[uuid.UUID] = []
    failed: list[uuid.UUID] = []
    for job_id, attempts, worker in session.execute(
        select(Job.id, Job.attempts, Job.worker).where(Job.status == running, lapsed)
    ).all():
        if attempts < max_attempts:
            values: dict[str, Any] = {
                "status": JobStatus.QUEUED.value, "worker": None, "lease_expires_at": None,
                "progress": None, "dispatched_at": now,
                "error": f"Its worker ({worker or 'unknown'}) stopped; re-queued.",
            }  # fmt: skip
        else:
            values = {
                "status": JobStatus.FAILED.value, "finished_at": now, "lease_expires_at": None,
                "error": f"The job's worker stopped (no heartbeat for {lease_seconds:g} s) on "
                f"each of its {attempts} runs; it was not retried again.",
            }  # fmt: skip
        done = session.execute(
            update(Job).where(Job.id == job_id, Job.status == running, lapsed).values(**values)
        )
        if getattr(done, "rowcount", 0) == 1:
            (dispatch if attempts < max_attempts else failed).append(job_id)
            log.warning("job %s lost its worker %s: %s", job_id, worker, values["status"])
    stale = session.execute(
        update(Job)
        .where(Job.status == JobStatus.QUEUED.value,
               or_(Job.dispatched_at.is_(None), Job.dispatched_at < now - lease))
        .values(dispatched_at=now)
        .returning(Job.id)
    ).scalars().all()  # fmt: skip
    session.commit()
    return [*dispatch, *stale], failed


class Janitor:
    """A daemon thread running :func:`recover_jobs` now and every half lease, dispatching what
    it returns through ``runner``."""

    def __init__(self, app: Flask, runner: JobRunner) -> None:
        self._app, self._runner = app, runner
        self._stop = threading.Event()
        self._interval = _settings(app).job_lease_seconds / 2
        self._thread = threading.Thread(target=self._loop, name="nox-job-janitor", daemon=True)
        self._thread.start()

    def run_once(self) -> None:
        from noxfx.service.db import db

        settings = _settings(self._app)
        with self._app.app_context():
            try:
                dispatch, _ = recover_jobs(db.session, settings.job_lease_seconds,
                                           settings.job_max_attempts,
                                           alive=_Heartbeat.alive())  # fmt: skip
            finally:
                db.remove_session()
        for job_id in dispatch:
            self._runner.submit(job_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database or broker is down: try again next time
                log.warning("job janitor: recovery failed; retrying", exc_info=True)
            self._stop.wait(self._interval)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


# ---------------------------------------------------------------------------- running
class _Heartbeat:
    """Renews the lease of one running job every third of the lease, on its own connection;
    :meth:`alive` lists the worker ids of this process's running jobs."""

    _alive: ClassVar[set[str]] = set()
    _alive_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def alive(cls) -> frozenset[str]:
        with cls._alive_lock:
            return frozenset(cls._alive)

    def __init__(self, app: Flask, job_id: uuid.UUID, worker: str) -> None:
        from noxfx.service.db import db

        with self._alive_lock:
            self._alive.add(worker)

        self._engine = db.engine(app)
        self._job_id, self._worker = job_id, worker
        self._lease = _settings(app).job_lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nox-job-heartbeat", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        from sqlalchemy import update

        from noxfx.service.db import utcnow
        from noxfx.service.models import Job, JobStatus

        while not self._stop.wait(self._lease / 3):
            now = utcnow()
            try:
                with self._engine.begin() as conn:
                    conn.execute(
                        update(Job)
                        .where(Job.id == self._job_id, Job.worker == self._worker,
                               Job.status == JobStatus.RUNNING.value)
                        .values(heartbeat_at=now,
                                lease_expires_at=now + timedelta(seconds=self._lease))
                    )  # fmt: skip
            except Exception:
                log.warning("job %s: heartbeat failed", self._job_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        with self._alive_lock:
            self._alive.discard(self._worker)


def _progress_writer(job_id: uuid.UUID, worker: str, min_interval_s: float = 0.5) -> Progress:
    """``progress(fraction)`` storing the job's progress (clipped to 0..1, throttled)."""
    from sqlalchemy import update

    from noxfx.service.db import db
    from noxfx.service.models import Job

    last = [0.0]

    def report(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] < min_interval_s:
            return
        last[0] = now
        db.session.execute(
            update(Job).where(Job.id == job_id, Job.worker == worker)
            .values(progress=min(1.0, max(0.0, float(fraction))))
        )  # fmt: skip
        db.session.commit()

    return report


def run_next_job() -> uuid.UUID | None:
    """Claim the fairest queued job and run it (needs an app context); its id, or None when
    nothing was queued."""
    from flask import current_app

    from noxfx.service.db import db

    settings = _settings()
    try:
        claimed = claim_next_job(db.session, settings.job_lease_seconds)
    finally:
        db.remove_session()
    if claimed is None:
        return None
    _run_claimed(current_app._get_current_object(), *claimed)  # type: ignore[attr-defined]
    return claimed[0]


def _run_claimed(app: Flask, job_id: uuid.UUID, worker: str) -> None:
    from sqlalchemy import update

    from noxfx.service.db import db, utcnow
    from noxfx.service.models import Job, JobStatus
    from noxfx.service.observability import request_id_var
    from noxfx.service.services.serialize import to_jsonable

    token = request_id_var.set(f"job:{job_id}")
    heartbeat = _Heartbeat(app, job_id, worker)
    session = db.session
    try:
        job = session.get(Job, job_id)
        if job is None:
            return
        kind = job_kinds().get(job.kind)
        values: dict[str, Any]
        try:
            if kind is None:
                raise NoxError(f"Unknown job kind {job.kind!r}.")
            result = to_jsonable(kind.run(dict(job.params), _progress_writer(job_id, worker)))
            values = {"result": result, "status": JobStatus.SUCCEEDED.value, "progress": 1.0,
                      "error": None}  # fmt: skip
        except NoxError as exc:
            session.rollback()
            values = {"status": JobStatus.FAILED.value, "error": exc.message}
        except Exception:
            session.rollback()
            log.exception("job %s (%s) failed", job_id, job.kind)
            values = {"status": JobStatus.FAILED.value, "error": "The job failed unexpectedly."}
        heartbeat.stop()
        stored = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker == worker, Job.status == JobStatus.RUNNING.value)
            .values(finished_at=utcnow(), lease_expires_at=None, **values)
        )
        session.commit()
        if getattr(stored, "rowcount", 0) != 1:
            log.warning("job %s: its lease was taken over; this run's outcome is dropped", job_id)
            return
        log.info("job finished", extra={"job_id": str(job_id), "status": values["status"]})
    finally:
        heartbeat.stop()
        db.remove_session()
        request_id_var.reset(token)


def execute_job(job_id: uuid.UUID) -> None:
    """Run the queued job ``job_id`` now, whatever else is queued (needs an app context;
    tools and tests -- runners use :func:`run_next_job`)."""
    from flask import current_app
    from sqlalchemy import update

    from noxfx.service.db import db, utcnow
    from noxfx.service.models import Job, JobStatus

    settings, now, worker = _settings(), utcnow(), _worker_id()
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
        .values(status=JobStatus.RUNNING.value, started_at=now, progress=0.0,
                attempts=Job.attempts + 1, worker=worker, heartbeat_at=now,
                lease_expires_at=now + timedelta(seconds=settings.job_lease_seconds))
    )  # fmt: skip
    db.session.commit()
    db.remove_session()
    if getattr(claimed, "rowcount", 0) != 1:
        log.warning("job %s not found or not queued", job_id)
        return
    _run_claimed(current_app._get_current_object(), job_id, worker)  # type: ignore[attr-defined]


__all__ = ["KIND_MODULES", "KIND_RATE_LIMITS", "CeleryRunner", "Janitor", "JobKind", "JobRunner",
           "ThreadRunner", "claim_next_job", "execute_job", "job_kind", "job_kinds",
           "recover_jobs", "run_next_job"]  # fmt: skip
