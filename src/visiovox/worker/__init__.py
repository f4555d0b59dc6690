"""The worker: Celery app, ``run_job``, heartbeat, engine hosting."""
