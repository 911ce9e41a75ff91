"""Jobs of a user: submit, read, list; and the job kinds the service ships.

Kinds: ``ping`` (a round trip through the runner: which process ran it), ``analysis`` (the
analysis report, computed in the background), ``backtest`` and ``optimize`` (registered by
:mod:`noxfx.service.services.backtests`) and ``scan`` (:mod:`noxfx.service.services.scans`),
all listed in :data:`noxfx.service.jobs.KIND_MODULES`. New kinds register with
:func:`noxfx.service.jobs.job_kind`.

Submission enforces, per user: the kind's rate limit (whichever route submits it), a quota of
queued+running jobs (``job_max_active_per_user``), a size limit on the params
(``job_params_max_bytes``), and no row without a dispatch (a broker that does not answer is a
503 and nothing is stored).
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import time
import uuid
from typing import Any

from flask import g, has_request_context
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, select, update

from noxfx.service.db import db, utcnow
from noxfx.service.errors import (
    NotFound,
    PermissionDenied,
    ServiceError,
    ServiceUnavailable,
    ValidationFailed,
)
from noxfx.service.jobs import JobKind, Progress, job_kind, job_kinds
from noxfx.service.models import Job, JobStatus, User
from noxfx.service.runtime import runtime
from noxfx.service.security.permissions import PERMISSIONS
from noxfx.service.services.analysis import analysis_report
from noxfx.service.services.market import resolve

log = logging.getLogger(__name__)


@job_kind("ping", permission="jobs:own", description="Round trip through the job runner.")
def _ping(params: dict[str, Any], _progress: Progress) -> dict[str, Any]:
    return {"pong": True, "pid": os.getpid(), "host": socket.gethostname(),
            "echo": params.get("echo")}  # fmt: skip


def _analysis_params(params: dict[str, Any]) -> dict[str, Any]:
    symbol, timeframe = params.get("symbol"), params.get("timeframe", "1h")
    if not isinstance(symbol, str) or not isinstance(timeframe, str):
        raise ValidationFailed(
            "analysis jobs need params.symbol (and optionally timeframe).",
            [{"location": "json", "field": "params.symbol", "message": "A symbol, e.g. EURUSD."}],
        )
    inst, tf = resolve(symbol, timeframe)
    return {"symbol": inst.symbol, "timeframe": tf.name}


@job_kind(
    "analysis",
    permission="analysis:read",
    validate=_analysis_params,
    description="The analysis report of params.symbol at params.timeframe (default 1h).",
)
def _analysis(params: dict[str, Any], _progress: Progress) -> dict[str, Any]:
    return analysis_report(params["symbol"], params["timeframe"])


class TooManyJobs(ServiceError):
    """429: the user's rate limit for a kind, or their queued+running quota, is used up."""

    status = 429
    kind = "rate-limited"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, retry_after_seconds))}


class ParamsTooLarge(ServiceError):
    status = 413
    kind = "payload-too-large"


#: Retry-After of a 429 for the quota of active jobs (seconds): a guess, jobs take that long.
QUOTA_RETRY_AFTER_SECONDS = 10
_memory_limits = MovingWindowRateLimiter(MemoryStorage())


def _check_size(params: Any, limit: int) -> None:
    size = len(json.dumps(params, default=str, separators=(",", ":")).encode())
    if size > limit:
        raise ParamsTooLarge(
            f"The job parameters are {size:,} bytes of JSON; at most {limit:,} are accepted."
        )


def _check_rate(user: User, spec: JobKind) -> None:
    """Count this submission against the user's limit for the kind (its own counter, shared
    by every route that submits the kind); 429 with Retry-After beyond it."""
    from flask import current_app

    from noxfx.service.ratelimit import limit_for, limiter

    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    item = parse_limit(limit_for(spec.rate_limit)())
    keys = ("job-kind", spec.name, f"user:{user.id}")
    try:
        strategy = limiter.limiter
        allowed = strategy.hit(item, *keys)
    except Exception:  # Redis unreachable: count in this process (see /readyz)
        log.warning("job rate limit storage unreachable; counting in process memory")
        strategy = _memory_limits
        allowed = strategy.hit(item, *keys)
    if not allowed:
        try:
            reset = strategy.get_window_stats(item, *keys).reset_time
        except Exception:
            reset = time.time() + item.get_expiry()
        raise TooManyJobs(
            f"Rate limit exceeded for {spec.name} jobs ({item}); retry after "
            f"{max(1, math.ceil(reset - time.time()))} s.",
            math.ceil(reset - time.time()),
        )


