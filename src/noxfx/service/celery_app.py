"""The Celery application object and its broker settings, apart from the tasks.

The API process only sends dispatches (:class:`noxfx.service.jobs.CeleryRunner`); the worker
(:mod:`noxfx.service.tasks`) registers the task on this same object. Keeping the object here
means the API side never imports the worker side (which builds the Flask app), so
``app -> jobs -> tasks -> app`` is not an import cycle.
"""

from __future__ import annotations

from celery import Celery

#: The Celery task every dispatch names, and the queue it goes to.
CELERY_TASK = "noxfx.run_job"
CELERY_QUEUE = "nox"

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


__all__ = ["CELERY_QUEUE", "CELERY_TASK", "celery_app", "configure_celery"]
