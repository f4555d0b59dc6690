"""The live assistant loop in-process: streamed speech in, VAD turns, text and audio out."""

from __future__ import annotations

import io
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.wer import SPOKEN_QUESTION, word_error_rate
from visiovox.config import LiveSettings, Settings
from visiovox.engines.pool import EnginePool
from visiovox.engines.stt.base import STTEngine
from visiovox.engines.tts.base import TTSEngine
from visiovox.media.audio import decode_audio, encode_audio
from visiovox.pipelines.assistant_live.spec import SPEC
from visiovox.pipelines.testing import LocalContext, MemoryLiveLink, run_pipeline

SYSTEM = "You are a helpful assistant. Answer in one short sentence."
CHUNK = 640  # 20 ms of PCM16 at 16 kHz


@pytest.fixture(scope="module")
def question_wav(engine_pool: EnginePool, tmp_path_factory: pytest.TempPathFactory) -> Path:
    engine = engine_pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]
    try:
        samples = np.concatenate([c.samples for c in engine.synthesize(SPOKEN_QUESTION)])
        path = tmp_path_factory.mktemp("live") / "question.wav"
        encode_audio(samples, sample_rate=engine.sample_rate, fmt="wav", path=path)
    finally:
        engine_pool.release("tts.piper")
    return path


@pytest.fixture(scope="module")
def question_pcm(question_wav: Path) -> bytes:
    samples = decode_audio(question_wav, sample_rate=16_000)
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def _stream(link: MemoryLiveLink, pcm: bytes, *, silence_s: float = 1.0) -> None:
    audio = pcm + bytes(int(silence_s * 32_000))
    for start in range(0, len(audio), CHUNK):
        link.put_audio(audio[start : start + CHUNK])


def _end_after(link: MemoryLiveLink, completes: int) -> None:
    """End the session once ``completes`` turns have completed."""
    done = 0

    def on_send(item: dict[str, Any] | bytes) -> None:
        nonlocal done
        if isinstance(item, dict) and item["type"] in ("complete", "error"):
            done += 1
            if done == completes:
                link.put_command({"type": "end_session"})

    link.on_send = on_send


def _params(**extra: Any) -> dict[str, Any]:
    return {
        "session_id": "s1",
        "history": [{"role": "system", "content": SYSTEM}],
        "language": "en",
        "max_tokens": 48,
        **extra,
    }


def test_a_streamed_question_is_answered_when_speech_ends(
    ctx: LocalContext, question_pcm: bytes
) -> None:
    _stream(ctx.link, question_pcm)
    _end_after(ctx.link, 1)

    result = run_pipeline(SPEC, _params(), ctx)

    kinds = [m["type"] for m in ctx.link.messages()]
    assert kinds[:3] == ["ready", "speech_started", "transcription"]
    assert kinds[-3:] == ["response", "complete", "session_ended"]
    first_delta = kinds.index("response")
    assert kinds[3] == "processing" and first_delta > 3
    transcription = ctx.link.messages()[2]["text"]
    assert "capital city of france" in transcription.lower()
    deltas = [m["delta"] for m in ctx.link.messages() if "delta" in m]
    complete = ctx.link.messages()[-2]
    assert "Paris" in complete["text"] and "".join(deltas).strip() == complete["text"]
    audio = [item for item in ctx.link.sent if isinstance(item, bytes)]
    assert len(audio) == complete["sentences"] >= 1
    with wave.open(io.BytesIO(audio[0])) as wav:
        assert wav.getnframes() > 0 and wav.getframerate() == 22_050
    assert {"first_token", "first_audio", "complete", "transcribe"} <= set(complete["timings"])
    assert ctx.link.histories["s1"] == [
        {"role": "user", "content": transcription},
        {"role": "assistant", "content": complete["text"]},
    ]
    assert result == {"turns": 1, "interruptions": 0, "dropped": 0, "ended": "end_session"}


def test_speech_during_a_reply_interrupts_it(ctx: LocalContext, question_pcm: bytes) -> None:
    link = ctx.link
    link.put_command({"type": "text", "text": "Tell me a long story about a knight."})
    barged = False

    def on_send(item: dict[str, Any] | bytes) -> None:
        nonlocal barged
        if isinstance(item, bytes) and not barged:
            barged = True  # the first sentence is out: speak over the rest
            _stream(link, question_pcm)
        if isinstance(item, dict) and item["type"] == "transcription" and barged:
            link.put_command({"type": "end_session"})  # the next turn began: enough

    link.on_send = on_send
    long_answer = [{"role": "system", "content": "Answer with a long story of ten sentences."}]
    result = run_pipeline(SPEC, _params(history=long_answer, max_tokens=300), ctx)

    messages = link.messages()
    kinds = [m["type"] for m in messages]
    cut = kinds.index("interrupted")
    assert "complete" not in kinds[:cut]  # the first reply never completed
    assert kinds[cut + 1] == "speech_started"  # stopped by the new speech
    heard = [m["text"] for m in messages[cut:] if m["type"] == "transcription"]
    assert len(heard) == 1 and "capital city of france" in heard[0].lower()  # the next turn
    assert result is not None and result["interruptions"] >= 1 and result["turns"] >= 1


