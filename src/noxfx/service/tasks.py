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

from celery import Celery
from celery.signals import worker_process_init, worker_ready, worker_shutdown

from noxfx.service.app import create_app
from noxfx.service.jobs import CELERY_QUEUE, CELERY_TASK, Janitor, run_next_job
from noxfx.service.runtime import runtime

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
    broker_connection_timeout=2,  # a dead broker fails a submission in seconds (503)
    broker_transport_options={"socket_connect_timeout": 2},
    worker_hijack_root_logger=False,
)
_app: Flask | None = None
_settings: ServiceSettings | None = None
_janitor: Janitor | None = None


def configure_celery(redis_url: str) -> Celery:
    """Point the Celery app at the Redis broker (dropping connections to another one: the
    Celery app is module level, and its pools would keep sending to the old broker)."""
    if celery_app.conf.broker_url != redis_url:
        pool = celery_app._pool
        if pool is not None:
            pool.force_close_all()
        celery_app._pool = None
        amqp = celery_app.__dict__.get("amqp")
        if amqp is not None:
            amqp._producer_pool = None
    celery_app.conf.broker_url = redis_url
    return celery_app


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
