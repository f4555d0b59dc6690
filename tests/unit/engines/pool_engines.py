"""Tiny engines for the engine pool's tests: a size each, a record of loads and closes."""

from __future__ import annotations

from typing import ClassVar

from visiovox.engines.base import Engine

MIB = 1024 * 1024
EVENTS: list[str] = []


class SizedEngine(Engine):
    """Reports ``size_mib`` as its estimated size and records its lifecycle in ``EVENTS``."""

    size_mib: ClassVar[int] = 40

    def estimated_bytes(self) -> int:
        return self.size_mib * MIB

    def load(self) -> None:
        EVENTS.append(f"load {self.name}")

    def close(self) -> None:
        EVENTS.append(f"close {self.name}")


class EngineA(SizedEngine):
    name = "test.a"


class EngineB(SizedEngine):
    name = "test.b"


class EngineC(SizedEngine):
    name = "test.c"


class LargeEngine(SizedEngine):
    name = "test.large"
    size_mib = 70


class RemoteModelEngine(SizedEngine):
    """Needs the manifest model ``tiny`` (served by a loopback mirror in the tests)."""

    name = "test.remote"
    models = ("tiny",)

    def estimated_bytes(self) -> int:
        return Engine.estimated_bytes(self)
