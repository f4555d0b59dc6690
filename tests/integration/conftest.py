"""Fixtures that start real deployments (Redis, gateway, workers as processes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.integration.stack import Stack, live_assistant_url


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One deployment shared by the tests that do not break it: auth on, two owners."""
    deployment = Stack(
        tmp_path_factory.mktemp("stack"),
        settings={"VISIOVOX_AUTH__ENABLED": "on", "VISIOVOX_UPLOADS__MAX_BYTES": "3000000"},
    )
    try:
        deployment.start(owners=("alice", "bob"))
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def live(stack: Stack) -> Iterator[ClientConnection]:
    """A live assistant socket on the shared stack, as alice."""
    with connect(live_assistant_url(stack), max_size=None) as socket:
        yield socket


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Private deployments for tests that kill workers or stop Redis."""
    started: list[Stack] = []

    def make(
        *, workers: int = 1, settings: dict[str, str] | None = None, persist_redis: bool = False
    ) -> Stack:
        deployment = Stack(
            tmp_path / f"stack{len(started)}", settings=settings, persist_redis=persist_redis
        )
        deployment.root.mkdir()
        started.append(deployment)
        return deployment.start(workers=workers)

    yield make
    for deployment in started:
        deployment.stop()
