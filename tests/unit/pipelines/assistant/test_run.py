"""The assistant pipeline in-process: spoken question in, spoken answer out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.wer import SPOKEN_QUESTION, word_error_rate
from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import TTSEngine
from visiovox.jobs.model import EventType
from visiovox.media.audio import decode_audio, encode_audio
from visiovox.pipelines.assistant.spec import SPEC
from visiovox.pipelines.testing import LocalContext, run_pipeline

SYSTEM = "You are a helpful assistant. Answer in one short sentence."


def _spoken(pool: EnginePool, text: str, path: Path) -> Path:
    engine = pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]
    try:
        samples = [chunk.samples for chunk in engine.synthesize(text)]
        encode_audio(np.concatenate(samples), sample_rate=engine.sample_rate, fmt="wav", path=path)
    finally:
        pool.release("tts.piper")
    return path


def test_spoken_question_gets_a_spoken_answer(tmp_path: Path, engine_pool: EnginePool) -> None:
    question = _spoken(engine_pool, SPOKEN_QUESTION, tmp_path / "q.wav")
    ctx = LocalContext.with_files(
        root=tmp_path / "job", pool=engine_pool, files={"audio": question}
    )
    history = [{"role": "system", "content": SYSTEM}]
    result = run_pipeline(SPEC, {"history": history, "max_tokens": 48}, ctx)
    assert result is not None
    assert "capital city of france" in result["transcription"].lower()
    assert "Paris" in result["text"], result["text"]
    names = ctx.output_names()
    assert "reply.wav" in names and "sentence-001.wav" in names
    assert result["sentences"] == len([n for n in names if n.startswith("sentence-")])
    tokens = [e["token"] for e in ctx.of_type(EventType.LOG) if "token" in e]
    assert "".join(tokens).strip() == result["text"]
    timings = result["timings"]
    assert {"transcribe", "first_token", "generate", "synthesize", "first_audio", "total"} <= set(
        timings
    )


def test_a_known_language_transcribes_the_voiced_part_alone(
    tmp_path: Path, engine_pool: EnginePool
) -> None:
    spoken = _spoken(engine_pool, SPOKEN_QUESTION, tmp_path / "q.wav")
    samples = decode_audio(spoken, sample_rate=16_000)
    silence = np.zeros(16_000 * 2, dtype=np.float32)
    padded = tmp_path / "padded.wav"
    encode_audio(
        np.concatenate([silence, samples, silence]), sample_rate=16_000, fmt="wav", path=padded
    )
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files={"audio": padded})
    params = {"language": "en", "max_tokens": 8}
    result = run_pipeline(SPEC, params, ctx)
    assert result is not None
    assert word_error_rate(SPOKEN_QUESTION, result["transcription"]) <= 0.1


def test_typed_text_skips_transcription(tmp_path: Path, engine_pool: EnginePool) -> None:
    ctx = LocalContext(root=tmp_path / "job", pool=engine_pool)
    params = {"text": "Say hello.", "max_tokens": 16, "format": "mp3"}
    result = run_pipeline(SPEC, params, ctx)
    assert result is not None and result["transcription"] == "Say hello."
    assert "reply.mp3" in ctx.output_names()
