"""The stt pipeline's work: decode the upload, transcribe it, write the transcript files."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from visiovox.engines.stt.base import SAMPLE_RATE, Segment, STTEngine
from visiovox.errors import PipelineError
from visiovox.media.audio import decode_audio
from visiovox.media.errors import MediaError
from visiovox.media.subtitles import to_srt, to_text, to_vtt
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.stt.spec import ENGINE, INPUT, STTParams

# Progress shares: decoding is quick, transcription is the bulk, writing is instant.
DECODE_DONE, TRANSCRIBE_DONE = 5.0, 98.0

# format -> (file extension, content type) of the extra transcript file.
TRANSCRIPT_FILES: dict[str, tuple[str, str]] = {
    "text": ("txt", "text/plain; charset=utf-8"),
    "srt": ("srt", "application/x-subrip"),
    "vtt": ("vtt", "text/vtt"),
}


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, STTParams)
    ctx.stage("decode")
    try:
        audio = decode_audio(ctx.input_path(INPUT), sample_rate=SAMPLE_RATE)
    except MediaError as exc:
        raise PipelineError(exc.code, exc.message) from exc
    duration_s = len(audio) / SAMPLE_RATE
    ctx.progress(DECODE_DONE, stage="decode")
    ctx.check_cancelled()

    ctx.stage("transcribe")
    engine = ctx.engine(ENGINE, STTEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    ctx.check_cancelled()

    def on_segment(segment: Segment, end_s: float) -> None:
        done = end_s / duration_s if duration_s else 1.0
        share = DECODE_DONE + (TRANSCRIBE_DONE - DECODE_DONE) * min(1.0, done)
        ctx.progress(share, stage="transcribe", message=segment.text[:120])
        ctx.check_cancelled()

    transcript = engine.transcribe(
        audio,
        language=params.language,
        word_timestamps=params.word_timestamps,
        on_segment=on_segment,
    )

    ctx.stage("write")
    body = {
        "text": transcript.text,
        "language": transcript.language,
        "duration_s": transcript.duration_s,
        "segments": transcript.to_json()["segments"],
    }
    ctx.output_path("transcript.json").write_text(
        json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    ctx.add_output("transcript.json", "application/json")
    if params.format in TRANSCRIPT_FILES:
        extension, content_type = TRANSCRIPT_FILES[params.format]
        writer = {"text": to_text, "srt": to_srt, "vtt": to_vtt}[params.format]
        name = f"transcript.{extension}"
        ctx.output_path(name).write_text(writer(transcript.segments), encoding="utf-8")
        ctx.add_output(name, content_type)
    ctx.progress(100.0, stage="write")
    return {
        "text": transcript.text,
        "language": transcript.language,
        "duration_s": transcript.duration_s,
    }
