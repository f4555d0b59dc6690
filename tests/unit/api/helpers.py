"""Helpers shared by the gateway tests: a lazy-body client, a WAV maker, error checks."""

from __future__ import annotations

import io
import math
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import BaseModel, Field

from visiovox.api.app import create_app
from visiovox.config import Settings
from visiovox.media.kinds import MediaKind
from visiovox.pipelines.spec import InputSpec, PipelineSpec


@asynccontextmanager
async def asgi_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway driven by httpx in the test's event loop (streams request bodies lazily)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            yield http


class ListenParams(BaseModel):
    """Params of the test-only audio pipeline."""

    language: str = Field(default="en", min_length=2, max_length=8)


def _never_run(ctx: Any, params: BaseModel) -> None:
    raise AssertionError("no worker runs in the gateway tests")


LISTEN_SPEC = PipelineSpec(
    name="listen",
    summary="Test-only: takes one audio file and an optional image.",
    params=ListenParams,
    run=f"{__name__}:_never_run",
    inputs=(
        InputSpec(field="audio", kinds=frozenset({MediaKind.AUDIO})),
        InputSpec(field="picture", kinds=frozenset({MediaKind.IMAGE}), required=False),
    ),
)


def wav_bytes(seconds: float = 0.5, *, rate: int = 16_000) -> bytes:
    """A mono 16-bit PCM WAV holding a 440 Hz tone."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        sample = int(8000 * math.sin(2 * math.pi * 440 * n / rate))
        frames += sample.to_bytes(2, "little", signed=True)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the standard error shape with ``status`` and ``code``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return dict(body["error"])
