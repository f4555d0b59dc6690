"""SessionStore on a real Redis: owners, a capped history that keeps the system prompt, expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.unit.jobs.helpers import async_client
from visiovox.config import AssistantSettings
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.sessions import SessionStore


@pytest.fixture
async def sessions(domain: JobDomain) -> AsyncIterator[SessionStore]:
    client = async_client(domain)
    settings = AssistantSettings(system_prompt="Be brief.", max_history_messages=3)
    yield SessionStore(client, keys=domain.keys, settings=settings)
    await client.aclose()


@pytest.mark.anyio
async def test_the_history_keeps_the_newest_messages_and_the_system_prompt(
    sessions: SessionStore,
) -> None:
    session = await sessions.create(owner="alice", voice="joe")
    for n in range(4):
        await sessions.append(session.id, [{"role": "user", "content": str(n)}])
    stored = await sessions.get(session.id, "alice")
    assert stored is not None and stored.voice == "joe" and stored.language is None
    assert [m["content"] for m in stored.messages] == ["1", "2", "3"]
    assert stored.conversation()[0] == {"role": "system", "content": "Be brief."}


@pytest.mark.anyio
async def test_another_owner_sees_no_session_and_a_deleted_one_is_gone(
    sessions: SessionStore,
) -> None:
    first = await sessions.create(owner="alice")
    second = await sessions.create(owner="alice", system_prompt="Speak French.")
    assert await sessions.get(first.id, "bob") is None
    assert [s.id for s in await sessions.for_owner("alice")] == [second.id, first.id]
    await sessions.delete(first)
    assert await sessions.get(first.id, "alice") is None
    assert [s.id for s in await sessions.for_owner("alice")] == [second.id]
