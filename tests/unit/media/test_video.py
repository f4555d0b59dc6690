"""map_video: every frame through the transform, audio copied or re-encoded, sizes made even."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.unit.media.samples import write_video
from visiovox.media._av import av
from visiovox.media.errors import MediaError
from visiovox.media.probe import probe_media
from visiovox.media.video import map_video
from visiovox.pipelines.spec import MediaKind


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
