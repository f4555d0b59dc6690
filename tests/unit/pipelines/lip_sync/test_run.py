"""The lip-sync pipeline in-process: re-timing, lost faces left alone, bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import bombs
from tests.faces import ASTRONAUT, write_face_video
from tests.lipsync_checks import decoded_frames, video_facts
from tests.unit.pipelines.lip_sync.conftest import Spoken
from visiovox.engines.face.types import Face, FaceBox
from visiovox.engines.lipsync.drive import mouth_track
from visiovox.engines.pool import EnginePool
from visiovox.errors import PipelineError
from visiovox.jobs.model import EventType
from visiovox.media.audio import decode_audio, encode_audio
from visiovox.media.image import read_image, write_image
from visiovox.pipelines.lip_sync.run import source_index, steady_faces
from visiovox.pipelines.lip_sync.spec import SPEC
from visiovox.pipelines.testing import LocalContext, run_pipeline

RATE = 24_000


def speech(path: Path, spoken: Spoken, seconds: float) -> Path:
    """Exactly ``seconds`` of the spoken sentence (repeated or cut), as WAV."""
    samples, rate = spoken
    wanted = int(rate * seconds)
    repeated = np.tile(samples, wanted // len(samples) + 1)[:wanted]
    encode_audio(repeated, sample_rate=rate, fmt="wav", path=path)
    return path


def hum(path: Path, seconds: float) -> Path:
    """A loud, steady 220 Hz sawtooth hum (ten harmonics): energy, but no voice."""
    t = np.arange(int(RATE * seconds)) / RATE
    saw = sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in range(1, 11))
    encode_audio(0.2 * saw, sample_rate=RATE, fmt="wav", path=path)
    return path


def test_retiming_holds_loops_or_ping_pongs() -> None:
    assert [source_index(i, count=1, retime="loop") for i in range(3)] == [0, 0, 0]
    assert [source_index(i, count=3, retime="loop") for i in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    pingpong = [source_index(i, count=3, retime="pingpong") for i in range(9)]
    assert pingpong == [0, 1, 2, 1, 0, 1, 2, 1, 0]


def test_landmarks_are_steadied_by_neighbours_in_the_same_place() -> None:
    def face(x: float, shift: float = 0.0) -> Face:
        box = FaceBox(left=int(100 + shift), top=100, right=int(200 + shift), bottom=200)
        return Face(box=box, points=np.full((68, 2), x, dtype=np.float32))

    steady = steady_faces([face(10.0), face(14.0), None, face(30.0), face(50.0, shift=80.0)])
    assert steady[2] is None
    assert [float(f.points[0, 0]) for f in steady if f is not None] == [
        pytest.approx((2 * 10.0 + 14.0) / 3),
        pytest.approx((2 * 14.0 + 10.0) / 3),
        30.0,  # its right-hand neighbour is somewhere else: another face
        50.0,
    ]


def test_still_image_is_held_for_the_audio(
    tmp_path: Path, engine_pool: EnginePool, spoken: Spoken
) -> None:
    audio = speech(tmp_path / "speech.wav", spoken, 1.5)
    files = {"face": ASTRONAUT, "audio": audio}
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files=files)
    result = run_pipeline(SPEC, {"fps": 20, "size": 256}, ctx)
    assert result is not None
    facts = video_facts(ctx.output_path("video.mp4"))
    assert (facts.video_codec, facts.audio_codec, facts.fps) == ("h264", "aac", 20)
    assert abs(facts.frames - 1.5 * 20) <= 1
    assert facts.audio_s == pytest.approx(1.5, abs=1 / 20)
    assert result["source_frames"] == 1 and result["frames_lip_synced"] == facts.frames
    stages = [event["stage"] for event in ctx.of_type(EventType.STAGE)]
    assert stages == ["speech", "analysis", "frames", "encode"]


def test_short_video_ping_pongs_and_frames_without_a_face_stay(
    tmp_path: Path, engine_pool: EnginePool, spoken: Spoken
) -> None:
    # 6 frames at 5 fps, frames 0 and 3 flat grey; 3 s of audio needs 15 frames.
    video = write_face_video(tmp_path / "face.mp4", read_image(ASTRONAUT), blank_every=3)
    audio = speech(tmp_path / "speech.wav", spoken, 3.0)
    files = {"face": video, "audio": audio}
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files=files)
    result = run_pipeline(SPEC, {}, ctx)
    assert result is not None
    assert (result["source_frames"], result["source_frames_with_face"]) == (6, 4)
    facts = video_facts(ctx.output_path("video.mp4"))
    assert facts.fps == 5 and facts.frames == 15 and facts.audio_codec == "aac"
    frames = decoded_frames(ctx.output_path("video.mp4"))
    blank = [i for i in range(15) if source_index(i, count=6, retime="pingpong") in (0, 3)]
    assert result["frames_lip_synced"] == 15 - len(blank)
    sources = decoded_frames(video)
    for index, frame in enumerate(frames):
        source = sources[source_index(index, count=6, retime="pingpong")]
        change = np.abs(frame.astype(int) - source)
        # Unchanged up to the two lossy encodes; a face frame had its mouth moved.
        assert change.mean() < 6, index
        assert (change.max() < 12) == (index in blank), index


def _fails(tmp_path: Path, pool: EnginePool, files: dict[str, Path]) -> PipelineError:
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=pool, files=files)
    with pytest.raises(PipelineError) as caught:
        run_pipeline(SPEC, {}, ctx)
    assert ctx.output_names() == []
    return caught.value


def test_image_without_a_face_fails(
    tmp_path: Path, engine_pool: EnginePool, spoken: Spoken
) -> None:
    blank = tmp_path / "blank.png"
    write_image(blank, np.full((120, 160, 3), 90, dtype=np.uint8))
    audio = speech(tmp_path / "speech.wav", spoken, 1.0)
    error = _fails(tmp_path, engine_pool, {"face": blank, "audio": audio})
    assert error.code == "no_face_found" and "image" in error.message


def test_video_without_any_face_fails(
    tmp_path: Path, engine_pool: EnginePool, spoken: Spoken
) -> None:
    video = write_face_video(tmp_path / "face.mp4", read_image(ASTRONAUT), blank_every=1)
    audio = speech(tmp_path / "speech.wav", spoken, 1.0)
    error = _fails(tmp_path, engine_pool, {"face": video, "audio": audio})
    assert error.code == "no_face_found" and "video" in error.message


def test_silent_audio_is_no_speech(tmp_path: Path, engine_pool: EnginePool) -> None:
    silent = tmp_path / "silent.wav"
    encode_audio(np.zeros(RATE, dtype=np.float32), sample_rate=RATE, fmt="wav", path=silent)
    assert _fails(tmp_path, engine_pool, {"face": ASTRONAUT, "audio": silent}).code == "no_speech"


def test_a_loud_hum_is_no_speech_before_any_face_work(
    tmp_path: Path, engine_pool: EnginePool
) -> None:
    audio = hum(tmp_path / "hum.wav", 2.0)
    # Loud enough that the engines' energy check alone would take it for speech.
    samples = decode_audio(audio, sample_rate=16_000)
    assert mouth_track(samples, sample_rate=16_000, fps=25, frames=50).opening.max() > 0.5
    files = {"face": ASTRONAUT, "audio": audio}
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files=files)
    with pytest.raises(PipelineError) as caught:
        run_pipeline(SPEC, {}, ctx)
    assert caught.value.code == "no_speech"
    assert caught.value.message.startswith("audio: the audio holds no speech")
    assert [event["stage"] for event in ctx.of_type(EventType.STAGE)] == ["speech"]
    assert ctx.output_names() == []


def test_undecodable_audio_is_invalid_media(tmp_path: Path, engine_pool: EnginePool) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\x01" * 40)
    assert (
        _fails(tmp_path, engine_pool, {"face": ASTRONAUT, "audio": broken}).code == "invalid_media"
    )


def test_a_face_image_over_the_pixel_cap_is_refused_before_decoding(
    tmp_path: Path, engine_pool: EnginePool, spoken: Spoken
) -> None:
    bomb = tmp_path / "bomb.webp"
    bomb.write_bytes(bombs.webp_lossless(7_000, 7_000))
    audio = speech(tmp_path / "speech.wav", spoken, 1.0)
    error = _fails(tmp_path, engine_pool, {"face": bomb, "audio": audio})
    assert error.code == "too_large" and error.message.startswith("face: ")
