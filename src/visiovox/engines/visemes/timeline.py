"""A viseme timeline: segments in time, sampled into frames at the caller's rate, as JSON.

Segments lie back to back from 0 s to the audio's end. Sampling gives each
frame (``index / fps`` to ``(index + 1) / fps``) the share of its time each
viseme covers, so a frame astride two phonemes blends them, and the blendshape
weights of that blend (``oculus.blendshape_weights``). A timeline of
``duration_s`` has ``ceil(duration_s * fps)`` frames: the last one may be
partly past the audio's end, never short of it.

``visemes.json`` (``VisemeTimeline.to_json``), schema version 1::

    {"version": 1, "source": "phonemes" | "audio", "fps": 30.0,
     "duration_s": 1.234, "frame_count": 38,
     "visemes": ["sil", "PP", ...],          # the order of each frame's "weights"
     "blendshapes": ["jawOpen", ...],        # the order of each frame's "blendshapes"
     "segments": [{"viseme": "PP", "start_s": 0.1, "end_s": 0.18, "phonemes": "b"}, ...],
     "frames": [{"t": 0.0, "viseme": "sil", "weights": [...], "blendshapes": [...]}, ...]}

``phonemes`` is what the TTS spoke (empty for ``audio``); weights are rounded
to 3 decimals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from visiovox.engines.visemes.oculus import (
    BLENDSHAPES,
    VISEME_INDEX,
    VISEMES,
    blendshape_weights,
)

SCHEMA_VERSION = 1
TimelineSource = Literal["phonemes", "audio"]


@dataclass(frozen=True)
class VisemeSegment:
    """One viseme from ``start_s`` to ``end_s``; ``phonemes`` the symbols it speaks, if known."""

    viseme: str
    start_s: float
    end_s: float
    phonemes: str = ""

    def extended(self, *, end_s: float, phonemes: str = "") -> VisemeSegment:
        """This segment running on to ``end_s``, with ``phonemes`` added to its own."""
        return replace(self, end_s=end_s, phonemes=self.phonemes + phonemes)

    def shifted(self, offset_s: float) -> VisemeSegment:
        """This segment ``offset_s`` later."""
        return replace(self, start_s=self.start_s + offset_s, end_s=self.end_s + offset_s)


@dataclass(frozen=True)
class VisemeFrames:
    """A timeline sampled at ``fps``: per frame, viseme weights and blendshape weights."""

    fps: float
    weights: npt.NDArray[np.float32]  # frames x len(VISEMES), each row sums to 1
    blendshapes: npt.NDArray[np.float32]  # frames x len(BLENDSHAPES)

    def __len__(self) -> int:
        return len(self.weights)

    def dominant(self) -> list[str]:
        """The viseme with the largest share of each frame."""
        return [VISEMES[index] for index in np.argmax(self.weights, axis=1)]


@dataclass(frozen=True)
class VisemeTimeline:
    """Viseme segments covering ``duration_s`` of audio, and where they came from."""

    segments: tuple[VisemeSegment, ...]
    duration_s: float
    source: TimelineSource

    @classmethod
    def joined(cls, parts: Sequence[VisemeTimeline], *, source: TimelineSource) -> VisemeTimeline:
        """The timelines of consecutive pieces of audio, one after the other."""
        segments: list[VisemeSegment] = []
        offset = 0.0
        for part in parts:
            segments.extend(segment.shifted(offset) for segment in part.segments)
            offset += part.duration_s
        return cls(segments=tuple(segments), duration_s=offset, source=source)

    def frame_count(self, fps: float) -> int:
        return max(1, math.ceil(round(self.duration_s * fps, 6)))

    def sample(self, fps: float) -> VisemeFrames:
        """Each frame's share of every viseme; time no segment covers counts as ``sil``."""
        count = self.frame_count(fps)
        weights = np.zeros((count, len(VISEMES)), dtype=np.float64)
        frame_s = 1.0 / fps
        for segment in self.segments:
            first = max(0, int(segment.start_s * fps))
            last = min(count - 1, math.ceil(segment.end_s * fps) - 1)
            column = VISEME_INDEX[segment.viseme]
            for index in range(first, last + 1):
                start = index * frame_s
                overlap = min(segment.end_s, start + frame_s) - max(segment.start_s, start)
                if overlap > 0:
                    weights[index, column] += overlap * fps
        covered = weights.sum(axis=1)
        weights[:, VISEME_INDEX["sil"]] += np.clip(1.0 - covered, 0.0, None)
        weights /= weights.sum(axis=1, keepdims=True)
        return VisemeFrames(
            fps=fps,
            weights=weights.astype(np.float32),
            blendshapes=blendshape_weights(weights),
        )

    def to_json(self, fps: float) -> dict[str, Any]:
        """The ``visemes.json`` document (schema in the module's docstring)."""
        frames = self.sample(fps)
        names = frames.dominant()
        return {
            "version": SCHEMA_VERSION,
            "source": self.source,
            "fps": fps,
            "duration_s": round(self.duration_s, 4),
            "frame_count": len(frames),
            "visemes": list(VISEMES),
            "blendshapes": list(BLENDSHAPES),
            "segments": [
                {
                    "viseme": segment.viseme,
                    "start_s": round(segment.start_s, 4),
                    "end_s": round(segment.end_s, 4),
                    "phonemes": segment.phonemes,
                }
                for segment in self.segments
            ],
            "frames": frame_dicts(frames, names),
        }


def frame_dicts(frames: VisemeFrames, names: Sequence[str]) -> list[dict[str, Any]]:
    """Each frame as ``{"t", "viseme", "weights", "blendshapes"}``, weights to 3 decimals."""
    weights = np.round(frames.weights, 3).tolist()
    shapes = np.round(frames.blendshapes, 3).tolist()
    return [
        {"t": round(index / frames.fps, 4), "viseme": names[index], "weights": w, "blendshapes": b}
        for index, (w, b) in enumerate(zip(weights, shapes, strict=True))
    ]
