"""The ``visiovox.run_job`` message, exactly as Celery's Redis transport stores it.

Building it ourselves lets the gateway push it in the same Redis transaction
that creates the job: the record and its task land together (no job without a
task, no task without a job) in one round trip, instead of Celery's
``send_task`` costing a second one and ~0.5 ms of Python per submission.
The format is Celery's task protocol 2 wrapped in kombu's virtual-transport
envelope on the anonymous exchange (the routing key is the queue).
``tests/unit/jobs/test_task_message.py`` checks it against ``send_task``'s own.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from typing import Any

RUN_JOB_TASK = "visiovox.run_job"

_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
_ORIGIN = f"{os.getpid()}@{socket.gethostname()}"


def run_job_message(job_id: str, *, queue: str, priority: int = 0) -> str:
    """The serialized message that makes a worker run ``run_job(job_id)``.

    ``priority`` is kombu's step (``Priority.step``); it travels in the message's
    properties, and the message belongs on ``priority_list(queue, ...)``.
    """
    task_id = str(uuid.uuid4())
    body = json.dumps([[job_id], {}, _EMBED]).encode()
    return json.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "py",
                "task": RUN_JOB_TASK,
                "id": task_id,
                "shadow": None,
                "eta": None,
                "expires": None,
                "group": None,
                "group_index": None,
                "retries": 0,
                "timelimit": [None, None],
                "root_id": task_id,
                "parent_id": None,
                "argsrepr": repr([job_id]),
                "kwargsrepr": "{}",
                "origin": _ORIGIN,
                "ignore_result": True,
                "replaced_task_nesting": 0,
                "stamped_headers": None,
                "stamps": {},
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": None,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": priority,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


def job_id_of(message: str | bytes | dict[str, Any]) -> str:
    """The job id a ``run_job`` message carries (to re-route it elsewhere): the message as
    a queue holds it (JSON text), or decoded, as kombu's unacked entries hold it."""
    payload = message if isinstance(message, dict) else json.loads(message)
    args, _kwargs, _embed = json.loads(base64.b64decode(payload["body"]))
    return str(args[0])
