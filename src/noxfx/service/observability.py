"""Request ids, JSON logs and Prometheus metrics.

* Every request gets an id: the caller's ``X-Request-ID`` when it is a sane token (<= 64 of
  ``[A-Za-z0-9._-]``), else a fresh one. It is returned in ``X-Request-ID``, put on every log
  line emitted while the request runs (a context variable, so library code logging through
  :mod:`logging` gets it too), stored on audit events and jobs, and set to ``job:<id>`` while a
  background job runs.
* Logs are one JSON object per line: ``ts``, ``level``, ``logger``, ``message``, ``request_id``
  and any ``extra=`` fields; one ``request`` line per request with method, path, status,
  duration and user.
* Metrics: request counter and latency histogram per endpoint (not per raw path, so the label
  set stays bounded). Under gunicorn with ``PROMETHEUS_MULTIPROC_DIR`` set, ``/metrics``
  aggregates all workers.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import IO, Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

request_id_var: ContextVar[str | None] = ContextVar("nox_request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

REQUESTS = Counter(
    "nox_http_requests_total", "HTTP requests handled.", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "nox_http_request_duration_seconds",
    "Time to handle an HTTP request.",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside requests and jobs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and key not in data and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


JsonFormatter.converter = time.gmtime


def configure_logging(level: str = "INFO", *, json_lines: bool = True,
                      stream: IO[str] | None = None) -> logging.Handler:  # fmt: skip
    """Route the root logger to one handler (JSON lines by default) with request ids.

    Idempotent, and the only JSON writer: handlers this function added before, and JSON handlers
    someone else put on the root logger (gunicorn's ``logconfig_dict``, applied in every worker
    before the app is built), are replaced, so each record is written once.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if _is_ours(h)]:
        root.removeHandler(old)
    handler._nox = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("werkzeug", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def _is_ours(handler: logging.Handler) -> bool:
    """A handler that writes our log lines: added by :func:`configure_logging`, or any handler
    formatting with :class:`JsonFormatter` (e.g. from a dictConfig naming it)."""
    return bool(getattr(handler, "_nox", False)) or isinstance(handler.formatter, JsonFormatter)


def init_request_tracking(app: Flask) -> None:
    """Request ids, the per-request log line and the metrics, on ``app``."""
    access_log = logging.getLogger("noxfx.service.access")

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        g.request_id = rid
        g.request_token = request_id_var.set(rid)
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        if started is not None:
            elapsed = time.perf_counter() - started
            endpoint = request.url_rule.rule if request.url_rule else "<unmatched>"
            REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
            LATENCY.labels(endpoint).observe(elapsed)
            user = g.get("user_id")
            access_log.info("request", extra={"method": request.method, "path": request.path,
                            "status": response.status_code, "duration_ms": round(elapsed * 1e3, 2),
                            "user_id": str(user) if user else None})  # fmt: skip
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_token", None)
        if token is not None:
            request_id_var.reset(token)


def metrics_response() -> Response:
    """The Prometheus exposition (all gunicorn workers when running multi-process)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, content_type=CONTENT_TYPE_LATEST)


__all__ = ["configure_logging", "init_request_tracking", "metrics_response", "request_id_var"]
