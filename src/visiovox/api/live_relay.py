"""The gateway's end of a live session: client messages into the input stream, output relayed.

The gateway stays light: it never decodes audio or runs a model. What the
client sends is ``XADD``ed (numbered, ``MAXLEN ~``: drop-oldest) to the
session job's input stream; what the worker ``XADD``s (numbered too) to the
output stream is read with ``XREAD BLOCK`` and sent on, and the gaps in its
numbers are counted as ``dropped``: what the cap lost before the client got
it. Both streams are deleted when the socket closes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

import redis.asyncio

from visiovox.config import LiveSettings
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.live_streams import LiveEntry


class LiveRelay:
    """Both streams of one live session's job, on the gateway's asyncio client."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        keys: RedisKeys,
        job_id: str,
        maxlen: int,
        ttl_s: int,
    ) -> None:
        self._redis = client
        self._in = keys.live_input(job_id)
        self._out = keys.live_output(job_id)
        self._maxlen = maxlen
        self._ttl_s = ttl_s
        self._seq = 0
        self._last_id: bytes | str = "0-0"
        self._last_out_seq = 0
        self.dropped = 0

    async def push(self, entry: LiveEntry) -> None:
        """Add a client message (numbered, so the worker can count what the cap drops)."""
        self._seq += 1
        numbered = replace(entry, seq=self._seq)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(self._in, numbered.fields(), maxlen=self._maxlen, approximate=True)  # type: ignore[arg-type]
            pipe.expire(self._in, self._ttl_s)
            await pipe.execute()

    async def pull(self, *, block_ms: int) -> list[LiveEntry]:
        """The worker's messages after the last ones read, waiting up to ``block_ms``."""
        reply = cast(
            list[tuple[Any, list[tuple[Any, dict[Any, Any]]]]],
            await self._redis.xread({self._out: self._last_id}, block=block_ms),
        )
        entries: list[LiveEntry] = []
        for _stream, items in reply or []:
            for entry_id, fields in items:
                self._last_id = entry_id
                entry = LiveEntry.from_fields(fields)
                if entry.seq > self._last_out_seq + 1:
                    self.dropped += entry.seq - self._last_out_seq - 1
                self._last_out_seq = max(self._last_out_seq, entry.seq)
                entries.append(entry)
        return entries

    async def close(self) -> None:
        await self._redis.delete(self._in, self._out)


@dataclass(frozen=True)
class LiveRelays:
    """Opens the relay of each live session's job, capped as ``live.*`` settings say."""

    client: redis.asyncio.Redis
    keys: RedisKeys
    settings: LiveSettings

    def open(self, job_id: str) -> LiveRelay:
        return LiveRelay(
            self.client,
            keys=self.keys,
            job_id=job_id,
            maxlen=self.settings.stream_maxlen,
            # Renewed by each push; a minute past the idle timeout they expire undeleted.
            ttl_s=int(self.settings.idle_timeout_s) + 60,
        )
