"""The Celery side of the job runner: the Celery app, its one task and the worker's janitor.

``noxfx worker`` (:func:`noxfx.service.server.worker`) starts a Celery worker on the ``nox``
queue of the Redis broker. Each message is a dispatch (:mod:`noxfx.service.jobs`): the task
builds the service app once per worker process (same settings, same database) and runs
:func:`noxfx.service.jobs.run_next_job` in its context, which claims the fairest queued job
from the database -- not necessarily the one whose submission sent the message. When the
worker is ready, its main process starts a :class:`~noxfx.service.jobs.Janitor` that recovers
jobs whose worker died (lease expired) and re-dispatches queued jobs whose message was lost.
Job state lives in the database, so Celery keeps no results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from celery.signals import worker_process_init, worker_ready, worker_shutdown

from noxfx.service.app import create_app
from noxfx.service.celery_app import celery_app, configure_celery
from noxfx.service.jobs import CELERY_TASK, Janitor, run_next_job
from noxfx.service.runtime import runtime

if TYPE_CHECKING:
    from flask import Flask

    from noxfx.service.settings import ServiceSettings

_app: Flask | None = None
_settings: ServiceSettings | None = None
_janitor: Janitor | None = None


def use_settings(settings: ServiceSettings) -> None:
    """Settings for the app the tasks run in (default: from the environment)."""
    global _settings
    _settings = settings


def flask_app() -> Flask:
    """The service app of this worker process (built on first use)."""
    global _app
    if _app is None:
        _app = create_app(_settings)
    return _app


@worker_process_init.connect
def _forked(**_: Any) -> None:
    # a prefork child must not share its parent's engine and sockets: it builds its own app
    global _app
    _app = None


@worker_ready.connect
def _start_janitor(**_: Any) -> None:
    global _janitor
    app = flask_app()
    with app.app_context():
        _janitor = Janitor(app, runtime().jobs)


@worker_shutdown.connect
def _stop_janitor(**_: Any) -> None:
    if _janitor is not None:
        _janitor.close()


@celery_app.task(name=CELERY_TASK)
def run_job(job_id: str) -> None:
    """Claim and run the fairest queued job (``job_id``: the job whose submission sent this
    dispatch; a hint only)."""
    with flask_app().app_context():
        run_next_job()


__all__ = ["celery_app", "configure_celery", "flask_app", "run_job", "use_settings"]
