"""The submission check of a registered voice named by a job (``voice-convert``'s ``voice``).

A job may name only a voice of its own owner that finished validation: another
owner's id, or one unknown, answers 404 ``voice_not_found`` (ids do not leak),
one still being validated 409 ``voice_not_ready``. ``tts`` has a ``voice``
param too (a Piper voice's name), so only the pipelines listed here take a
registered voice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis.asyncio

from visiovox.api.errors import ApiError
from visiovox.config import Settings
from visiovox.jobs.ids import is_issued_id
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.reader import JobReader
from visiovox.jobs.voices import VoiceRegistry, VoiceStatus, voice_files

REGISTERED_VOICE_PIPELINES = frozenset({"voice-convert", "voice-convert-live"})


async def require_ready_voice(
    client: redis.asyncio.Redis,
    settings: Settings,
    *,
    pipeline: str,
    params: Mapping[str, Any],
    owner: str,
) -> None:
    """Refuse the job unless its ``voice`` (when it names one) is the owner's and ready."""
    voice_id = params.get("voice")
    if pipeline not in REGISTERED_VOICE_PIPELINES or voice_id is None:
        return
    prefix = settings.redis.prefix
    registry = VoiceRegistry(
        client,
        prefix=prefix,
        files=voice_files(settings.storage),
        reader=JobReader(client, keys=RedisKeys(prefix=prefix)),
    )
    voice = await registry.get(str(voice_id), owner) if is_issued_id(str(voice_id)) else None
    if voice is None:
        raise ApiError(404, "voice_not_found", f"no voice {str(voice_id)[:64]!r}")
    if voice.status is not VoiceStatus.READY:
        raise ApiError(
            409,
            "voice_not_ready",
            f"voice {voice.id} is still being validated (job {voice.job_id})",
        )