def test_a_whole_wav_is_one_turn_and_text_too(ctx: LocalContext, question_wav: Path) -> None:
    link = ctx.link
    # Each next message once the previous turn is over (a new one would interrupt it).
    script: list[dict[str, Any]] = [
        {"type": "text", "text": "Thank you."},
        {"type": "bogus"},
        {"type": "end_session"},
    ]

    def on_send(item: dict[str, Any] | bytes) -> None:
        if not isinstance(item, dict):
            return
        if item["type"] == "complete" or item.get("code") == "invalid_message":
            link.put_command(script.pop(0))

    link.on_send = on_send
    link.put_audio(b"RIFF\x00\x00\x00\x00WAVEjunk")  # a broken WAV: an error, no crash
    link.put_audio(question_wav.read_bytes())

    run_pipeline(SPEC, _params(), ctx)

    messages = link.messages()
    heard = [m["text"] for m in messages if m["type"] == "transcription"]
    assert len(heard) == 2 and "capital city of france" in heard[0].lower()
    assert heard[1] == "Thank you."
    assert [m["code"] for m in messages if m["type"] == "error"] == [
        "invalid_media",
        "invalid_message",
    ]
    assert "interrupted" not in [m["type"] for m in messages]


def test_the_utterance_window_hears_what_the_full_window_hears(
    engine_pool: EnginePool, question_wav: Path
) -> None:
    stt = engine_pool.get("stt.whisper", STTEngine)  # type: ignore[type-abstract]
    try:
        audio = decode_audio(question_wav, sample_rate=16_000)
        short = stt.transcribe(audio, language="en", utterance=True).text
        full = stt.transcribe(audio, language="en").text
    finally:
        engine_pool.release("stt.whisper")
    assert word_error_rate(SPOKEN_QUESTION, short) <= 0.1, short
    assert word_error_rate(full, short) <= 0.1, (full, short)


def test_a_silent_session_ends_when_idle(tmp_path: Path, model_settings: Settings) -> None:
    settings = model_settings.model_copy(update={"live": LiveSettings(idle_timeout_s=0.3)})
    pool = EnginePool(settings=settings, device="cpu")
    try:
        ctx = LocalContext(root=tmp_path / "job", pool=pool)
        ctx.link.put_audio(bytes(6_400))  # 200 ms of silence, then nothing

        result = run_pipeline(SPEC, _params(), ctx)

        assert result is not None and result["ended"] == "idle" and result["turns"] == 0
        assert ctx.link.messages()[-1] == {"type": "session_ended", "reason": "idle"}
    finally:
        pool.close()


def _speak_in_real_time(link: MemoryLiveLink, pcm: bytes, *, silence_s: float) -> None:
    """Feed ``pcm`` then silence paced as a microphone would (20 ms a chunk), on a thread."""

    def speak() -> None:
        audio = pcm + bytes(int(silence_s * 32_000))
        started = time.monotonic()
        for index, start in enumerate(range(0, len(audio), CHUNK)):
            link.put_audio(audio[start : start + CHUNK])
            time.sleep(max(0.0, started + (index + 1) * 0.02 - time.monotonic()))

    threading.Thread(target=speak, daemon=True).start()


def _slowed(monkeypatch: pytest.MonkeyPatch, engine_pool: EnginePool, delay_s: float) -> None:
    """Make every transcription take ``delay_s`` longer, as on a core another process holds."""
    stt = engine_pool.get("stt.whisper", STTEngine)  # type: ignore[type-abstract]
    engine_pool.release("stt.whisper")
    transcribe = stt.transcribe

    def slowed(*args: Any, **kwargs: Any) -> Any:
        time.sleep(delay_s)
        return transcribe(*args, **kwargs)

    monkeypatch.setattr(stt, "transcribe", slowed)


def test_the_end_of_speech_is_heard_on_time_while_the_pause_guess_is_slow(
    ctx: LocalContext,
    engine_pool: EnginePool,
    question_pcm: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _slowed(monkeypatch, engine_pool, delay_s=1.5)  # the guess outlasts the 500 ms silence
    _speak_in_real_time(ctx.link, question_pcm, silence_s=3.0)
    _end_after(ctx.link, 1)

    run_pipeline(SPEC, _params(), ctx)

    complete = next(m for m in ctx.link.messages() if m["type"] == "complete")
    timings = complete["timings"]
    min_silence_s = ctx.settings.vad.min_silence_ms / 1000
    # Heard when the silence says so, not when the guess finished (~1.5 s later).
    assert timings["end_detected"] <= min_silence_s + 0.3, timings
    assert complete["speculative"] is True  # the speech ended at the pause: the guess is used
    assert timings["speculative"] >= 1.5 and timings["first_audio"] >= 0.5, timings


def test_a_guess_is_abandoned_when_the_speech_goes_on(
    ctx: LocalContext,
    engine_pool: EnginePool,
    question_pcm: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _slowed(monkeypatch, engine_pool, delay_s=0.6)
    # A pause the guess starts at, well short of the end: Piper's question already ends
    # in ~170 ms of near-silence, and the VAD ends an utterance after 500 ms of it.
    breath = bytes(int(0.15 * 32_000))
    _speak_in_real_time(ctx.link, question_pcm + breath + question_pcm, silence_s=2.0)
    _end_after(ctx.link, 1)

    run_pipeline(SPEC, _params(), ctx)

    messages = ctx.link.messages()
    heard = [m["text"] for m in messages if m["type"] == "transcription"]
    assert len(heard) == 1 and "capital city of france" in heard[0].lower(), heard
    complete = next(m for m in messages if m["type"] == "complete")
    question_s = len(question_pcm) / 32_000
    assert complete["timings"]["speech_s"] > 2 * question_s - 0.3  # one turn, both questions
    kinds = [m["type"] for m in messages]
    # Nothing prepared at the breath leaked: every reply message follows the transcription.
    assert kinds.index("response") > kinds.index("transcription")
    assert sum(1 for m in messages if m.get("final")) == kinds.count("complete") == 1
