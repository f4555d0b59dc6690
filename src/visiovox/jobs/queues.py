"""Queue names and priorities, laid out exactly as kombu's Redis transport keeps them.

Every worker consumes the shared queue of its device class (``<prefix>.cpu``,
``<prefix>.gpu``) and its own private queue (``<prefix>.worker.<name>``, for
engine affinity), under the deployment's ``redis.prefix`` so that deployments
can share one Redis; the default prefix ``vv`` gives the names of before, when
they were fixed strings (``jobs/legacy_queues.py``). kombu's Redis transport
stores each queue as one list per priority step (``kombu/transport/redis.py``:
``priority_steps = [0, 3, 6, 9]``, ``_q_for_pri``): step 0 is the queue's own
name, the others append ``sep + str(step)``. A consumer's ``BRPOP`` names the
lists step by step, ``[q for pri in steps for q in queues]``, so step 0 is
served first: with Redis, the *lower* number is the *higher* priority.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# kombu.transport.redis.Channel.sep and PRIORITY_STEPS (kombu 5.x).
KOMBU_SEP = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)

# The prefix of a deployment that sets none (``redis.prefix``): its queues keep the
# names every deployment used when they were fixed strings.
DEFAULT_PREFIX = "vv"


class Priority(enum.StrEnum):
    """A job's priority, as clients name it."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def step(self) -> int:
        """The kombu priority step: the message's ``priority`` property."""
        return _STEPS[self]


_STEPS = {Priority.HIGH: 0, Priority.NORMAL: 3, Priority.LOW: 6}


class DeviceClass(enum.StrEnum):
    """What a worker runs on; each class has one shared queue."""

    CPU = "cpu"
    GPU = "gpu"


def device_class(device: str) -> DeviceClass:
    """``cpu`` for the CPU, ``gpu`` for ``cuda:N``."""
    return DeviceClass.CPU if device == "cpu" else DeviceClass.GPU


def shared_queue(device_class: str, *, prefix: str) -> str:
    """The queue every worker of a device class (``cpu``, ``gpu``) consumes: ``<prefix>.cpu``."""
    return f"{prefix}.{device_class}"


def shared_queues(prefix: str) -> list[str]:
    """The shared queue of every device class."""
    return [shared_queue(device, prefix=prefix) for device in DeviceClass]


def is_shared_queue(queue: str, *, prefix: str) -> bool:
    """Whether ``queue`` is a shared queue under ``prefix`` (``<prefix>.<class>``)."""
    rest = queue.removeprefix(f"{prefix}.")
    return rest != queue and rest != "" and "." not in rest


def private_queue(worker_name: str, *, prefix: str) -> str:
    """The queue only the worker ``worker_name`` consumes (for engine affinity)."""
    return f"{prefix}.worker.{worker_name}"


def priority_list(queue: str, priority: Priority) -> str:
    """The Redis list that holds ``queue``'s messages of ``priority``."""
    step = priority.step
    return f"{queue}{KOMBU_SEP}{step}" if step else queue


def queue_lists(queue: str) -> list[str]:
    """Every Redis list of ``queue``, highest priority first (as a consumer reads them)."""
    return [f"{queue}{KOMBU_SEP}{step}" if step else queue for step in PRIORITY_STEPS]


@dataclass(frozen=True)
class Route:
    """Where one job goes: its device class, its queue and its priority."""

    device_class: DeviceClass
    queue: str
    priority: Priority = Priority.NORMAL
    # The idle worker chosen for engine affinity (``queue`` is then its private queue).
    worker: str | None = None
    # The deployment's redis.prefix, which names the fallback of a private route.
    prefix: str = DEFAULT_PREFIX

    @property
    def shared(self) -> str:
        """The shared queue of the job's device class: the fallback of a private route."""
        return shared_queue(self.device_class, prefix=self.prefix)
