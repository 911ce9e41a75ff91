"""Background jobs: one API, two runners.

* :class:`ThreadRunner` (embedded mode): a thread pool inside the API process.
* :class:`CeleryRunner` (server mode): a Celery task on the Redis broker, executed by
  ``noxfx worker`` (:func:`noxfx.service.server.worker`).

A job is a row in ``jobs`` (kind, params, status, result, error). Submitting commits the row and
hands its id to the runner; :func:`execute_job` runs it wherever the runner lives, inside an app
context, and stores the outcome. Kinds are registered with :func:`job_kind` next to the service
they call (``services/jobs.py``); each names the permission a user needs to submit it. Results
are JSON; a job raising a NOX error fails with that message, any other exception fails with a
generic message and a logged traceback. A job function receives its params and a
``progress(fraction)`` callable; progress is stored on the row (at most twice a second) and
shown by ``GET /jobs/{id}``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask

from noxfx.errors import NoxError

log = logging.getLogger(__name__)
Progress = Callable[[float], None]
JobFunction = Callable[[dict[str, Any], Progress], dict[str, Any]]
CELERY_TASK = "noxfx.run_job"
CELERY_QUEUE = "nox"


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    permission: str
    description: str
    run: JobFunction
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None


_KINDS: dict[str, JobKind] = {}


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
    return dict(_KINDS)


class JobRunner(Protocol):
    name: str

    def submit(self, job_id: uuid.UUID) -> None: ...
    def close(self) -> None: ...


class ThreadRunner:
    """Runs jobs on a small thread pool inside this process."""

    name = "thread"

    def __init__(self, app: Flask, threads: int) -> None:
        self._app = app
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="nox-job")

    def submit(self, job_id: uuid.UUID) -> None:
        self._pool.submit(self._run, job_id)

    def _run(self, job_id: uuid.UUID) -> None:
        with self._app.app_context():
            execute_job(job_id)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


class CeleryRunner:
    """Sends jobs to ``noxfx worker`` through the Redis broker."""

    name = "celery"

    def __init__(self, redis_url: str) -> None:
        from noxfx.service.tasks import celery_app, configure_celery

        configure_celery(redis_url)
        self._celery = celery_app

    def submit(self, job_id: uuid.UUID) -> None:
        self._celery.send_task(CELERY_TASK, args=[str(job_id)], queue=CELERY_QUEUE)

    def close(self) -> None:
        pass


def _progress_writer(job: Any, min_interval_s: float = 0.5) -> Progress:
    """``progress(fraction)`` storing ``job.progress`` (clipped to 0..1, throttled)."""
    from noxfx.service.db import db

    last = [0.0]

    def report(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] < min_interval_s:
            return
        last[0] = now
        job.progress = min(1.0, max(0.0, float(fraction)))
        db.session.commit()

    return report


def execute_job(job_id: uuid.UUID) -> None:
    """Run one queued job and store its outcome (needs an app context)."""
    from noxfx.service.db import db, utcnow
    from noxfx.service.models import Job, JobStatus
    from noxfx.service.observability import request_id_var
    from noxfx.service.services.serialize import to_jsonable

    token = request_id_var.set(f"job:{job_id}")
    session = db.session
    try:
        job = session.get(Job, job_id)
        if job is None or job.status != JobStatus.QUEUED:
            log.warning("job %s not found or not queued", job_id)
            return
        job.status, job.started_at, job.progress = JobStatus.RUNNING.value, utcnow(), 0.0
        session.commit()
        kind = _KINDS.get(job.kind)
        try:
            if kind is None:
                raise NoxError(f"Unknown job kind {job.kind!r}.")
            job.result = to_jsonable(kind.run(dict(job.params), _progress_writer(job)))
            job.status, job.progress = JobStatus.SUCCEEDED.value, 1.0
        except NoxError as exc:
            job.status, job.error = JobStatus.FAILED.value, exc.message
        except Exception:
            log.exception("job %s (%s) failed", job_id, job.kind)
            job.status, job.error = JobStatus.FAILED.value, "The job failed unexpectedly."
        job.finished_at = utcnow()
        session.commit()
        log.info("job finished", extra={"job_id": str(job_id), "status": job.status})
    finally:
        db.remove_session()
        request_id_var.reset(token)


__all__ = ["CeleryRunner", "JobKind", "JobRunner", "ThreadRunner", "execute_job", "job_kind",
           "job_kinds"]  # fmt: skip
