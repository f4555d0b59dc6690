"""Redis key names, in one place so every process agrees on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from visiovox.jobs.idempotency import scoped_key
from visiovox.jobs.queues import DEFAULT_PREFIX


@dataclass(frozen=True)
class RedisKeys:
    """Builds the deployment's Redis key names from its prefix (queue names: ``jobs/queues.py``)."""

    prefix: str = DEFAULT_PREFIX

    def job(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def lease(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}:lease"

    def events(self, job_id: str) -> str:
        return f"{self.prefix}:events:{job_id}"

    def session(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}"

    def session_history(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:history"

    def live_input(self, job_id: str) -> str:
        """A live session's stream from the client (through a gateway) to its worker."""
        return f"{self.prefix}:live:{job_id}:in"

    def live_output(self, job_id: str) -> str:
        """A live session's stream from its worker back to the gateway holding the socket."""
        return f"{self.prefix}:live:{job_id}:out"

    def owner_sessions(self, owner: str) -> str:
        return f"{self.prefix}:owner:{owner}:sessions"

    def owner_index(self, owner: str) -> str:
        return f"{self.prefix}:owner:{owner}"

    def idempotency(self, owner: str, key: str) -> str:
        """Hashed with the owner (``jobs/idempotency.py``): no key reaches another owner's."""
        return scoped_key(self.prefix, owner=owner, key=key)

    def worker(self, name: str) -> str:
        return f"{self.prefix}:worker:{name}"

    def voice(self, voice_id: str) -> str:
        """A registered voice's record (``jobs/voices.py``)."""
        return f"{self.prefix}:voice:{voice_id}"

    def queued(self, pipeline: str) -> str:
        """The pipeline's queued jobs (scored by creation time), for its queue-depth cap."""
        return f"{self.queued_prefix}{pipeline}"

    @property
    def queued_prefix(self) -> str:
        return f"{self.prefix}:queued:"

    def api_key(self, digest: str) -> str:
        return f"{self.prefix}:apikey:{digest}"

    @property
    def api_key_pattern(self) -> str:
        """Matches every API key's hash (``visiovox keys list``)."""
        return f"{self.prefix}:apikey:*"

    def rate(self, identity: str, kind: str) -> str:
        """A token bucket (``jobs/ratelimit.py``); ``identity``: ``key:<digest>``, ``addr:<ip>``."""
        return f"{self.prefix}:rate:{identity}:{kind}"

    def quota(self, owner: str) -> str:
        """The start of an owner's quota sets (``jobs/quotas.py``): ``...:queued``, ``:running``."""
        return f"{self.quota_prefix}{owner}:"

    @property
    def quota_prefix(self) -> str:
        return f"{self.prefix}:quota:"

    @property
    def running(self) -> str:
        return f"{self.prefix}:running"

    @property
    def owners(self) -> str:
        return f"{self.prefix}:owners"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    @property
    def notices(self) -> str:
        return f"{self.prefix}:notices"

    @property
    def stats(self) -> str:
        """Deployment-wide job counters and histograms (``jobs/stats.py``)."""
        return f"{self.prefix}:stats"

    @property
    def webhook_prefix(self) -> str:
        """The start of every webhook key (``jobs/webhook_outbox.py`` names the rest)."""
        return f"{self.prefix}:webhook:"

    def webhook_delivery(self, delivery_id: str) -> str:
        """One delivery's hash (its event, job, status and attempts)."""
        return f"{self.webhook_prefix}{delivery_id}"

    def webhook_log(self, job_id: str) -> str:
        """The job's delivery ids, oldest first."""
        return f"{self.webhook_prefix}job:{job_id}"

    @property
    def webhook_due(self) -> str:
        """The outbox: pending delivery ids scored by when each is next tried."""
        return f"{self.webhook_prefix}due"

    @property
    def stitch_waiting(self) -> str:
        """Segmented jobs whose stitch message was queued, scored by when (``jobs/segments.py``)."""
        return f"{self.prefix}:stitch_waiting"

    @property
    def webhook_lease(self) -> str:
        """Held by the one process delivering now (``webhooks/deliverer.py``)."""
        return f"{self.webhook_prefix}lease"

    @property
    def webhook_secret(self) -> str:
        """The deployment's generated signing secret, when none is configured."""
        return f"{self.webhook_prefix}secret"

    @property
    def webhook_stats(self) -> str:
        """Delivery counters and the latency histogram, for ``/metrics``."""
        return f"{self.webhook_prefix}stats"

    @property
    def janitor_lock(self) -> str:
        return f"{self.prefix}:janitor:lock"


def as_text(value: Any) -> str:
    """A Redis reply (bytes or str) as str."""
    return value.decode() if isinstance(value, bytes) else str(value)
