"""Sends jobs to the workers: pushes ``run_job(job_id)`` onto a queue's priority list.

The gateway's submissions go through ``JobStore.create`` (record and message in
one script); this is for the janitor and the workers, which re-dispatch jobs
that already exist: a lost worker's job, a draining worker's private queue.
"""

from __future__ import annotations

import redis

from visiovox.jobs.queues import Priority, priority_list, queue_lists
from visiovox.jobs.task_message import job_id_of, run_job_message


class Dispatcher:
    """Pushes ``run_job`` messages (carrying only the job id) onto Celery queues in Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def dispatch(
        self, job_id: str, *, queue: str, priority: Priority = Priority.NORMAL, first: bool = False
    ) -> None:
        """Push the message now, onto ``queue``'s list for ``priority``.

        ``first``: at the consumers' end (kombu's ``BRPOP`` takes from the right),
        for a job that has already waited its turn.
        """
        message = run_job_message(job_id, queue=queue, priority=priority.step)
        name = priority_list(queue, priority)
        if first:
            self._redis.rpush(name, message)
        else:
            self._redis.lpush(name, message)

    def drain_queue(self, queue: str) -> list[str]:
        """Take every message off ``queue`` (all priorities); returns their job ids."""
        job_ids: list[str] = []
        for name in queue_lists(queue):
            while (message := self._redis.rpop(name)) is not None:
                job_ids.append(job_id_of(message))  # type: ignore[arg-type]
        return job_ids

    def depth(self, queue: str) -> int:
        """Messages waiting on ``queue``, all priorities."""
        pipe = self._redis.pipeline(transaction=False)
        for name in queue_lists(queue):
            pipe.llen(name)
        return sum(int(n) for n in pipe.execute())
