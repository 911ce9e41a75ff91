"""Jobs of a user: submit, read, list; and the job kinds the service ships.

Kinds: ``ping`` (a round trip through the runner: which process ran it), ``analysis`` (the
analysis report, computed in the background), ``backtest`` and ``optimize`` (registered by
:mod:`noxfx.service.services.backtests`) and ``scan`` (:mod:`noxfx.service.services.scans`),
imported here so every process that runs jobs knows them. New kinds register with
:func:`noxfx.service.jobs.job_kind`.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any

from flask import g, has_request_context
from sqlalchemy import select

from noxfx.service.db import db
from noxfx.service.errors import NotFound, PermissionDenied, ValidationFailed
from noxfx.service.jobs import Progress, job_kind, job_kinds
from noxfx.service.models import Job, User
from noxfx.service.runtime import runtime
from noxfx.service.security.permissions import PERMISSIONS
from noxfx.service.services.analysis import analysis_report
from noxfx.service.services.market import resolve


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


def submit(user: User, kind: str, params: dict[str, Any]) -> Job:
    """Queue a job of ``kind`` for ``user`` and hand it to the runner."""
    spec = job_kinds().get(kind)
    if spec is None:
        known = ", ".join(sorted(job_kinds()))
        raise ValidationFailed(
            f"Unknown job kind {kind!r}.",
            [{"location": "json", "field": "kind", "message": f"One of: {known}."}],
        )
    if user.role not in {r.value for r in PERMISSIONS[spec.permission]}:
        raise PermissionDenied(f"Your role ({user.role}) cannot run {kind} jobs.")
    if spec.validate is not None:
        params = spec.validate(params)
    job = Job(user_id=user.id, kind=kind, params=params,
              request_id=g.get("request_id") if has_request_context() else None)  # fmt: skip
    db.session.add(job)
    db.session.commit()
    runtime().jobs.submit(job.id)
    return job


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


from noxfx.service.services import backtests as _backtests  # noqa: E402, F401  (job kinds)
from noxfx.service.services import scans as _scans  # noqa: E402, F401

__all__ = ["get_job", "kinds_for", "list_jobs", "submit"]
