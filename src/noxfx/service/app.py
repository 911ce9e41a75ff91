"""The application factory: ``create_app(settings)`` builds one NOX API app.

Layers, outside in: blueprints (``api/``, thin routes with schema and auth decorators) ->
service layer (``services/``) -> the library (``noxfx.data``, ``noxfx.analysis``, ...) and the
database (``models``). Cross-cutting parts are bound here: request ids and JSON logs,
problem+json errors, rate limits, CORS, the cache, the job runner and the migrations.

``GET /openapi.json`` is the OpenAPI 3.1 document, ``GET /docs`` the Swagger UI.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask
from flask.sessions import SessionInterface

from noxfx import __version__
from noxfx.data.store import BarStore
from noxfx.service.settings import ServiceSettings

_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head"}


def _local_swagger_ui(app: APIFlask) -> None:
    """Serve Swagger UI 5 from the installed ``swagger-ui-py`` package, so ``/docs`` renders
    the OpenAPI 3.1 document (Swagger UI 4 cannot) and works offline (APIFlask's default
    points at a CDN)."""
    from flask import send_from_directory

    prefix = "/docs/assets"
    app.config.update(
        SWAGGER_UI_CSS=f"{prefix}/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS=f"{prefix}/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS=f"{prefix}/swagger-ui-standalone-preset.js",
        DOCS_FAVICON=f"{prefix}/favicon-32x32.png",
    )
    assets = swagger_ui_assets()

    @app.get(f"{prefix}/<path:filename>")
    @app.doc(hide=True)
    def swagger_asset(filename: str) -> Any:
        return send_from_directory(assets, filename, max_age=86_400)


def swagger_ui_assets() -> str:
    """The folder of the Swagger UI 5 distribution files (``swagger-ui-py``'s ``static``)."""
    from importlib import resources

    return str(resources.files("swagger_ui") / "static")


def create_app(settings: ServiceSettings | None = None) -> APIFlask:
    """A fully wired app for ``settings`` (default: from the environment).

    Raises :class:`~noxfx.service.settings.ConfigurationError` in production mode without a
    real secret key. Runs ``alembic upgrade head`` unless ``auto_migrate`` is off.
    """
    from noxfx.ml.registry import ModelRegistry
    from noxfx.service.api import register_blueprints
    from noxfx.service.cache import Cache
    from noxfx.service.db import db
    from noxfx.service.errors import register_error_handlers
    from noxfx.service.health import bp as health_bp
    from noxfx.service.jobs import CeleryRunner, JobRunner, ThreadRunner
    from noxfx.service.mail import Mailer
    from noxfx.service.migrate import upgrade
    from noxfx.service.observability import configure_logging, init_request_tracking
    from noxfx.service.ratelimit import init_rate_limits
    from noxfx.service.request_guard import init_request_guard
    from noxfx.service.runtime import EXTENSION_KEY, Runtime
    from noxfx.service.schemas.common import Problem
    from noxfx.service.security.mfa import SecretBox
    from noxfx.service.security.passwords import PasswordHashing
    from noxfx.service.security.tokens import TokenService

    settings = settings or ServiceSettings()
    secret = settings.resolved_secret_key()  # refuses unsafe production settings
    configure_logging(settings.log_level, json_lines=settings.log_json)
    settings.home.expanduser().mkdir(parents=True, exist_ok=True)

    app = APIFlask("noxfx.service", title="NOX API", version=__version__,
                   spec_path="/openapi.json", docs_path="/docs")  # fmt: skip
    _local_swagger_ui(app)
    app.session_interface = _NoCookieSessions()
    app.config.update(
        SECRET_KEY=secret,
        MAX_CONTENT_LENGTH=1 << 20,
        VALIDATION_ERROR_SCHEMA=Problem,
        HTTP_ERROR_SCHEMA=Problem,
        DESCRIPTION=_DESCRIPTION,
        NOX_SETTINGS=settings,
    )
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    _strict_query_parameters()
    init_request_tracking(app)
    register_error_handlers(app)
    db.init_app(app, settings.effective_database_url)
    if settings.auto_migrate:
        upgrade(db.engine(app))

    redis_client = None
    if settings.redis_url:
        import redis

        redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=1,
                                            socket_connect_timeout=1)  # fmt: skip
    jobs: JobRunner
    if settings.effective_job_backend == "celery":
        if not settings.redis_url:
            from noxfx.service.settings import ConfigurationError

            raise ConfigurationError("NOX_JOB_BACKEND=celery needs NOX_REDIS_URL (the broker).")
        jobs = CeleryRunner(settings.redis_url)
    else:
        jobs = ThreadRunner(app, settings.job_threads)
    tokens = TokenService(secret, settings.jwt_algorithm, settings.access_token_minutes)
    tokens.init_app(app)
    app.extensions[EXTENSION_KEY] = Runtime(
        settings=settings,
        tokens=tokens,
        passwords=PasswordHashing(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
        secret_box=SecretBox(secret),
        cache=Cache.from_url(settings.redis_url),
        mailer=Mailer(settings),
        jobs=jobs,
        store=BarStore(settings.bars_dir),
        redis=redis_client,
        models=ModelRegistry(settings.home.expanduser() / "models"),
    )
    init_rate_limits(app, settings)
    init_request_guard(app)  # after the limiter: refused requests still count
    if settings.cors_origins.strip():
        from flask_cors import CORS

        origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
        CORS(app, resources={r"/api/*": {"origins": "*" if origins == ["*"] else origins}},
             expose_headers=["X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                             "X-RateLimit-Reset", "Retry-After"])  # fmt: skip

    register_blueprints(app)
    app.register_blueprint(health_bp)
    app.spec_processor(_problem_json_in_spec)
    return app


class _NoCookieSessions(SessionInterface):
    """The API authenticates with bearer tokens and never uses Flask's cookie session: every
    request gets the read-only null session (no cookie parsing or signing per request)."""

    def open_session(self, app: Any, request: Any) -> None:
        return None

    def save_session(self, app: Any, session: Any, response: Any) -> None:
        return None


def _strict_query_parameters() -> None:
    """Unknown query parameters are 422 errors, not ignored: a misspelt ``?timefrme=4h`` must
    not silently answer with 1h bars. (APIFlask's webargs parser excludes them by default.)"""
    from apiflask.schema_adapters.marshmallow import parser
    from marshmallow import RAISE

    parser.unknown = RAISE


def close_app(app: APIFlask) -> None:
    """Stop the job threads and close connections (tests, graceful shutdown)."""
    from noxfx.service.db import db
    from noxfx.service.runtime import EXTENSION_KEY

    app.extensions[EXTENSION_KEY].close()
    db.dispose(app)


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {
        "schema": _PROBLEM_REF}}}  # fmt: skip


#: What the request guard (noxfx.service.request_guard) refuses in any string: NUL.
_NO_NUL = "^[^\\u0000]*$"


def _strings_without_nul(node: Any) -> None:
    """Every plain string in a schema says what the guard enforces (no NUL character)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not ({"enum", "format", "pattern"} & node.keys()):
            node["pattern"] = _NO_NUL
        for value in node.values():
            _strings_without_nul(value)
    elif isinstance(node, list):
        for value in node:
            _strings_without_nul(value)


def _problem_json_in_spec(spec: Any) -> Any:
    """Error responses are application/problem+json; every API operation documents 429 and a
    default problem response; symbol path parameters carry their length limit; request bodies
    are required."""
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            for param in operation.get("parameters", []):
                if param.get("in") == "path" and param.get("name") == "symbol":
                    # the route converter is string(maxlength=40); document it
                    param.setdefault("schema", {}).update(minLength=1, maxLength=40)
            if "requestBody" in operation:  # a request without its JSON body is a 422: say so
                operation["requestBody"]["required"] = True
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if code == "default" or int(code) >= 400:
                    content = response.get("content", {})
                    if "application/json" in content:
                        content["application/problem+json"] = content.pop("application/json")
            if path.startswith("/api/"):
                responses.setdefault("429", _problem_response("Rate limit exceeded"))
            responses.setdefault("default", _problem_response("Error (RFC 9457 problem)"))
    _request_strings_without_nul(spec)
    return spec


def _request_strings_without_nul(spec: Any) -> None:
    """The no-NUL pattern on request schemas only (responses may echo what was refused)."""
    schemas = spec.get("components", {}).get("schemas", {})
    inputs: list[Any] = []
    for operations in spec.get("paths", {}).values():
        for method, operation in operations.items():
            if method in _HTTP_METHODS:
                inputs += [operation.get("parameters", []), operation.get("requestBody", {})]
    for name in _referenced(inputs, schemas):
        _strings_without_nul(schemas[name])
    _strings_without_nul(inputs)


def _referenced(nodes: Any, schemas: dict[str, Any]) -> set[str]:
    """Names of the component schemas ``nodes`` reference, transitively."""
    found: set[str] = set()
    todo = [nodes]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in found and name in schemas:
                    found.add(name)
                    todo.append(schemas[name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found


_DESCRIPTION = """NOX: forex market analysis and trading plans.

* Authentication: `POST /api/v1/auth/login` returns a 15-minute access token (send it as
  `Authorization: Bearer <token>`) and a 7-day refresh token, rotated on every
  `POST /api/v1/auth/refresh`; reusing a rotated refresh token ends that login everywhere.
* Errors are `application/problem+json` (RFC 9457) with a `detail` to act on and, for invalid
  input, `errors` by field.
* Rate limits (per user with a live session, else per client address; the anonymous auth
  routes always per address): auth 5/min, market data 100/min, trading 50/min, ML 20/min; see
  the `X-RateLimit-*` headers and `Retry-After` on 429.
* Input the service cannot hold is refused with a problem: JSON nested over 32 levels,
  integers beyond 64 bits, non-finite numbers, NUL or lone surrogates in any string, dates
  outside 1677-09-22..2262-04-11.
"""

__all__ = ["close_app", "create_app"]
