"""Probes and metrics: ``/healthz`` (the process answers), ``/readyz`` (its dependencies
answer; 503 naming the missing ones; ``checks.rate_limits`` says where rate limits are counted,
and when Redis is down that they fell back to per-process memory), ``/metrics``
(Prometheus). Never rate-limited."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, String
from flask import Response

from noxfx.service.db import db
from noxfx.service.errors import problem
from noxfx.service.observability import metrics_response
from noxfx.service.runtime import runtime

bp = APIBlueprint("health", __name__, tag="Operations")
log = logging.getLogger(__name__)


class HealthOut(Schema):
    status = String(required=True, metadata={"example": "ok"})


class ReadyOut(Schema):
    status = String(required=True)
    checks = Dict(keys=String(), values=String(), required=True)


@bp.get("/healthz")
@bp.output(HealthOut)
@bp.doc(summary="Liveness: the process answers")
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"


def rate_limit_mode(*, redis_configured: bool, redis_ok: bool) -> str:
    """Where rate limits are counted, for ``/readyz``; logs a warning when they have fallen
    back to per-process memory because Redis is unreachable."""
    from noxfx.service.ratelimit import limiter

    if not redis_configured:
        return ("memory (per process: with several API processes each limit is multiplied by "
                "their number; set NOX_REDIS_URL to share them)")  # fmt: skip
    if redis_ok and not getattr(limiter, "_storage_dead", False):
        return "redis (shared by every API process)"
    log.warning(
        "rate limits fell back to per-process memory (Redis unreachable): every limit is "
        "multiplied by the number of API processes until Redis is back"
    )
    return ("degraded: Redis unreachable, counted per process in memory (each limit is "
            "multiplied by the number of API processes)")  # fmt: skip


@bp.get("/readyz")
@bp.output(ReadyOut)
@bp.doc(summary="Readiness: database and Redis reachable", responses=[503])
def readyz() -> Any:
    rt = runtime()
    checks: dict[str, str] = {}
    missing: list[str] = []
    try:
        db.ping()
        checks["database"] = "ok"
    except Exception as exc:
        url = _redacted(rt.settings.effective_database_url)
        checks["database"] = f"unreachable: {type(exc).__name__}"
        missing.append(f"database ({url}: {str(exc).splitlines()[0][:200] if str(exc) else exc!r})")
    if rt.redis is None:
        checks["redis"] = "not configured (in-process cache, memory rate limits, thread jobs)"
    else:
        try:
            rt.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
            missing.append(f"redis ({_redacted(rt.settings.redis_url or '')}: {exc})")
    checks["rate_limits"] = rate_limit_mode(redis_configured=rt.redis is not None,
                                            redis_ok=checks.get("redis") == "ok")  # fmt: skip
    checks["bar_store"] = "ok" if rt.store.symbols() else "empty (run `noxfx data bootstrap`)"
    if missing:
        return problem(503, "Not ready; unreachable: " + "; ".join(missing) + ".",
                       kind="not-ready", headers={"Retry-After": "5"}, checks=checks)  # fmt: skip
    return {"status": "ok", "checks": checks}


@bp.get("/metrics")
@bp.doc(hide=True)
def metrics() -> Response:
    return metrics_response()
