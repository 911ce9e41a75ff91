"""Entry points for the CLI: ``serve`` (the API under gunicorn), ``worker`` (Celery jobs),
``migrate`` and ``set_role`` (bootstrap the first admin).

The CLI wires them as ``noxfx serve``, ``noxfx worker``, ``noxfx db upgrade`` and
``noxfx users set-role``; each takes explicit arguments and reads everything else from the
``NOX_*`` environment (:class:`~noxfx.service.settings.ServiceSettings`).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from noxfx.service.settings import ConfigurationError, ServiceSettings


def migrate(settings: ServiceSettings | None = None) -> str:
    """Run ``alembic upgrade head`` on the configured database; returns the revision."""
    from noxfx.service.db import make_engine
    from noxfx.service.migrate import current_revision, upgrade

    settings = settings or ServiceSettings()
    settings.home.expanduser().mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        return current_revision(engine) or ""
    finally:
        engine.dispose()


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    workers: int | None = None,
    threads: int = 32,
    dev: bool = False,
    settings: ServiceSettings | None = None,
) -> None:
    """Serve the API until interrupted.

    ``dev=True`` uses Flask's development server with the debugger (never in production);
    otherwise gunicorn with ``workers`` processes (default: CPU count + 1) of ``threads``
    threads each. Migrations run once before the workers start.
    """
    settings = settings or ServiceSettings()
    settings.check_production()
    if dev:
        if settings.is_production:
            raise ConfigurationError("dev=True (the Flask debugger) is refused in production.")
        from noxfx.service.app import create_app

        create_app(settings).run(host=host, port=port, debug=True, use_reloader=False)
        return
    migrate(settings)
    embedded = settings.stream_embedded == "on" or (
        settings.stream_embedded == "auto" and not settings.redis_url
    )
    # embedded mode: one process holds the replay stream and every live client; elsewhere
    # one process per core (websocket clients; long polling would need sticky sessions)
    n_workers = workers or (1 if embedded else (os.cpu_count() or 1) + 1)
    threads = max(threads, 32) if embedded else threads
    if n_workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="nox-prom-")
    _Gunicorn(settings, {
        "bind": f"{host}:{port}", "workers": n_workers, "threads": threads,
        "worker_class": settings.web_worker, "worker_connections": 10_000, "timeout": 60,
        "graceful_timeout": 20, "keepalive": 5,
        "accesslog": None, "errorlog": "-", "logconfig_dict": _GUNICORN_LOGGING,
        "child_exit": _child_exit, "proc_name": "noxfx-api",
    }).run()  # fmt: skip


def _child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


_GUNICORN_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "noxfx.service.observability.JsonFormatter"}},
    "filters": {"rid": {"()": "noxfx.service.observability.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                             "filters": ["rid"], "stream": "ext://sys.stderr"}},
    "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
                "gunicorn.access": {"handlers": ["console"], "level": "WARNING",
                                    "propagate": False}},
}  # fmt: skip


def _gunicorn_base() -> type:
    from gunicorn.app.base import BaseApplication

    return BaseApplication


class _Gunicorn(_gunicorn_base()):  # type: ignore[misc]
    """gunicorn running ``create_wsgi(settings)`` (the app behind Socket.IO) in each worker (no
    preload: each worker owns its engine, job threads, Redis pools and live feed)."""

    def __init__(self, settings: ServiceSettings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from noxfx.service.realtime import create_wsgi

        return create_wsgi(self._settings)


def worker(
    *,
    concurrency: int = 2,
    loglevel: str = "INFO",
    pool: str = "prefork",
    settings: ServiceSettings | None = None,
) -> None:
    """Run a Celery worker for the job queue until interrupted (needs ``NOX_REDIS_URL``).

    ``pool``: ``prefork`` (processes, default), ``threads`` or ``solo``.
    """
    from noxfx.service import tasks as celery_worker

    settings = settings or ServiceSettings()
    settings.check_production()
    if not settings.redis_url:
        raise ConfigurationError(
            "`noxfx worker` needs NOX_REDIS_URL (the job broker). Without Redis, jobs run "
            "inside `noxfx serve` on threads."
        )
    migrate(settings)
    celery_worker.use_settings(settings.model_copy(update={"job_backend": "celery"}))
    celery_worker.configure_celery(settings.redis_url)
    celery_worker.celery_app.worker_main([
        "worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}",
        f"--pool={pool}", "-Q", "nox", "--without-gossip", "--without-mingle",
    ])  # fmt: skip


def set_role(email: str, role: str, settings: ServiceSettings | None = None) -> str:
    """Give an account a role (``basic``, ``premium``, ``analyst``, ``admin``); returns it."""
    from noxfx.service.app import close_app, create_app
    from noxfx.service.services.admin import set_role as _set_role

    settings = settings or ServiceSettings()
    if "NOX_LOG_LEVEL" not in os.environ:  # a CLI command: no service log lines on the terminal
        settings = settings.model_copy(update={"log_level": "WARNING"})
    app = create_app(settings)
    try:
        with app.app_context():
            return _set_role(email, role).role
    finally:
        close_app(app)


__all__ = ["migrate", "serve", "set_role", "worker"]
