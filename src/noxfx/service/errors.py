"""Errors of the service and the ONE place every error becomes application/problem+json.

RFC 9457 bodies: ``type`` (``about:blank`` for plain HTTP errors, ``urn:noxfx:problem:<kind>``
for NOX errors), ``title``, ``status``, ``detail`` (a sentence a person can act on),
``instance`` (the request path) and ``request_id``; validation problems add ``errors``, a list of
``{location, field, message}``. The domain tree (:mod:`noxfx.errors`) maps to 4xx/503 here; any
other exception is logged with its traceback and answered with a bare 500 problem. A
``detail`` never carries a server path or a stack frame (:func:`scrub`); bar-store failures are
logged in full and answered without their paths.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from apiflask import APIFlask, HTTPError
from flask import Response, current_app, g, has_app_context, json, request
from werkzeug.exceptions import HTTPException

from noxfx import errors as domain

log = logging.getLogger("noxfx.service")
PROBLEM_MIMETYPE = "application/problem+json"


class ServiceError(domain.NoxError):
    """Base of the errors the service layer raises; ``status`` is the HTTP status."""

    status = 400
    kind = "bad-request"
    headers: dict[str, str] | None = None


class NotFound(ServiceError):
    """Missing, or owned by someone else (never reveal which)."""

    status = 404
    kind = "not-found"


class Conflict(ServiceError):
    status = 409
    kind = "conflict"


class AuthenticationFailed(ServiceError):
    status = 401
    kind = "authentication-failed"


class PermissionDenied(ServiceError):
    status = 403
    kind = "permission-denied"


class AccountLocked(ServiceError):
    """Too many failed logins; ``retry_after_seconds`` until the lock lifts."""

    status = 429
    kind = "account-locked"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, retry_after_seconds))}


class ValidationFailed(ServiceError):
    """Input that passed the schema but not a rule of the service (e.g. the password policy)."""

    status = 422
    kind = "validation-failed"

    def __init__(self, message: str, errors: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors


class MalformedRequest(ServiceError):
    """A request the service cannot even read: JSON nested too deep, numbers out of range,
    control characters in headers (see :mod:`noxfx.service.request_guard`)."""

    status = 400
    kind = "malformed-request"


class ServiceUnavailable(ServiceError):
    status = 503
    kind = "service-unavailable"


#: HTTP status of each domain error kind (anything else NOX raises is a 400).
_DOMAIN_STATUS: dict[type[domain.NoxError], int] = {
    domain.UnknownInstrument: 404,
    domain.InsufficientData: 404,
    domain.UnknownTimeframe: 422,
    domain.InvalidInput: 422,
    domain.InvalidBars: 422,
    domain.UnsupportedFormat: 415,
    domain.StoreError: 503,
}


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """A problem+json response."""
    phrase = _phrase(status)
    body: dict[str, Any] = {
        "type": f"urn:noxfx:problem:{kind}" if kind else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": scrub(detail),
        "instance": request.path,
        "request_id": g.get("request_id"),
        **extensions,
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


#: Absolute paths under the usual server roots, and traceback frames: never in an answer.
_SERVER_PATH = re.compile(
    r"(?<![\w.-])(?:[A-Za-z]:\\|/)"
    r"(?:home|tmp|work|usr|var|opt|srv|root|etc|proc|app|data|mnt|private|nix|Users)\b"
    r"(?:[/\\][^\s'\"]*)?"
)
_FRAME = re.compile(r'File "[^"]*", line \d+[^\n]*')


def scrub(text: str) -> str:
    """``text`` without server paths (the usual roots and the app's ``NOX_HOME``) and stack
    frames: problem details are public."""
    text = _FRAME.sub("<frame>", text)
    if has_app_context():
        settings = current_app.config.get("NOX_SETTINGS")
        home = getattr(settings, "home", None)
        if home is not None:
            for root in {str(home.expanduser()), str(home.expanduser().resolve())}:
                if len(root) > 1:
                    text = text.replace(root, "<path>")
    return _SERVER_PATH.sub("<path>", text)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def flatten_validation(detail: Mapping[str, Any]) -> list[dict[str, str]]:
    """APIFlask/webargs ``{location: {field: [messages] | nested}}`` -> flat field errors."""
    out: list[dict[str, str]] = []

    def walk(location: str, prefix: str, node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(location, f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, list | tuple) and node and not all(isinstance(m, str) for m in node):
            for i, value in enumerate(node):
                walk(location, f"{prefix}[{i}]", value)
        else:
            messages: Iterable[Any] = node if isinstance(node, list | tuple) else [node]
            for message in messages:
                out.append({"location": location, "field": prefix or "_schema",
                            "message": str(message)})  # fmt: skip

    for location, fields in detail.items():
        walk(str(location), "", fields)
    return out


def load_or_422(schema: Any, data: Mapping[str, Any], what: str) -> dict[str, Any]:
    """``schema.load(data)`` (a marshmallow schema), or :class:`ValidationFailed` listing the
    fields: for input checked outside APIFlask's decorators (job params)."""
    from marshmallow import ValidationError

    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        errors = flatten_validation({"json": exc.normalized_messages()})
        raise ValidationFailed(f"The {what} are not valid.", errors) from exc
    return loaded


def _validation_problem(errors: list[dict[str, str]], status: int = 422) -> Response:
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return problem(status, f"The request is not valid. {summary}{more}", kind="validation-failed",
                   title="Validation failed", errors=errors)  # fmt: skip


def _http_error(error: HTTPError) -> Response:
    """APIFlask's errors: validation (422 with a detail dict), abort(), auth failures."""
    if error.status_code == 422 and isinstance(error.detail, Mapping) and error.detail:
        return _validation_problem(flatten_validation(error.detail))
    if error.status_code in (401, 403):
        detail = g.pop("auth_error", None) or (
            "Send a valid access token: `Authorization: Bearer <token>` (POST /api/v1/auth/login)."
            if error.status_code == 401
            else "Your role does not allow this operation."
        )
        kind = "authentication-required" if error.status_code == 401 else "permission-denied"
        headers = {str(k): str(v) for k, v in dict(error.headers or {}).items()}
        if error.status_code == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="nox"')
        return problem(error.status_code, detail, kind=kind, headers=headers)
    detail = error.detail if isinstance(error.detail, str) and error.detail else error.message
    headers = {str(k): str(v) for k, v in dict(error.headers or {}).items()}
    return problem(error.status_code, str(detail), headers=headers)


def _werkzeug_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {k: str(v) for k, v in exc.get_headers() if k.lower() != "content-type"}
    detail = exc.description or _phrase(status)
    if status == 429:
        retry = headers.get("Retry-After")
        detail = f"Rate limit exceeded ({exc.description})." + (
            f" Retry after {retry} s." if retry else ""
        )
        return problem(429, detail, kind="rate-limited", headers=headers)
    if status == 405:
        detail = f"{request.method} is not allowed here; allowed: {headers.get('Allow', 'none')}."
    return problem(status, detail, headers=headers)


def _nox_error(exc: domain.NoxError) -> Response:
    if isinstance(exc, ServiceError):
        extra: dict[str, Any] = {}
        if isinstance(exc, ValidationFailed):
            return _validation_problem(exc.errors, exc.status)
        return problem(exc.status, exc.message, kind=exc.kind, headers=exc.headers, **extra)
    if isinstance(exc, domain.StoreError):
        return _store_error(exc)
    status = next((s for cls, s in _DOMAIN_STATUS.items() if isinstance(exc, cls)), 400)
    return problem(status, exc.message, kind=exc.kind)


def _store_error(exc: domain.StoreError) -> Response:
    """The bar store failed: logged in full, answered without its paths. A date the store's
    timestamps cannot hold (a cast out of bounds) is the caller's error, not an outage."""
    if "out of bounds" in exc.message:
        return _validation_problem([{"location": "query", "field": "start/end",
                                     "message": "Use a date/time between 1677-09-22 and "
                                                "2262-04-11 (UTC)."}])  # fmt: skip
    log.error("bar store error: %s", exc.message)
    return problem(503, "The bar store cannot be read right now; the error has been logged "
                   "with this request id.", kind=exc.kind)  # fmt: skip


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):  # raised through a path Flask did not route
        return _werkzeug_error(exc)
    log.exception("unhandled error: %s", type(exc).__name__)
    return problem(500, "An unexpected error occurred; it has been logged with this request id.")


def register_error_handlers(app: APIFlask) -> None:
    """Install the mapping above on ``app`` (and make APIFlask use it for its own errors)."""
    app.error_processor(_http_error)  # validation, abort(), auth
    app.register_error_handler(HTTPException, _werkzeug_error)
    app.register_error_handler(domain.NoxError, _nox_error)
    app.register_error_handler(Exception, _unexpected)


__all__ = [
    "PROBLEM_MIMETYPE",
    "AccountLocked",
    "AuthenticationFailed",
    "Conflict",
    "MalformedRequest",
    "NotFound",
    "PermissionDenied",
    "ServiceError",
    "ServiceUnavailable",
    "ValidationFailed",
    "flatten_validation",
    "load_or_422",
    "problem",
    "register_error_handlers",
    "scrub",
]
