"""The lip-sync pipeline hands Wav2Lip boxes made over the whole video, as ``inference.py`` does.

Wav2Lip's ``face_detect`` pads and smooths the boxes of all frames before any
inference; here the pipeline makes them (``face_box.crop_boxes``) over the
source frames and each ``FaceFrame`` carries its frame's box. A recording
engine stands in for Wav2Lip, so only the hand-off is checked (the box rules
themselves: ``tests/unit/engines/lipsync/test_reference_wav2lip.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.faces import ASTRONAUT, write_face_video
from tests.unit.pipelines.lip_sync.conftest import Spoken
from tests.unit.pipelines.lip_sync.test_run import speech
from visiovox.engines.face.types import Image
from visiovox.engines.lipsync.base import FaceFrame, LipSyncDriver
from visiovox.engines.lipsync.face_box import PADS
from visiovox.engines.pool import EnginePool
from visiovox.media.image import read_image
from visiovox.pipelines.lip_sync import run as lip_sync_run
from visiovox.pipelines.lip_sync.spec import SPEC
from visiovox.pipelines.testing import LocalContext, run_pipeline


class RecordingDriver(LipSyncDriver):
    batch_size = 4

    def __init__(self) -> None:
        self.frames: list[FaceFrame] = []

    def render(self, frames: Sequence[FaceFrame]) -> list[Image]:
        self.frames.extend(frames)
        return [frame.image.copy() for frame in frames]


class RecordingEngine:
    name = "lipsync.recording"

    def __init__(self) -> None:
        self.recorder = RecordingDriver()

    def driver(self, speech: np.ndarray, *, fps: float, frames: int) -> LipSyncDriver:
        return self.recorder


def test_each_frame_carries_its_padded_chin_holding_box(
    tmp_path: Path, engine_pool: EnginePool, spoken: Spoken, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = RecordingEngine()
    monkeypatch.setattr(lip_sync_run, "lipsync_engine", lambda ctx, choice: engine)
    video = write_face_video(tmp_path / "face.mp4", read_image(ASTRONAUT), frames=6)
    files = {"face": video, "audio": speech(tmp_path / "speech.wav", spoken, 2.0)}
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files=files)
    assert run_pipeline(SPEC, {}, ctx) is not None
    frames = engine.recorder.frames
    assert len(frames) == 10  # 2 s at 5 fps
    by_source: dict[int, set[tuple[int, int, int, int]]] = {}
    for frame in frames:
        assert frame.crop is not None
        x1, y1, x2, y2 = frame.crop
        chin_x, chin_y = frame.face.points[8]
        assert x1 < chin_x < x2 and y1 < chin_y
        # Smoothing may move a box a pixel or two; the pads keep the chin inside.
        assert y2 >= chin_y + PADS[1] - 2
        source = lip_sync_run.source_index(frame.index, count=6, retime="pingpong")
        by_source.setdefault(source, set()).add(frame.crop)
    # A source frame shown twice (ping-pong) has one box: made once, for the video.
    assert all(len(boxes) == 1 for boxes in by_source.values())
