"""The voice-convert-live pipeline in-process: the real converter and VAD, a memory link."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.voices import piper_speech, semitones, tape_speed, write_wav, yin_median_f0
from tests.wer import SPOKEN_SENTENCE
from visiovox.engines.pool import EnginePool
from visiovox.media.resample import resample
from visiovox.models.errors import ModelUnavailable
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.voice_convert_live.spec import SPEC

PIPER_RATE = 22_050
RATE = 16_000
CHUNK = 320
REFERENCE_TEXT = (
    "A large crowd gathered in the square to hear the mayor speak about the bridge. "
    "Then everyone walked home along the river before the rain came."
)


@pytest.fixture(scope="module")
def voices(engine_pool: EnginePool, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Joe's PCM16 at 16 kHz, and WAVs: joe a fifth up, 2.5 s of it, and a hum."""
    folder = tmp_path_factory.mktemp("live-voices")
    source = resample(piper_speech(engine_pool, SPOKEN_SENTENCE), rate=PIPER_RATE, to=RATE)
    other = tape_speed(piper_speech(engine_pool, REFERENCE_TEXT), 1.5)
    t = np.arange(PIPER_RATE * 5) / PIPER_RATE
    hum = (0.2 * sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in range(1, 11))).astype(
        np.float32
    )
    wavs = {"reference": other, "short": other[: int(PIPER_RATE * 2.5)], "hum": hum}
    made = {name: write_wav(s, folder / f"{name}.wav").read_bytes() for name, s in wavs.items()}
    return {**made, "source": (np.clip(source, -1, 1) * 32767).astype("<i2").tobytes()}


def _session(ctx: LocalContext, *binary: bytes) -> tuple[list[dict[str, object]], bytes]:
    for data in binary:
        ctx.link.put_audio(data)
    ctx.link.put_command({"type": "end_session"})
    result = run_pipeline(SPEC, {}, ctx)
    assert result["ended"] == "end_session"
    messages = [m for m in ctx.link.sent if isinstance(m, dict) and m["type"] != "stats"]
    audio = b"".join(m for m in ctx.link.sent if isinstance(m, bytes))
    return json.loads(json.dumps(messages)), audio


def _chunks(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + 2 * CHUNK] for i in range(0, len(pcm), 2 * CHUNK)]


def test_chunks_come_back_converted_toward_the_reference(
    ctx: LocalContext, voices: dict[str, bytes]
) -> None:
    messages, audio = _session(ctx, voices["reference"], *_chunks(voices["source"]))
    assert [m["type"] for m in messages] == ["ready", "session_ended"], messages
    assert len(audio) == len(voices["source"])
    source = np.frombuffer(voices["source"], "<i2").astype(np.float32) / 32768
    out = np.frombuffer(audio, "<i2").astype(np.float32) / 32768
    before = yin_median_f0(source, rate=RATE)
    after = yin_median_f0(out, rate=RATE)
    target = float(messages[0]["f0_median_hz"])  # type: ignore[arg-type]
    assert semitones(before, target) >= 5.0
    assert abs(semitones(target, after)) < abs(semitones(target, before)) / 2


@pytest.mark.parametrize(("bad", "code"), [("hum", "no_speech"), ("short", "reference_too_short")])
def test_a_bad_reference_is_an_error_and_the_next_one_is_taken(
    ctx: LocalContext, voices: dict[str, bytes], bad: str, code: str
) -> None:
    messages, audio = _session(ctx, voices[bad], voices["reference"], *_chunks(voices["source"]))
    assert [m["type"] for m in messages] == ["error", "ready", "session_ended"], messages
    assert messages[0]["code"] == code
    assert len(audio) == len(voices["source"])


def test_a_voice_needs_rvc_models_in_the_cache(ctx: LocalContext) -> None:
    with pytest.raises(ModelUnavailable):
        run_pipeline(SPEC, {"voice": "v_missing"}, ctx)
