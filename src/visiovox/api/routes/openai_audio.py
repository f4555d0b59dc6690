"""``POST /v1/audio/speech`` and ``POST /v1/audio/transcriptions``, as OpenAI's audio API.

Both run as jobs (``tts``, ``stt``) on workers and answer when the job ends.
Speech: OpenAI's voice names (alloy, echo, ...) speak in the default voice,
VisioVox's own names (``joe``) as themselves; ``opus`` is Opus in Ogg.
Transcriptions: ``model``, ``prompt`` and ``temperature`` are checked as
OpenAI checks them (a temperature from 0 to 1, never NaN), then ignored (the
deployment's Whisper model decodes greedily); an unknown ``response_format`` or
granularity is 422 ``invalid_params`` before any job exists; ``verbose_json``
carries segments, and words when ``timestamp_granularities[]`` asks for them.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from visiovox.api.deps import CallerDep, FilesDep, FollowDep, SubmitDep
from visiovox.api.errors import invalid_params
from visiovox.api.schemas import ErrorBody
from visiovox.api.uploads import discard_job_files
from visiovox.api.webhook_options import webhook_params
from visiovox.config import SPEECH_MAX_CHARS
from visiovox.jobs.model import Job
from visiovox.jobs.queues import Priority
from visiovox.jobs.storage import JobFiles

router = APIRouter(prefix="/v1/audio", tags=["openai"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 409, 413, 415, 422, 429, 500, 503)
}

SPEECH_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
# OpenAI's transcription formats -> the stt pipeline's ``format``.
TRANSCRIPT_FORMATS = {
    "json": "json",
    "verbose_json": "json",
    "text": "text",
    "srt": "srt",
    "vtt": "vtt",
}


class SpeechRequest(BaseModel):
    """OpenAI's speech request; ``instructions`` and other extras are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=200)
    input: str = Field(min_length=1, max_length=SPEECH_MAX_CHARS)
    # VisioVox's own: the job's webhook (``api/webhook_options.py``).
    webhook: str | None = None
    webhook_events: str | list[str] | None = None
    voice: str = Field(min_length=1, max_length=64)
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)


class TranscriptionFields(BaseModel):
    """OpenAI's transcription form fields; other fields are ignored, as OpenAI's clients
    send extras."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = Field(default=None, min_length=1, max_length=200)
    prompt: str | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)
    response_format: Literal["json", "verbose_json", "text", "srt", "vtt"] = "json"
    language: str | None = None  # checked by the stt pipeline's params
    timestamp_granularities: list[Literal["word", "segment"]] = Field(
        default=["segment"], alias="timestamp_granularities[]"
    )


async def _read_output(files: JobFiles, job: Job, name: str) -> bytes:
    return await anyio.to_thread.run_sync(files.read_output, job.id, name)


@router.post("/speech", response_class=Response, responses=_ERRORS)
async def speech(
    request: SpeechRequest,
    caller: CallerDep,
    submissions: SubmitDep,
    follower: FollowDep,
    files: FilesDep,
) -> Response:
    """Speak ``input``; the body is the audio in ``response_format`` (mp3 by default)."""
    # OpenAI's voice names (alloy, ...) go through as they are: the TTS engine speaks
    # them in the default voice (``engines/tts/voices.py``), on every path.
    params: dict[str, Any] = {
        "text": request.input,
        "format": request.response_format,
        "speed": request.speed,
        "voice": request.voice,
        **webhook_params(request.model_dump(include={"webhook", "webhook_events"})),
    }
    job, _ = await submissions.submit(
        submissions.intake("tts"), caller=caller, params=params, priority=Priority.HIGH
    )
    done = await follower.finished(job)
    (output,) = done.outputs
    audio = await _read_output(files, done, output.name)
    return Response(
        audio,
        media_type=SPEECH_TYPES[request.response_format],
        headers={"X-Job-ID": job.id},
    )


def _verbose(transcript: dict[str, Any], *, words: bool) -> dict[str, Any]:
    segments = transcript.get("segments", [])
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": transcript.get("language"),
        "duration": transcript.get("duration_s"),
        "text": transcript.get("text", ""),
        "segments": [
            {"id": s["id"], "start": s["start"], "end": s["end"], "text": s["text"]}
            for s in segments
        ],
    }
    if words:
        body["words"] = [
            {"word": w["word"], "start": w["start"], "end": w["end"]}
            for s in segments
            for w in s.get("words", [])
        ]
    return body


@router.post("/transcriptions", response_model=None, responses=_ERRORS)
async def transcriptions(
    request: Request,
    caller: CallerDep,
    submissions: SubmitDep,
    follower: FollowDep,
    files: FilesDep,
) -> Response:
    """Transcribe the multipart ``file``; the answer's shape follows ``response_format``."""
    intake = submissions.intake("stt")
    received = await submissions.receive(request, intake)
    try:
        fields = TranscriptionFields.model_validate(received.params)
    except ValidationError as exc:
        await discard_job_files(files, intake.job_id)
        raise invalid_params(exc) from None
    response_format = fields.response_format
    params: dict[str, Any] = {
        "format": TRANSCRIPT_FORMATS[response_format],
        "word_timestamps": "word" in fields.timestamp_granularities,
    }
    if fields.language:
        params["language"] = fields.language
    params.update(webhook_params(received.params))
    job, _ = await submissions.submit(
        intake, caller=caller, params=params, inputs=received.inputs, priority=Priority.HIGH
    )
    done = await follower.finished(job)
    headers = {"X-Job-ID": job.id}
    transcript = json.loads(await _read_output(files, done, "transcript.json"))
    if response_format == "json":
        return JSONResponse({"text": transcript["text"]}, headers=headers)
    if response_format == "verbose_json":
        body = _verbose(transcript, words=bool(params["word_timestamps"]))
        return JSONResponse(body, headers=headers)
    extension = {"text": "txt"}.get(response_format, response_format)
    text = (await _read_output(files, done, f"transcript.{extension}")).decode("utf-8")
    return PlainTextResponse(text, headers=headers)
