"""The Celery app shared by the gateway (to send) and the workers (to run).

Celery dispatches; the job record is the source of truth. Tasks carry only the
job id, are acknowledged late and rejected when a worker is lost, one at a time.
"""

from __future__ import annotations

from celery import Celery

from visiovox.config import Settings
from visiovox.jobs.redis_client import redis_url


def broker_url(settings: Settings) -> str:
    """The Redis URL in the form kombu wants (``redis+socket://`` for a unix socket)."""
    url = redis_url(settings)
    if url.startswith("unix://"):
        return "redis+socket://" + url.removeprefix("unix://")
    return url


def make_celery(settings: Settings) -> Celery:
    """A configured Celery app for ``settings``."""
    app = Celery("visiovox", broker=broker_url(settings), set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.worker.visibility_timeout_s,
            "socket_timeout": settings.redis.socket_timeout_s,
            "socket_connect_timeout": settings.redis.connect_timeout_s,
        },
        worker_hijack_root_logger=False,
        # Off unless Flower watches (worker.celery_events): they cost Redis traffic per task.
        worker_send_task_events=settings.worker.celery_events,
        task_send_sent_event=False,
        worker_enable_remote_control=settings.worker.celery_events,
        broker_heartbeat=0,
        # A running job outlives a broker outage (worker/redis_outage.py holds its ack
        # until Redis is back); stated, as Celery 6 changes the default to cancelling.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app
