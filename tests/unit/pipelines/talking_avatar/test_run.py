"""The talking-avatar pipeline in-process: the mouth follows the speech; bad inputs fail clearly."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from tests import bombs
from tests.faces import ASTRONAUT
from tests.lipsync_checks import decoded_frames, lip_gaps, video_facts
from tests.wer import SPOKEN_SENTENCE
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.lipsync.drive import frame_rms, mouth_track
from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import TTSEngine
from visiovox.errors import PipelineError
from visiovox.jobs.model import EventType
from visiovox.media.audio import decode_audio, encode_audio
from visiovox.media.image import read_image, write_image
from visiovox.pipelines.talking_avatar.spec import SPEC
from visiovox.pipelines.testing import EngineT, LocalContext, run_pipeline

PAUSE_S = 0.8
FPS = 25
VAD = "vad.silero"


class AskingContext(LocalContext):
    """A LocalContext that notes the engines the run asked for."""

    asked: tuple[str, ...] = ()

    def engine(self, name: str, engine_type: type[EngineT]) -> EngineT:
        self.asked = (*self.asked, name)
        return super().engine(name, engine_type)


@pytest.fixture(scope="module")
def paused_speech(tmp_path_factory: pytest.TempPathFactory, engine_pool: EnginePool) -> Path:
    """Two spoken sentences with 0.8 s of silence before, between and after, as WAV."""
    tts = engine_pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]  # mypy#4717
    try:
        first, second = (
            np.concatenate([chunk.samples for chunk in tts.synthesize(text)])
            for text in ("The quick brown fox jumps.", "Over the lazy dog near the old mill.")
        )
        rate = tts.sample_rate
    finally:
        engine_pool.release("tts.piper")
    pause = np.zeros(int(PAUSE_S * rate), dtype=np.float32)
    path = tmp_path_factory.mktemp("speech") / "paused.wav"
    encode_audio(
        np.concatenate([pause, first, pause, second, pause]), sample_rate=rate, fmt="wav", path=path
    )
    return path


def test_mouth_follows_speech_and_closes_in_the_pauses(
    tmp_path: Path,
    engine_pool: EnginePool,
    faces: tuple[FaceDetector, FaceLandmarker],
    paused_speech: Path,
) -> None:
    ctx = AskingContext.with_files(root=tmp_path, pool=engine_pool, files={"audio": paused_speech})
    result = run_pipeline(SPEC, {}, ctx)
    assert result is not None and result["engine"] == "lipsync.mouth_warp"
    assert result["mouth"] == "energy"  # no phonemes known: the energy shapes the mouth
    assert VAD in ctx.asked  # an upload is checked for speech
    video = ctx.output_path("video.mp4")
    audio = decode_audio(paused_speech, sample_rate=16_000)
    facts = video_facts(video)
    assert (facts.video_codec, facts.audio_codec) == ("h264", "aac")
    assert facts.fps == FPS
    assert abs(facts.frames - len(audio) / 16_000 * FPS) <= 1
    assert facts.audio_s == pytest.approx(len(audio) / 16_000, abs=1 / FPS)
    assert (facts.width, facts.height) == (512, 512)

    gaps = lip_gaps(decoded_frames(video), *faces)
    envelope = frame_rms(audio, sample_rate=16_000, fps=FPS, frames=len(gaps))
    assert np.corrcoef(gaps, envelope)[0, 1] >= 0.5
    # Well inside each pause (after the mouth had 0.3 s to close) the lips are shut.
    silences = []
    speech_frames = np.flatnonzero(envelope > 0.1 * envelope.max())
    for start, end in _pauses(envelope, speech_frames):
        silences.extend(range(start + 8, end - 2))
    assert len(silences) >= 20
    speaking = gaps[envelope > 0.3 * envelope.max()]
    assert np.median(gaps[silences]) < 0.5 * np.median(speaking)
    assert gaps[silences].max() < np.percentile(speaking, 25)
    # Shut, not just less open: the portrait smiles with parted lips, wider than in the pauses.
    rest = lip_gaps([read_image(ASTRONAUT)], *faces)[0]
    assert np.median(gaps[silences]) < 0.6 * rest


def _pauses(envelope: np.ndarray, speech_frames: np.ndarray) -> list[tuple[int, int]]:
    """Runs of at least 10 frames with no speech."""
    edges = np.concatenate([[-1], speech_frames, [len(envelope)]])
    return [(int(a) + 1, int(b)) for a, b in itertools.pairwise(edges) if b - a > 10]


def test_text_is_spoken_with_the_default_avatar_in_four_stages(
    tmp_path: Path, engine_pool: EnginePool
) -> None:
    ctx = AskingContext(root=tmp_path, pool=engine_pool)
    result = run_pipeline(SPEC, {"text": SPOKEN_SENTENCE, "fps": 20, "size": 256}, ctx)
    assert result is not None
    assert VAD not in ctx.asked  # our own TTS output is speech by construction
    assert result["mouth"] == "visemes"  # Piper's phonemes shape the mouth
    facts = video_facts(ctx.output_path("video.mp4"))
    assert (facts.fps, facts.width, facts.height) == (20, 256, 256)
    assert abs(facts.frames - result["audio_duration_s"] * 20) <= 1
    assert facts.audio_codec == "aac"
    assert result["frames_lip_synced"] == facts.frames
    assert set(result["seconds"]) == {"speech", "analysis", "frames", "encode"}
    stages = [event["stage"] for event in ctx.of_type(EventType.STAGE)]
    assert stages == ["speech", "analysis", "frames", "encode"]
    percents = [event["percent"] for event in ctx.of_type(EventType.PROGRESS)]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert ctx.output_names() == ["video.mp4"]


def _fails(ctx: LocalContext, params: dict[str, object]) -> PipelineError:
    with pytest.raises(PipelineError) as caught:
        run_pipeline(SPEC, params, ctx)
    assert ctx.output_names() == []
    return caught.value


def test_silent_audio_is_no_speech(tmp_path: Path, engine_pool: EnginePool) -> None:
    silent = tmp_path / "silent.wav"
    encode_audio(np.zeros(22_050, dtype=np.float32), sample_rate=22_050, fmt="wav", path=silent)
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files={"audio": silent})
    assert _fails(ctx, {}).code == "no_speech"


def test_loud_noise_without_a_voice_is_no_speech(tmp_path: Path, engine_pool: EnginePool) -> None:
    # White noise band-limited to 300-3000 Hz (the voice's band), loud and steady: 2 s at 16 kHz.
    rate = 16_000
    spectrum = np.fft.rfft(np.random.default_rng(3).normal(size=2 * rate))
    frequencies = np.fft.rfftfreq(2 * rate, 1 / rate)
    spectrum[(frequencies < 300) | (frequencies > 3_000)] = 0
    noise = np.fft.irfft(spectrum, 2 * rate)
    noise = 0.5 * noise / np.abs(noise).max()
    # Loud enough that the engines' energy check alone would take it for speech.
    assert mouth_track(noise, sample_rate=rate, fps=FPS, frames=50).opening.max() > 0.5
    noisy = tmp_path / "noise.wav"
    encode_audio(noise, sample_rate=rate, fmt="wav", path=noisy)
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files={"audio": noisy})
    error = _fails(ctx, {})
    assert error.code == "no_speech" and "no speech" in error.message
    assert [event["stage"] for event in ctx.of_type(EventType.STAGE)] == ["speech"]


def test_image_without_a_face_fails(tmp_path: Path, engine_pool: EnginePool) -> None:
    blank = tmp_path / "blank.png"
    write_image(blank, np.full((200, 300, 3), 90, dtype=np.uint8))
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files={"image": blank})
    error = _fails(ctx, {"text": "Hello there."})
    assert error.code == "no_face_found" and "image" in error.message


def test_text_and_audio_together_or_neither_fail(
    tmp_path: Path, engine_pool: EnginePool, paused_speech: Path
) -> None:
    both = LocalContext.with_files(
        root=tmp_path / "a", pool=engine_pool, files={"audio": paused_speech}
    )
    assert _fails(both, {"text": "Hello."}).code == "conflicting_inputs"
    neither = LocalContext.with_files(
        root=tmp_path / "b", pool=engine_pool, files={"image": ASTRONAUT}
    )
    assert _fails(neither, {"text": "  "}).code == "missing_speech"


def test_wav2lip_without_its_weights_names_the_model_to_pull(
    tmp_path: Path, paused_speech: Path
) -> None:
    from visiovox.config import load_settings
    from visiovox.engines.pool import EnginePool as Pool

    offline = Pool(
        settings=load_settings(models={"cache_dir": tmp_path / "m", "offline": True}), device="cpu"
    )
    try:
        files = {"audio": paused_speech}
        ctx = LocalContext.with_files(root=tmp_path / "job", pool=offline, files=files)
        error = _fails(ctx, {"engine": "wav2lip"})
    finally:
        offline.close()
    assert error.code == "model_unavailable" and "wav2lip-gan" in error.message


def test_a_portrait_over_the_pixel_cap_is_refused_before_decoding(
    tmp_path: Path, engine_pool: EnginePool
) -> None:
    bomb = tmp_path / "bomb.webp"
    bomb.write_bytes(bombs.webp_lossless(7_000, 7_000))
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files={"image": bomb})
    error = _fails(ctx, {"text": "Hello there."})
    assert error.code == "too_large" and error.message.startswith("image: ")
