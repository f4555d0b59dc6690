"""Idempotency keys: one client's retries of one submission answer with one job.

A key is scoped to its owner by hashing the pair, so no owner name or key
(``a:b`` with ``k2`` against ``a`` with ``b:k2``) can reach another owner's
entry. The entry holds the job id and a digest of what was asked (pipeline,
priority, validated params, the SHA-256 of every uploaded file): a retry with
the same key and the same request replays the first job; the same key with a
different request is a conflict, as payment APIs answer it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class IdempotencyConflict(Exception):
    """The key was used before by this owner for a different request."""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            f"this Idempotency-Key was used for another request (job {job_id}); "
            "send a new key for a new request"
        )
        self.job_id = job_id


def scoped_key(prefix: str, *, owner: str, key: str) -> str:
    """The Redis key of ``owner``'s idempotency ``key``: unambiguous whatever either holds."""
    pair = json.dumps([owner, key], ensure_ascii=False).encode()
    return f"{prefix}:idem:{hashlib.sha256(pair).hexdigest()}"


def request_digest(
    *,
    pipeline: str,
    priority: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, str | None],
) -> str:
    """A digest of a submission: equal for a retry, different for any other request.

    ``inputs`` maps each file field to its SHA-256.
    """
    canonical = json.dumps(
        {"pipeline": pipeline, "priority": priority, "params": params, "inputs": inputs},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencyEntry:
    """What an idempotency key stores: the first job and the digest of its request."""

    job_id: str
    digest: str | None

    def encode(self) -> str:
        return f"{self.job_id} {self.digest or ''}".rstrip()

    @classmethod
    def decode(cls, raw: str) -> IdempotencyEntry:
        """An entry as stored; one written before digests were kept has none."""
        job_id, _, digest = raw.partition(" ")
        return cls(job_id=job_id, digest=digest or None)

    def replay_or_conflict(self, *, digest: str | None) -> str:
        """The job id to replay; ``IdempotencyConflict`` when the requests differ."""
        if self.digest is not None and digest is not None and self.digest != digest:
            raise IdempotencyConflict(self.job_id)
        return self.job_id
