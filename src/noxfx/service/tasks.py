"""The Celery side of the job runner: the Celery app and its one task.

``noxfx worker`` (:func:`noxfx.service.server.worker`) starts a Celery worker on the ``nox``
queue of the Redis broker. The task builds the service app once per worker process (same
settings, same database) and runs :func:`noxfx.service.jobs.execute_job` in its context. Job
state lives in the database, so Celery keeps no results.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from celery import Celery

from noxfx.service.jobs import CELERY_QUEUE, CELERY_TASK

if TYPE_CHECKING:
    from flask import Flask

    from noxfx.service.settings import ServiceSettings

celery_app = Celery("noxfx", set_as_current=False)
celery_app.conf.update(
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue=CELERY_QUEUE,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
_app: Flask | None = None
_settings: ServiceSettings | None = None


def configure_celery(redis_url: str) -> Celery:
    """Point the Celery app at the Redis broker."""
    celery_app.conf.broker_url = redis_url
    return celery_app


def use_settings(settings: ServiceSettings) -> None:
    """Settings for the app the tasks run in (default: from the environment)."""
    global _settings
    _settings = settings


def _flask_app() -> Flask:
    global _app
    if _app is None:
        from noxfx.service.app import create_app

        _app = create_app(_settings)
    return _app


@celery_app.task(name=CELERY_TASK)
def run_job(job_id: str) -> None:
    """Execute one job by id (the task every runner submission becomes)."""
    from noxfx.service.jobs import execute_job

    with _flask_app().app_context():
        execute_job(uuid.UUID(job_id))


__all__ = ["celery_app", "configure_celery", "run_job", "use_settings"]
