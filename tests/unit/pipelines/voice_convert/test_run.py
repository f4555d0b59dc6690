"""The voice-convert pipeline with the real converter and Silero VAD, run in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from tests.voices import piper_speech, semitones, tape_speed, write_wav, yin_median_f0
from tests.wer import SPOKEN_SENTENCE
from visiovox.engines.pool import EnginePool
from visiovox.errors import PipelineError
from visiovox.jobs.model import EventType
from visiovox.media.audio import decode_audio
from visiovox.media.kinds import MediaKind
from visiovox.media.probe import probe_media
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.voice_convert.spec import SPEC

RATE = 22_050
# Eight seconds of speech from joe, four and a half once played a fifth up.
REFERENCE_TEXT = (
    "A large crowd gathered in the square to hear the mayor speak about the bridge. "
    "Then everyone walked home along the river before the rain came."
)


@pytest.fixture(scope="module")
def speech(engine_pool: EnginePool) -> npt.NDArray[np.float32]:
    return piper_speech(engine_pool, SPOKEN_SENTENCE)


@pytest.fixture(scope="module")
def files(
    engine_pool: EnginePool,
    speech: npt.NDArray[np.float32],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    """The source, a reference a fifth up, a short reference, a hum and a long reference."""
    folder = tmp_path_factory.mktemp("voices")
    other = tape_speed(piper_speech(engine_pool, REFERENCE_TEXT), 1.5)
    t = np.arange(RATE * 5) / RATE
    hum = 0.2 * sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in range(1, 11))
    return {
        "audio": write_wav(speech, folder / "audio.wav"),
        "reference": write_wav(other, folder / "reference.wav"),
        "short": write_wav(other[: int(RATE * 2.5)], folder / "short.wav"),
        "hum": write_wav(hum.astype(np.float32), folder / "hum.wav"),
        # 70 s of speech: the reference sentence again and again.
        "long": write_wav(np.tile(other, int(70 * RATE / len(other)) + 1), folder / "long.wav"),
    }


def _context(tmp_path: Path, pool: EnginePool, **files: Path) -> LocalContext:
    return LocalContext.with_files(root=tmp_path / "job", pool=pool, files=files)


def test_converts_toward_the_reference_at_the_input_duration(
    tmp_path: Path, engine_pool: EnginePool, files: dict[str, Path]
) -> None:
    ctx = _context(tmp_path, engine_pool, audio=files["audio"], reference=files["reference"])
    result = run_pipeline(SPEC, {}, ctx)

    assert result is not None
    assert ctx.output_names() == ["converted.wav"]
    source_s = probe_media(files["audio"], kind=MediaKind.AUDIO).duration_s
    output_s = probe_media(ctx.output_path("converted.wav"), kind=MediaKind.AUDIO).duration_s
    assert source_s is not None and output_s == pytest.approx(source_s, rel=0.01)
    assert result["engine"] == "voice.convert_psola"
    assert semitones(result["source_f0_median_hz"], result["target_f0_median_hz"]) >= 6.0
    assert result["reference"]["trimmed_to_s"] is None
    assert set(result["timings_ms"]) == {"decode", "detect_speech", "analyse", "convert", "encode"}
    wanted = yin_median_f0(decode_audio(files["reference"], sample_rate=RATE), rate=RATE)
    got = yin_median_f0(decode_audio(ctx.output_path("converted.wav"), sample_rate=RATE), rate=RATE)
    assert abs(semitones(wanted, got)) <= 1.5
    stages = [event["stage"] for event in ctx.of_type(EventType.STAGE)]
    assert stages == ["decode", "detect_speech", "analyse", "convert", "encode"]


def test_a_long_reference_is_trimmed_to_its_first_minute_of_speech(
    tmp_path: Path, engine_pool: EnginePool, files: dict[str, Path]
) -> None:
    ctx = _context(tmp_path, engine_pool, audio=files["audio"], reference=files["long"])
    result = run_pipeline(SPEC, {"format": "mp3", "pitch_shift": 3}, ctx)
    assert result is not None
    assert result["reference"]["trimmed_to_s"] == 60.0
    assert result["reference"]["speech_s"] == pytest.approx(60.0, abs=0.01)
    assert result["pitch_shift"] == pytest.approx(3.0, abs=0.01)
    assert ctx.output_names() == ["converted.mp3"]


@pytest.mark.parametrize(
    ("audio", "reference", "code"),
    [
        ("hum", "reference", "no_speech"),
        ("audio", "hum", "no_speech"),
        ("audio", "short", "reference_too_short"),
    ],
)
def test_bad_input_fails_with_its_code(
    tmp_path: Path,
    engine_pool: EnginePool,
    files: dict[str, Path],
    audio: str,
    reference: str,
    code: str,
) -> None:
    ctx = _context(tmp_path, engine_pool, audio=files[audio], reference=files[reference])
    with pytest.raises(PipelineError) as caught:
        run_pipeline(SPEC, {}, ctx)
    assert caught.value.code == code
    assert ctx.output_names() == []


@pytest.mark.parametrize(
    ("params", "code"),
    [({"voice": "v_missing"}, "voice_not_found"), ({"engine": "rvc"}, "model_unavailable")],
)
def test_an_unknown_voice_or_rvc_without_a_voice_fails(
    tmp_path: Path,
    engine_pool: EnginePool,
    files: dict[str, Path],
    params: dict[str, str],
    code: str,
) -> None:
    ctx = _context(tmp_path, engine_pool, audio=files["audio"], reference=files["reference"])
    with pytest.raises(PipelineError) as caught:
        run_pipeline(SPEC, params, ctx)
    assert caught.value.code == code
