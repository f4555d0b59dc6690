"""Voice assistant sessions in Redis: an owner, a voice, and a capped, expiring history.

A session is a hash (``<prefix>:session:<id>``) and a list of JSON messages
(``...:history``); both expire ``assistant.session_ttl_s`` after the last turn.
The history keeps the newest ``assistant.max_history_messages`` messages; the
system prompt lives in the hash, so trimming never drops it. The gateway
keeps sessions through ``SessionStore``; a worker hosting a live session
extends the history with ``queue_append``, the same commands on its own client.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio
from pydantic import BaseModel, ConfigDict, Field

from visiovox.config import AssistantSettings
from visiovox.jobs.ids import new_id
from visiovox.jobs.keys import RedisKeys, as_text


def queue_append(
    pipe: Any,
    *,
    keys: RedisKeys,
    session_id: str,
    messages: list[dict[str, str]],
    max_messages: int,
    ttl_s: int,
) -> None:
    """Queue on ``pipe``: add ``messages``, trim the history, renew the session's TTL.

    ``pipe`` is a sync or an asyncio Redis pipeline (they share the methods), so
    the push, the trim to the newest ``max_messages`` and the renewal land together.
    """
    history = keys.session_history(session_id)
    pipe.rpush(history, *(json.dumps(m, ensure_ascii=False) for m in messages))
    pipe.ltrim(history, -max_messages, -1)
    pipe.expire(history, ttl_s)
    pipe.expire(keys.session(session_id), ttl_s)


class SessionOptions(BaseModel):
    """What a client may choose for a new session (REST body or live ``start_session``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    system_prompt: str | None = Field(default=None, max_length=4_000)
    voice: str | None = Field(default=None, max_length=64)
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}$", description="Spoken language; empty: detected."
    )


@dataclass(frozen=True)
class Session:
    """One conversation and its history (oldest message first, system prompt apart)."""

    id: str
    owner: str
    system_prompt: str
    voice: str | None
    language: str | None
    created_at: float
    messages: list[dict[str, str]] = field(default_factory=list)

    def conversation(self) -> list[dict[str, str]]:
        """The history as the LLM reads it: the system prompt, then the messages."""
        return [{"role": "system", "content": self.system_prompt}, *self.messages]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "assistant.session",
            "system_prompt": self.system_prompt,
            "voice": self.voice,
            "language": self.language,
            "created_at": int(self.created_at),
            "messages": self.messages,
        }


class SessionStore:
    """Creates, reads, extends and deletes sessions on the gateway's asyncio Redis client."""

    def __init__(
        self, client: redis.asyncio.Redis, *, keys: RedisKeys, settings: AssistantSettings
    ) -> None:
        self._redis = client
        self._keys = keys
        self._settings = settings

    async def create(
        self,
        *,
        owner: str,
        system_prompt: str | None = None,
        voice: str | None = None,
        language: str | None = None,
    ) -> Session:
        session = Session(
            id=new_id(),
            owner=owner,
            system_prompt=system_prompt or self._settings.system_prompt,
            voice=voice,
            language=language,
            created_at=time.time(),
        )
        key = self._keys.session(session.id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "owner": owner,
                    "system_prompt": session.system_prompt,
                    "voice": voice or "",
                    "language": language or "",
                    "created_at": repr(session.created_at),
                },
            )
            pipe.expire(key, self._settings.session_ttl_s)
            pipe.zadd(self._keys.owner_sessions(owner), {session.id: session.created_at})
            await pipe.execute()
        return session

    async def for_owner(self, owner: str) -> list[Session]:
        """The owner's live sessions, newest first; expired ones leave the index here."""
        index = self._keys.owner_sessions(owner)
        ids = [as_text(raw) for raw in await self._redis.zrevrange(index, 0, -1)]
        sessions, expired = [], []
        for session_id in ids:
            session = await self.get(session_id, owner)
            if session is None:
                expired.append(session_id)
            else:
                sessions.append(session)
        if expired:
            await self._redis.zrem(index, *expired)
        return sessions

    async def get(self, session_id: str, owner: str) -> Session | None:
        """The caller's session, or None (another owner's session is None too)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._keys.session(session_id))
            pipe.lrange(self._keys.session_history(session_id), 0, -1)
            raw, history = await pipe.execute()
        if not raw:
            return None
        fields = {as_text(k): as_text(v) for k, v in raw.items()}
        if fields.get("owner") != owner:
            return None
        return Session(
            id=session_id,
            owner=owner,
            system_prompt=fields.get("system_prompt", ""),
            voice=fields.get("voice") or None,
            language=fields.get("language") or None,
            created_at=float(fields.get("created_at", "0")),
            messages=[json.loads(as_text(item)) for item in history],
        )

    async def append(self, session_id: str, messages: list[dict[str, str]]) -> None:
        """Add messages, trim to the cap and renew the session's lifetime."""
        async with self._redis.pipeline(transaction=True) as pipe:
            queue_append(
                pipe,
                keys=self._keys,
                session_id=session_id,
                messages=messages,
                max_messages=self._settings.max_history_messages,
                ttl_s=self._settings.session_ttl_s,
            )
            await pipe.execute()

    async def delete(self, session: Session) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._keys.session(session.id), self._keys.session_history(session.id))
            pipe.zrem(self._keys.owner_sessions(session.owner), session.id)
            await pipe.execute()
