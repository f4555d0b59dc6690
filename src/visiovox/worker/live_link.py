"""The worker's end of a live session: the session's capped Redis streams and its history.

Reads ``live:<job>:in`` with ``XREAD BLOCK`` from where it left off; writes
``live:<job>:out`` with ``XADD MAXLEN ~`` (drop-oldest), numbering its entries
so the gateway can count what the cap drops on the way out. Gaps in the
numbers the gateway gives its entries are what the cap dropped before this end
read them. Both streams expire ``ttl_s`` after their last write and are deleted
when the session's job ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import redis

from visiovox.config import Settings
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.live_streams import EntryKind, LiveEntry
from visiovox.jobs.sessions import queue_append
from visiovox.pipelines.context import LiveInput

LiveLinkFactory = Callable[[str], "RedisLiveLink"]


class RedisLiveLink:
    """A ``LiveLink`` over Redis streams, for the job ``job_id``."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        keys: RedisKeys,
        job_id: str,
        maxlen: int,
        ttl_s: int,
        max_history: int,
        session_ttl_s: int,
    ) -> None:
        self._redis = client
        self._keys = keys
        self._in = keys.live_input(job_id)
        self._out = keys.live_output(job_id)
        self._maxlen = maxlen
        self._ttl_s = ttl_s
        self._max_history = max_history
        self._session_ttl_s = session_ttl_s
        self._last_id = b"0-0"
        self._last_seq = 0
        self._dropped = 0
        self._sent_seq = 0

    @property
    def dropped(self) -> int:
        return self._dropped

    def receive(self, *, timeout_s: float) -> list[LiveInput]:
        block = int(timeout_s * 1000) if timeout_s > 0 else None
        reply = cast(
            list[tuple[Any, list[tuple[bytes, dict[Any, Any]]]]],
            self._redis.xread({self._in: self._last_id}, block=block),
        )
        inputs: list[LiveInput] = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                self._last_id = entry_id
                entry = LiveEntry.from_fields(fields)
                lost = max(0, entry.seq - self._last_seq - 1)
                self._dropped += lost
                self._last_seq = max(self._last_seq, entry.seq)
                if entry.kind is EntryKind.MESSAGE:
                    inputs.append(
                        LiveInput(command=entry.payload(), frames=entry.frames, lost=lost)
                    )
                else:
                    video = entry.kind is EntryKind.FRAME
                    inputs.append(
                        LiveInput(audio=entry.data, video=video, frames=entry.frames, lost=lost)
                    )
        return inputs

    def send(self, message: dict[str, Any]) -> None:
        self._add(LiveEntry.message(message))

    def send_audio(self, data: bytes) -> None:
        self._add(LiveEntry.audio(data))

    def _add(self, entry: LiveEntry) -> None:
        self._sent_seq += 1
        numbered = LiveEntry(entry.kind, entry.data, self._sent_seq)
        pipe = self._redis.pipeline(transaction=False)
        pipe.xadd(self._out, numbered.fields(), maxlen=self._maxlen, approximate=True)  # type: ignore[arg-type]
        pipe.expire(self._out, self._ttl_s)
        pipe.execute()

    def remember(self, session_id: str, messages: list[dict[str, str]]) -> None:
        if not self._redis.exists(self._keys.session(session_id)):
            return  # ended or expired meanwhile: nothing to extend
        pipe = self._redis.pipeline(transaction=True)
        queue_append(
            pipe,
            keys=self._keys,
            session_id=session_id,
            messages=messages,
            max_messages=self._max_history,
            ttl_s=self._session_ttl_s,
        )
        pipe.execute()

    def close(self) -> None:
        """Drop the input stream; the output one stays until the gateway has relayed it."""
        self._redis.delete(self._in)


def live_links(settings: Settings, client: redis.Redis, keys: RedisKeys) -> LiveLinkFactory:
    """Builds the link of each live job this worker hosts."""

    def build(job_id: str) -> RedisLiveLink:
        return RedisLiveLink(
            client,
            keys=keys,
            job_id=job_id,
            maxlen=settings.live.stream_maxlen,
            ttl_s=int(settings.live.idle_timeout_s) + 60,
            max_history=settings.assistant.max_history_messages,
            session_ttl_s=settings.assistant.session_ttl_s,
        )

    return build
