"""A voice assistant turn: speech in, a spoken reply out, sentence by sentence as written.

Stages: ``transcribe`` (Whisper, skipped when ``text`` is given), ``generate``
(the LLM streams ``token`` events) during which every completed sentence is
synthesised at once and published as ``sentence-NNN.wav`` (an ``output``
event a live client can fetch while the model still writes), then ``encode``
writes the whole reply as ``reply.<format>``. The conversation so far comes in
``history`` (the gateway keeps sessions); the result, also written as
``turn.json``, carries the transcription, the reply, token usage and stage
timings in seconds.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from visiovox.errors import PipelineError
from visiovox.media.kinds import MediaKind
from visiovox.pipelines.chat import Message
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.spec import InputSpec, PipelineSpec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# LLM is a role: the engine pool serves the one llm.engine names.
STT, LLM, TTS, VAD = "stt.whisper", "llm", "tts.piper", "vad.silero"
INPUT = "audio"


class AssistantParams(BaseModel):
    """One turn: the history, what the user said (audio input or ``text``), how to answer."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    history: list[Message] = Field(default_factory=list, max_length=256)
    text: str | None = Field(default=None, max_length=4_000, description="Typed instead of spoken.")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    voice: str | None = Field(default=None, max_length=64)
    format: Literal["wav", "mp3", "ogg", "opus", "flac", "aac", "pcm"] = "wav"
    max_tokens: int = Field(default=96, ge=1, le=1_024)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)

    @model_validator(mode="after")
    def _no_empty_text(self) -> AssistantParams:
        if self.text == "":
            self.text = None
        return self


def _transcribe(ctx: RunContext, params: AssistantParams) -> str:
    from visiovox.engines.stt.base import SAMPLE_RATE, STTEngine
    from visiovox.media.audio import decode_audio

    if params.text:
        return params.text
    if ctx.input(INPUT) is None:
        raise PipelineError("nothing_said", "send an audio file or a text")
    # A MediaError ends the job with its own code (the runner catches every CodedError).
    audio = decode_audio(ctx.input_path(INPUT), sample_rate=SAMPLE_RATE)
    engine = ctx.engine(STT, STTEngine)  # type: ignore[type-abstract]  # mypy#4717
    if params.language:
        # The utterance alone, trimmed by the VAD, fits an encoder window sized to it.
        span = _voiced_span(ctx, audio)
        if span is not None:
            utterance = audio[span[0] : span[1]]
            heard = engine.transcribe(utterance, language=params.language, utterance=True)
            return heard.text.strip()
    return engine.transcribe(audio, language=params.language).text.strip()


def _voiced_span(ctx: RunContext, audio: npt.NDArray[np.float32]) -> tuple[int, int] | None:
    from visiovox.engines.vad.base import VADEngine, VADOptions, voiced_span

    vad = ctx.engine(VAD, VADEngine)  # type: ignore[type-abstract]  # mypy#4717
    return voiced_span(vad.detector(VADOptions()), audio)


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, AssistantParams)
    from visiovox.engines.llm.base import ChatMessage, LLMEngine, Usage
    from visiovox.pipelines.assistant_speech import SentenceSpeaker

    started = time.perf_counter()
    ctx.stage("transcribe")
    heard = _transcribe(ctx, params)
    if not heard:
        raise PipelineError("nothing_heard", "no speech was recognised in the audio")
    timings: dict[str, float] = {"transcribe": time.perf_counter() - started}

    ctx.stage("generate")
    llm = ctx.engine(LLM, LLMEngine)  # type: ignore[type-abstract]  # mypy#4717
    speaker = SentenceSpeaker(ctx, voice=params.voice)
    messages = [ChatMessage(role=m.role, content=m.content) for m in params.history]
    messages.append(ChatMessage(role="user", content=heard))
    usage = Usage()
    pieces: list[str] = []
    generate_started = time.perf_counter()
    stream = llm.chat(
        messages, max_tokens=params.max_tokens, temperature=params.temperature, usage=usage
    )
    for piece in stream:
        if not pieces:
            timings["first_token"] = time.perf_counter() - started
        pieces.append(piece)
        ctx.token(piece)
        speaker.feed(piece)
        ctx.check_cancelled()
    speaker.flush()
    timings["generate"] = time.perf_counter() - generate_started - speaker.seconds
    timings["synthesize"] = speaker.seconds
    if speaker.first_audio_at is not None:
        timings["first_audio"] = speaker.first_audio_at - started

    ctx.stage("encode")
    reply = "".join(pieces).strip()
    duration_s = speaker.write_reply(params.format)
    timings["total"] = time.perf_counter() - started
    result = {
        "transcription": heard,
        "text": reply,
        "usage": usage.to_json(),
        "sentences": speaker.count,
        "duration_s": duration_s,
        "timings": {name: round(value, 3) for name, value in timings.items()},
    }
    ctx.output_path("turn.json").write_text(json.dumps(result, ensure_ascii=False), "utf-8")
    ctx.add_output("turn.json", "application/json")
    return result


SPEC = PipelineSpec(
    name="assistant",
    summary="Voice assistant turn: transcribe, answer with the LLM, speak each sentence.",
    params=AssistantParams,
    run="visiovox.pipelines.assistant:run",
    inputs=(
        InputSpec(
            field=INPUT,
            kinds=frozenset({MediaKind.AUDIO, MediaKind.VIDEO}),
            required=False,
            description="What the user said; or pass the text param instead.",
        ),
    ),
    engines=(STT, LLM, TTS, VAD),
)
