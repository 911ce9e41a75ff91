"""Rate limits (Flask-Limiter): per user when a live access token is sent, else per IP (always
per IP on the anonymous auth routes).

Each blueprint module names its category in ``RATE_LIMIT`` (``auth`` 5/min, ``market`` 100/min,
``trading`` 50/min, ``ml`` 20/min, ``default`` 300/min; all configurable, see
:class:`~noxfx.service.settings.ServiceSettings`); every route of the blueprint then has its own
counter at that rate. Storage is Redis when ``NOX_REDIS_URL`` is set (shared by all workers; one
round trip per request, see :mod:`noxfx.service.limits_storage`), memory otherwise; if Redis
fails the limiter falls back to memory rather than erroring. Responses carry
``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` and, on 429,
``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, g, request
from flask_limiter import Limiter

from noxfx.service.settings import ServiceSettings

CATEGORIES = ("auth", "market", "trading", "ml", "default")


def rate_limit_key() -> str:
    """``ip:<address>`` on the anonymous auth routes whatever token is attached; elsewhere
    ``user:<id>`` for a *live* bearer token (valid, not revoked, session alive), else
    ``ip:<address>``. A signed but revoked token must not open a fresh bucket."""
    cached = g.get("rate_limit_key")
    if cached:
        return str(cached)
    key = f"ip:{request.remote_addr or 'unknown'}"
    header = request.headers.get("Authorization", "")
    if header and not _anonymous_auth_route():
        from noxfx.service.auth import live_user_id

        user_id = live_user_id(header)
        if user_id is not None:
            key = f"user:{user_id}"
    g.rate_limit_key = key
    return key


def _anonymous_auth_route() -> bool:
    """Whether this request is for a route of the ``auth`` blueprint that needs no token
    (register, login, refresh, password reset, e-mail verification)."""
    if request.blueprint != "auth" or request.endpoint is None:
        return request.blueprint == "auth"
    view = current_app.view_functions.get(request.endpoint)
    spec = getattr(view, "_spec", None) or {}
    return not spec.get("auth")


limiter = Limiter(
    key_func=rate_limit_key,
    headers_enabled=True,
    strategy="moving-window",  # no burst at window edges, and no clock-aligned reset
    swallow_errors=True,
    in_memory_fallback_enabled=True,
    key_prefix="nox",
)
_limited_blueprints: set[str] = set()


def limit_for(category: str) -> Callable[[], str]:
    """The limit string of ``category`` for the current app (read per request)."""
    if category not in CATEGORIES:
        raise KeyError(f"unknown rate-limit category {category!r}")

    def value() -> str:
        limits: dict[str, str] = current_app.config["NOX_RATE_LIMITS"]
        return limits[category]

    return value


def limit_blueprint(bp: Blueprint, category: str) -> None:
    """Apply ``category`` to every route of ``bp`` (once per process)."""
    name = getattr(bp, "name", "")
    if name in _limited_blueprints:
        return
    limiter.limit(limit_for(category))(bp)
    _limited_blueprints.add(name)


def init_rate_limits(app: Flask, settings: ServiceSettings) -> None:
    """Configure and bind the limiter to ``app``."""
    app.config["NOX_RATE_LIMITS"] = {
        "auth": settings.rate_limit_auth, "market": settings.rate_limit_market,
        "trading": settings.rate_limit_trading, "ml": settings.rate_limit_ml,
        "default": settings.rate_limit_default,
    }  # fmt: skip
    app.config["RATELIMIT_ENABLED"] = settings.rate_limits_enabled
    if settings.redis_url:
        from noxfx.service import limits_storage  # noqa: F401  (registers nox+redis://)

        app.config["RATELIMIT_STORAGE_URI"] = "nox+" + settings.redis_url
    else:
        app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    app.config["RATELIMIT_DEFAULT"] = settings.rate_limit_default

    @app.after_request
    def _retry_after_only_when_limited(response: Response) -> Response:
        # runs after Flask-Limiter's header injection (registered first, so called last)
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    # The limiter is module level (bound to each app with init_app), and Flask-Limiter keeps
    # its "storage is dead, count in the memory fallback" flag across init_app calls: an app
    # built after one whose Redis went away would split its counts between two storages.
    limiter._storage_dead = False
    limiter.init_app(app)


__all__ = ["CATEGORIES", "init_rate_limits", "limit_blueprint", "limit_for", "limiter",
           "rate_limit_key"]  # fmt: skip

#: Paths never rate-limited (probes, metrics, the API description).
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")


@limiter.request_filter
def _exempt() -> bool:
    return request.path.startswith(EXEMPT_PREFIXES)
