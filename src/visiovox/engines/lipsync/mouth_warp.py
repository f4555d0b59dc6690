"""The offline lip-sync default: a landmark-driven warp of the lips and jaw, no model.

Speech gives each frame a mouth opening and a rounding (``drive.mouth_track``);
the face's 68 landmarks rig the mouth region once per face (``mouth_rig``), so
a still portrait is rigged once for the whole clip. A closed mouth at rest
stays as it is in silence; a mouth open at rest is closed in silence. Given
the speech's viseme timeline (``driver(..., visemes=...)``), the shapes follow
the phonemes instead (``viseme_drive``): lips shut on p/b/m, rounded on o/u.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.types import Face, Image
from visiovox.engines.lipsync.base import SPEECH_RATE, FaceFrame, LipSyncDriver, LipSyncEngine
from visiovox.engines.lipsync.drive import MouthTrack, mouth_track
from visiovox.engines.lipsync.mouth_rig import MouthRig, rig_mouth
from visiovox.engines.lipsync.viseme_drive import viseme_mouth_track
from visiovox.engines.visemes.timeline import VisemeTimeline


class MouthWarpDriver(LipSyncDriver):
    """Moves each frame's mouth to the track; re-rigs only when the face changes."""

    batch_size = 8

    def __init__(self, track: MouthTrack) -> None:
        self.track = track
        self._rigged: tuple[Face, MouthRig | None] | None = None

    def render(self, frames: Sequence[FaceFrame]) -> list[Image]:
        return [self._render(frame) for frame in frames]

    def _render(self, frame: FaceFrame) -> Image:
        rig = self._rig(frame)
        if rig is None:
            return frame.image.copy()
        index = min(frame.index, len(self.track) - 1)
        return rig.apply(
            frame.image,
            opening=float(self.track.opening[index]),
            rounding=float(self.track.rounding[index]),
        )

    def _rig(self, frame: FaceFrame) -> MouthRig | None:
        if self._rigged is None or self._rigged[0] is not frame.face:
            self._rigged = (frame.face, rig_mouth(frame.image, frame.face))
        return self._rigged[1]


class MouthWarp(LipSyncEngine):
    """Lip-sync by warping: needs no model file."""

    name = "lipsync.mouth_warp"

    def load(self) -> None:
        """Nothing to load."""

    def driver(
        self,
        speech: npt.NDArray[np.float32],
        *,
        fps: float,
        frames: int,
        visemes: VisemeTimeline | None = None,
    ) -> LipSyncDriver:
        """Mouth shapes from the speech's energy, or from ``visemes`` when given."""
        track = mouth_track(speech, sample_rate=SPEECH_RATE, fps=fps, frames=frames)
        if visemes is not None:
            track = viseme_mouth_track(visemes, track)
        return MouthWarpDriver(track)
