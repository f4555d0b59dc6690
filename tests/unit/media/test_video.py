"""map_video: every frame through the transform, audio copied or re-encoded, sizes made even."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.unit.media.samples import write_video
from visiovox.media._av import av
from visiovox.media.errors import MediaError
from visiovox.media.kinds import MediaKind
from visiovox.media.probe import probe_media
from visiovox.media.video import map_video


@pytest.mark.parametrize(
    ("container", "codec", "audio"), [("mp4", "mpeg4", "copied"), ("webm", "libvpx", "aac")]
)
def test_frames_transformed_and_audio_carried(
    tmp_path: Path, container: str, codec: str, audio: str
) -> None:
    source = write_video(
        tmp_path / f"in.{container}", container=container, codec=codec, seconds=2.0, size=(65, 49)
    )
    seen: list[int] = []
    updates: list[tuple[int, int | None]] = []

    def invert(index: int, frame: np.ndarray) -> np.ndarray:
        seen.append(index)
        assert frame.shape == (48, 64, 3)
        return np.asarray(255 - frame, dtype=np.uint8)

    dest = tmp_path / "out.mp4"
    result = map_video(source, dest, transform=invert, progress=lambda *a: updates.append(a))
    assert (result.frames, result.width, result.height, result.audio) == (20, 64, 48, audio)
    assert seen == list(range(20)) and updates[-1][0] == 20
    info = probe_media(dest, kind=MediaKind.VIDEO)
    assert info.has_audio and info.codec == "h264"
    assert info.duration_s == pytest.approx(2.0, abs=0.15)
    with av.open(str(dest)) as out:
        first = next(iter(out.decode(video=0))).to_ndarray(format="rgb24")
    # The first sample frame is black: inverted, it is white.
    assert first.mean() > 230


def test_silent_video_and_not_a_video(tmp_path: Path) -> None:
    silent = write_video(tmp_path / "in.mp4", container="mp4", codec="mpeg4", with_audio=False)
    result = map_video(silent, tmp_path / "out.mp4", transform=lambda _i, frame: frame)
    assert result.audio is None and result.frames == 10
    garbage = tmp_path / "junk.mp4"
    garbage.write_bytes(b"\0\0\0\x18ftypmp42" + b"\x01" * 100)
    with pytest.raises(MediaError):
        map_video(garbage, tmp_path / "out2.mp4", transform=lambda _i, frame: frame)


@pytest.mark.parametrize(
    ("output_format", "codec", "audio"),
    [("h265-mp4", "hevc", "copied"), ("vp9-webm", "vp9", "opus")],
)
def test_output_formats(tmp_path: Path, output_format: str, codec: str, audio: str) -> None:
    source = write_video(tmp_path / "in.mp4", container="mp4", codec="mpeg4", seconds=1.0)
    dest = tmp_path / f"out.{output_format}"
    result = map_video(source, dest, transform=lambda _i, frame: frame, output_format=output_format)
    assert (result.frames, result.audio) == (10, audio)
    with av.open(str(dest)) as out:
        assert out.streams.video[0].codec_context.name == codec
        assert out.streams.audio[0].codec_context.name == ("opus" if audio == "opus" else "aac")
        assert len(list(out.decode(video=0))) == 10
        if output_format == "h265-mp4":
            assert out.streams.video[0].codec_tag == "hvc1"


def test_unknown_format_and_caps(tmp_path: Path) -> None:
    source = write_video(tmp_path / "in.mp4", container="mp4", codec="mpeg4", size=(64, 48))
    seen: list[int] = []

    def keep(index: int, frame: np.ndarray) -> np.ndarray:
        seen.append(index)
        return frame

    with pytest.raises(MediaError) as caught:
        map_video(source, tmp_path / "a.avi", transform=keep, output_format="divx-avi")
    assert caught.value.code == "unsupported_format" and "h264-mp4" in caught.value.message
    with pytest.raises(MediaError) as caught:
        map_video(source, tmp_path / "b.mp4", transform=keep, max_pixels=64 * 48 - 1)
    assert caught.value.code == "too_large" and "64x48" in caught.value.message
    with pytest.raises(MediaError) as caught:
        map_video(source, tmp_path / "c.mp4", transform=keep, max_frames=9)
    assert caught.value.code == "too_long" and "9 frames" in caught.value.message
    assert seen == []  # the header's frame count was over the cap: no frame was worked on
    result = map_video(
        source, tmp_path / "d.mp4", transform=keep, max_frames=10, max_pixels=64 * 48
    )
    assert result.frames == 10
    # WebM declares no frame count: the cap stops the work at the frame that crosses it.
    webm = write_video(tmp_path / "in.webm", container="webm", codec="libvpx")
    seen.clear()
    with pytest.raises(MediaError) as caught:
        map_video(webm, tmp_path / "e.mp4", transform=keep, max_frames=4)
    assert caught.value.code == "too_long" and seen == [0, 1, 2, 3]
