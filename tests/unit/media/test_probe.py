"""Probing accepts whole media and names what is wrong with the rest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit.media.samples import write_image, write_m4a, write_tone, write_video
from visiovox.media.errors import MediaError
from visiovox.media.kinds import MediaKind
from visiovox.media.probe import probe_media


def _cut_in_half(path: Path) -> Path:
    data = path.read_bytes()
    cut = path.with_name(f"half-{path.name}")
    cut.write_bytes(data[: len(data) // 2])
    return cut


@pytest.mark.parametrize("fmt", ["wav", "mp3", "ogg", "flac", "aac"])
def test_audio_duration(tmp_path: Path, fmt: str) -> None:
    path = write_tone(tmp_path / f"tone.{fmt}", fmt=fmt, seconds=2.0)
    info = probe_media(path, kind=MediaKind.AUDIO, max_duration_s=60)
    assert info.kind is MediaKind.AUDIO
    assert info.has_audio and not info.has_video
    assert info.duration_s == pytest.approx(2.0, abs=0.1)
    assert info.channels == 1


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac", "aac"])
def test_cut_in_half_is_truncated(tmp_path: Path, fmt: str) -> None:
    path = _cut_in_half(write_tone(tmp_path / f"tone.{fmt}", fmt=fmt, seconds=4.0))
    with pytest.raises(MediaError) as caught:
        probe_media(path, kind=MediaKind.AUDIO)
    assert caught.value.code == "truncated_media"


def test_random_bytes_are_invalid(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(os.urandom(20_000))
    with pytest.raises(MediaError) as caught:
        probe_media(path, kind=MediaKind.AUDIO)
    assert caught.value.code == "invalid_media"


def test_header_without_audio_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    full = write_tone(tmp_path / "tone.wav", fmt="wav", seconds=1.0).read_bytes()
    path.write_bytes(full[:44])  # the RIFF header alone
    with pytest.raises(MediaError) as caught:
        probe_media(path, kind=MediaKind.AUDIO)
    assert caught.value.code in ("invalid_media", "truncated_media")


def test_over_the_duration_cap(tmp_path: Path) -> None:
    path = write_tone(tmp_path / "tone.mp3", fmt="mp3", seconds=3.0)
    with pytest.raises(MediaError) as caught:
        probe_media(path, kind=MediaKind.AUDIO, max_duration_s=2.0)
    assert caught.value.code == "too_long"


def test_video_with_audio(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", container="mp4", codec="mpeg4", seconds=1.0)
    info = probe_media(path, kind=MediaKind.VIDEO, max_duration_s=10, max_pixels=10_000)
    assert info.kind is MediaKind.VIDEO
    assert (info.width, info.height) == (64, 48)
    assert info.has_video and info.has_audio
    assert info.duration_s == pytest.approx(1.0, abs=0.1)


def test_video_over_the_pixel_cap(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", container="mp4", codec="mpeg4", with_audio=False)
    with pytest.raises(MediaError) as caught:
        probe_media(path, kind=MediaKind.VIDEO, max_pixels=64 * 48 - 1)
    assert caught.value.code == "too_large"


def test_audio_only_mp4_narrows_to_audio(tmp_path: Path) -> None:
    info = probe_media(write_m4a(tmp_path / "voice.mp4"), kind=MediaKind.VIDEO)
    assert info.kind is MediaKind.AUDIO
    assert not info.has_video


def test_silent_video_as_audio_is_invalid(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", container="mp4", codec="mpeg4", with_audio=False)
    with pytest.raises(MediaError) as caught:
        probe_media(path, kind=MediaKind.AUDIO)
    assert caught.value.code == "invalid_media"


def test_image_dimensions_and_cap(tmp_path: Path) -> None:
    path = write_image(tmp_path / "picture.png", fmt="png", size=(40, 30))
    info = probe_media(path, kind=MediaKind.IMAGE, max_pixels=1_200)
    assert (info.kind, info.width, info.height, info.duration_s) == (MediaKind.IMAGE, 40, 30, None)
    with pytest.raises(MediaError) as caught:
        probe_media(path, kind=MediaKind.IMAGE, max_pixels=1_199)
    assert caught.value.code == "too_large"