def _check_quota(user: User, limit: int) -> None:
    """At most ``limit`` queued+running jobs per user. The user's row is locked until the
    job is committed (``FOR UPDATE``; on SQLite a no-op write takes the database's write lock),
    so concurrent submissions are counted one after the other."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(User).where(User.id == user.id)
            .values(display_name=User.display_name, updated_at=User.updated_at)
        )  # fmt: skip
    else:
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    active = db.session.scalar(
        select(func.count()).select_from(Job).where(
            Job.user_id == user.id,
            Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
    ) or 0  # fmt: skip
    if active >= limit:
        db.session.rollback()
        raise TooManyJobs(
            f"You have {active} jobs queued or running, the most allowed at once ({limit}); "
            "submit more when one has finished.",
            QUOTA_RETRY_AFTER_SECONDS,
        )


def submit(user: User, kind: str, params: dict[str, Any]) -> Job:
    """Queue a job of ``kind`` for ``user`` and dispatch it to the runner.

    Refused, in this order: unknown kind (422), role (403), params over
    ``job_params_max_bytes`` (413), the kind's rate limit (429), invalid params (422), the
    user's quota of ``job_max_active_per_user`` queued+running jobs (429), a runner that does
    not answer (503, and the row is deleted: nothing is stored).
    """
    settings = runtime().settings
    spec = job_kinds().get(kind)
    if spec is None:
        known = ", ".join(sorted(job_kinds()))
        raise ValidationFailed(
            f"Unknown job kind {kind!r}.",
            [{"location": "json", "field": "kind", "message": f"One of: {known}."}],
        )
    if user.role not in {r.value for r in PERMISSIONS[spec.permission]}:
        raise PermissionDenied(f"Your role ({user.role}) cannot run {kind} jobs.")
    _check_size(params, settings.job_params_max_bytes)
    _check_rate(user, spec)
    if spec.validate is not None:
        params = spec.validate(params)
        _check_size(params, settings.job_params_max_bytes)
    _check_quota(user, settings.job_max_active_per_user)
    job = Job(user_id=user.id, kind=kind, params=params, dispatched_at=utcnow(),
              request_id=g.get("request_id") if has_request_context() else None)  # fmt: skip
    db.session.add(job)
    db.session.commit()
    try:
        runtime().jobs.submit(job.id)
    except Exception as exc:
        db.session.rollback()
        db.session.execute(delete(Job).where(Job.id == job.id))  # no row without a dispatch
        db.session.commit()
        if not _broker_error(exc):
            raise
        log.warning("job runner unreachable (%s); job %s not accepted", type(exc).__name__, job.id)
        unavailable = ServiceUnavailable(
            "The job queue is unreachable right now; nothing was submitted. Try again shortly."
        )
        unavailable.headers = {"Retry-After": "5"}
        raise unavailable from None
    return job


def _broker_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the broker cannot be reached (not a bug of ours)."""
    from kombu.exceptions import KombuError
    from redis.exceptions import RedisError

    return isinstance(exc, OSError | KombuError | RedisError | TimeoutError)


def get_job(user: User, job_id: uuid.UUID) -> Job:
    """The job if ``user`` owns it; 404 otherwise (whether or not it exists)."""
    job = db.session.get(Job, job_id)
    if job is None or job.user_id != user.id:
        raise NotFound(f"No job {job_id}.")
    return job


def list_jobs(user: User, limit: int = 50, offset: int = 0) -> list[Job]:
    stmt = (select(Job).where(Job.user_id == user.id).order_by(Job.created_at.desc())
            .limit(limit).offset(offset))  # fmt: skip
    return list(db.session.scalars(stmt))


def kinds_for(user: User) -> list[dict[str, str]]:
    return [{"kind": k.name, "description": k.description} for k in job_kinds().values()
            if user.role in {r.value for r in PERMISSIONS[k.permission]}]  # fmt: skip


__all__ = ["ParamsTooLarge", "TooManyJobs", "get_job", "kinds_for", "list_jobs", "submit"]
