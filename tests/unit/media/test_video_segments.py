"""Segments edited apart and joined: the single run's frames, duration and audio, no seam.

Each test video's frame shows its own number in ten black or white stripes, so
a decoded frame tells which source frame it is: a repeated or missing frame at
a boundary shows as a wrong number.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from visiovox.media._av import av
from visiovox.media.video import map_video
from visiovox.media.video_cuts import frame_index, plan_cuts
from visiovox.media.video_segments import join_segments, map_segment

FPS = 10
WIDTH, HEIGHT = 96, 64
STRIPE = 9


def numbered_video(path: Path, frames: int, *, gop: int, codec: str = "libx264") -> Path:
    """``frames`` numbered frames at 10 fps (a keyframe every ``gop``) with an AAC tone."""
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream(codec, rate=FPS, options={"g": str(gop), "keyint_min": str(gop)})
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = out.add_stream("aac", rate=48_000, layout="mono")
        assert isinstance(audio, av.AudioStream)
        for number in range(frames):
            picture = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
            for bit in range(10):
                if number >> bit & 1:
                    picture[:, bit * STRIPE : (bit + 1) * STRIPE] = 255
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = number, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        t = np.arange(48_000 * frames // FPS, dtype=np.float32) / 48_000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[np.newaxis, :]
        sound = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        sound.sample_rate, sound.pts, sound.time_base = 48_000, 0, Fraction(1, 48_000)
        out.mux(audio.encode(sound))
        out.mux(audio.encode(None))
    return path


def number_of(picture: np.ndarray) -> int:
    return sum(1 << bit for bit in range(10) if picture[:, bit * STRIPE + 2].mean() > 128)


def decoded(path: Path) -> tuple[list[int], float, int]:
    """Frame numbers, the container's duration and the audio samples of ``path``."""
    with av.open(str(path)) as container:
        numbers = [number_of(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
        duration = (container.duration or 0) / av.time_base
    with av.open(str(path)) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
    return numbers, duration, samples


def segmented(source: Path, dest: Path, *, segment_frames: int, fmt: str = "h264-mp4") -> Path:
    index = frame_index(source)
    assert index is not None
    spans = plan_cuts(index, segment_frames=segment_frames, slack_frames=3, warmup_frames=3)
    assert len(spans) > 1
    parts = []
    for span in spans:
        part = dest.parent / f"part{span.index}.{dest.suffix}"
        warmed: list[int] = []
        written = map_segment(
            source,
            part,
            span=span,
            transform=lambda _i, frame: frame,
            warm=lambda frame, seen=warmed: seen.append(number_of(frame)),
            output_format=fmt,
        )
        assert written.frames == span.frames
        assert warmed == list(range(span.warm, span.start))
        parts.append(part)
    join_segments(parts, dest, audio_source=source, output_format=fmt)
    return dest


@pytest.mark.parametrize(("gop", "label"), [(12, "keyframe cuts"), (1000, "sparse keyframes")])
def test_joined_segments_equal_the_single_run(tmp_path: Path, gop: int, label: str) -> None:
    source = numbered_video(tmp_path / "source.mp4", 95, gop=gop)
    whole = tmp_path / "whole.mp4"
    map_video(source, whole, transform=lambda _i, frame: frame)
    joined = segmented(source, tmp_path / "joined.mp4", segment_frames=20)

    numbers, duration, samples = decoded(joined)
    whole_numbers, whole_duration, whole_samples = decoded(whole)
    assert numbers == whole_numbers == list(range(95)), label
    assert abs(duration - whole_duration) <= 1 / FPS
    assert samples == whole_samples > 0


def test_the_segments_packets_are_copied_not_encoded_again(tmp_path: Path) -> None:
    source = numbered_video(tmp_path / "source.mp4", 60, gop=12)
    joined = segmented(source, tmp_path / "joined.mp4", segment_frames=20)
    parts = sorted(tmp_path.glob("part*"), key=lambda path: int(path.name[4:].split(".")[0]))
    assert len(parts) > 1
    copied: list[bytes] = []
    for part in parts:
        with av.open(str(part)) as container:
            copied += [bytes(p) for p in container.demux(video=0) if p.size]
    with av.open(str(joined)) as container:
        assert [bytes(p) for p in container.demux(video=0) if p.size] == copied


def test_webm_segments_join_too(tmp_path: Path) -> None:
    source = numbered_video(tmp_path / "source.mp4", 50, gop=12)
    joined = segmented(source, tmp_path / "joined.webm", segment_frames=20, fmt="vp9-webm")
    numbers, _duration, samples = decoded(joined)
    assert numbers == list(range(50)) and samples > 0


def test_without_audio_source_the_output_is_silent(tmp_path: Path) -> None:
    source = numbered_video(tmp_path / "source.mp4", 40, gop=12)
    index = frame_index(source)
    assert index is not None
    spans = plan_cuts(index, segment_frames=20, slack_frames=0, warmup_frames=0)
    parts = [tmp_path / f"{span.index}.mp4" for span in spans]
    for span, part in zip(spans, parts, strict=True):
        map_segment(
            source,
            part,
            span=span,
            transform=lambda _i, f: f,
            warm=lambda _f: None,
            output_format="h264-mp4",
        )
    result = join_segments(parts, tmp_path / "out.mp4", audio_source=None, output_format="h264-mp4")
    assert (result.frames, result.audio) == (40, None)
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert not container.streams.audio
