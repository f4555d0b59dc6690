"""The assistant turn's work: transcribe, stream the LLM's reply, speak it, write ``turn.json``.

With no ``voice`` given, the reply is spoken in the voice of the language heard
(``pipelines/voice_choice.py``), or in the default voice, with a ``log`` event,
when that voice is not in the cache and downloads are off.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from visiovox.engines.llm.base import ChatMessage, LLMEngine, Usage
from visiovox.engines.stt.base import SAMPLE_RATE, STTEngine
from visiovox.engines.vad.base import VADEngine, VADOptions, voiced_span
from visiovox.errors import PipelineError
from visiovox.media.audio import decode_audio
from visiovox.pipelines.assistant.spec import INPUT, LLM, STT, TTS, VAD, AssistantParams
from visiovox.pipelines.assistant.speech import SentenceSpeaker
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.viseme_output import spoken_timeline, write_visemes
from visiovox.pipelines.voice_choice import answer_in, choose_voice


def _transcribe(ctx: RunContext, params: AssistantParams) -> tuple[str, str | None]:
    """What the user said, and its language: the one given, else the one Whisper heard."""
    if params.text:
        return params.text, params.language
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
            return heard.text.strip(), params.language
    heard = engine.transcribe(audio, language=params.language)
    return heard.text.strip(), heard.language


def _messages(
    ctx: RunContext, params: AssistantParams, heard: str, language: str | None
) -> list[ChatMessage]:
    """The history and what was heard; an upstream model is asked to answer in its language.

    The bundled SmolLM2 answers in English whatever it is asked, so only
    ``llm.openai_http`` gets the line.
    """
    messages = [ChatMessage(role=m.role, content=m.content) for m in params.history]
    if language and ctx.settings.llm.engine == "llm.openai_http":
        messages.append(ChatMessage(role="system", content=answer_in(language)))
    messages.append(ChatMessage(role="user", content=heard))
    return messages


def _voice(ctx: RunContext, params: AssistantParams, language: str | None) -> str:
    """The turn's voice (``voice_choice``); a fallback to the default is logged."""
    choice = choose_voice(ctx.settings, engine=TTS, voice=params.voice, language=language)
    if choice.fallback is not None:
        ctx.log(choice.fallback)
    return choice.voice


def _voiced_span(ctx: RunContext, audio: npt.NDArray[np.float32]) -> tuple[int, int] | None:
    vad = ctx.engine(VAD, VADEngine)  # type: ignore[type-abstract]  # mypy#4717
    return voiced_span(vad.detector(VADOptions()), audio)


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, AssistantParams)
    started = time.perf_counter()
    ctx.stage("transcribe")
    heard, language = _transcribe(ctx, params)
    if not heard:
        raise PipelineError("nothing_heard", "no speech was recognised in the audio")
    timings: dict[str, float] = {"transcribe": time.perf_counter() - started}

    ctx.stage("generate")
    llm = ctx.engine(LLM, LLMEngine)  # type: ignore[type-abstract]  # mypy#4717
    voice = _voice(ctx, params, language)
    speaker = SentenceSpeaker(ctx, voice=voice)
    messages = _messages(ctx, params, heard, language)
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
    if params.visemes and speaker.chunks:
        timeline = spoken_timeline(ctx, speaker.chunks, sample_rate=speaker.sample_rate)
        write_visemes(ctx, timeline, fps=params.visemes_fps)
    timings["total"] = time.perf_counter() - started
    result = {
        "transcription": heard,
        "language": language,
        "voice": voice,
        "text": reply,
        "usage": usage.to_json(),
        "sentences": speaker.count,
        "duration_s": duration_s,
        "timings": {name: round(value, 3) for name, value in timings.items()},
    }
    ctx.output_path("turn.json").write_text(json.dumps(result, ensure_ascii=False), "utf-8")
    ctx.add_output("turn.json", "application/json")
    return result
