"""Messages left under the fixed queue names of before, moved to the deployment's own.

Queue names were fixed strings (``vv.cpu``, ``vv.gpu``, ``vv.worker.<name>``)
whatever ``redis.prefix`` said; they now derive from it (``jobs/queues.py``).
With the default prefix nothing changes. A deployment with another prefix
may have messages waiting on a durable Redis under the old names, which its
workers no longer read: each worker moves them on start-up, before it consumes
(``worker/main.py``), so they run at once, in their order and at their priority.

Only messages whose job record is this deployment's move: a deployment on the
default prefix sharing the Redis keeps its own. Each message moves in one
script (removed from the old list, pushed onto the new one, or neither), so
workers starting together move each message once, without a lock, and one
that a worker of before took meanwhile is not pushed again. A message pushed
under an old name later (a gateway of before, during a rolling upgrade) is
found by the janitor's search for lost messages (``jobs/orphans.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from visiovox.jobs.janitor import fallback_queue
from visiovox.jobs.keys import as_text
from visiovox.jobs.queues import (
    DEFAULT_PREFIX,
    PRIORITY_STEPS,
    private_queue,
    queue_lists,
    shared_queues,
)
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.task_message import job_id_of, run_job_message

# KEYS: the old list, the new one; ARGV: the message, its copy for the new queue.
# Pushed at the consumers' end (RPUSH): it has already waited its turn.
MOVE_LUA = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1
"""


def legacy_queues(worker_names: Iterable[str]) -> list[str]:
    """The queues of before: the shared ones and those of ``worker_names``."""
    names = sorted(set(worker_names))
    return shared_queues(DEFAULT_PREFIX) + [
        private_queue(name, prefix=DEFAULT_PREFIX) for name in names
    ]


def move_legacy_messages(domain: JobDomain, *, worker_names: Iterable[str] = ()) -> list[str]:
    """Move this deployment's messages off the queues of before; returns their job ids.

    The old private queues looked at are those of ``worker_names`` and of every
    worker still registered. A message of a private queue goes to its job's
    shared queue, as the janitor hands back a lost worker's (its worker may be gone).
    """
    prefix = domain.keys.prefix
    if prefix == DEFAULT_PREFIX:
        return []  # the names of before are this deployment's own
    client = domain.redis
    registered = [as_text(name) for name in client.smembers(domain.keys.workers)]
    lists = [
        (position, name)
        for queue in legacy_queues([*worker_names, *registered])
        for position, name in enumerate(queue_lists(queue))
    ]
    pipe = client.pipeline(transaction=False)
    for _, name in lists:
        pipe.lrange(name, 0, -1)
    waiting: list[list[Any]] = pipe.execute()
    move = client.register_script(MOVE_LUA)
    moved: list[str] = []
    for (position, name), messages in zip(lists, waiting, strict=True):
        # Newest first (LPUSH's end): pushed in this order at the consumers' end,
        # the oldest is taken first, as it would have been.
        for message in messages:
            job = domain.store.get(job_id_of(message))
            if job is None:
                continue  # another deployment's, on the default prefix
            queue = fallback_queue(job, prefix=prefix)
            copy = run_job_message(job.id, queue=queue, priority=PRIORITY_STEPS[position])
            if move(keys=[name, queue_lists(queue)[position]], args=[message, copy]):
                moved.append(job.id)
    return moved
