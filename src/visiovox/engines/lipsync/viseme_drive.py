"""Mouth shapes from a viseme timeline: the lips shut on p, b and m, rounded on o and u.

The energy track (``drive.mouth_track``) knows how loud each frame is but not
what is said: a bilabial between two vowels is loud on both sides, so its
smoothed opening stays high and the lips never meet. With the timeline of the
phonemes spoken (``engines/visemes``), each frame takes the opening and the
rounding of the visemes it holds (``VISEME_OPENING``, ``VISEME_ROUNDING``,
weighted by the share of the frame each covers), scaled a little by the energy
track's loudness so stressed syllables open wider. A frame at least half
``PP`` is shut (opening 0), whatever else it holds.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import numpy as np

from visiovox.engines.lipsync.drive import MouthTrack
from visiovox.engines.visemes.oculus import VISEME_INDEX, VISEMES
from visiovox.engines.visemes.timeline import VisemeTimeline

# How far each viseme opens the mouth (0 shut, 1 wide) and rounds it (1) or spreads it (-1).
VISEME_OPENING: Final = MappingProxyType(
    {
        "sil": 0.0,
        "PP": 0.0,
        "FF": 0.1,
        "TH": 0.25,
        "DD": 0.3,
        "kk": 0.4,
        "CH": 0.25,
        "SS": 0.15,
        "nn": 0.3,
        "RR": 0.35,
        "aa": 1.0,
        "E": 0.7,
        "I": 0.45,
        "O": 0.75,
        "U": 0.35,
    }
)
VISEME_ROUNDING: Final = MappingProxyType(
    {"O": 0.8, "U": 1.0, "CH": 0.6, "RR": 0.5, "aa": -0.1, "E": -0.5, "I": -0.8, "SS": -0.6}
)
# The energy track's share of the opening: loud frames open a little wider.
LOUDNESS_SHARE: Final = 0.4
# A frame whose PP share reaches this is shut.
SHUT_SHARE: Final = 0.5

_OPENINGS = np.array([VISEME_OPENING[name] for name in VISEMES], dtype=np.float32)
_ROUNDINGS = np.array([VISEME_ROUNDING.get(name, 0.0) for name in VISEMES], dtype=np.float32)


def viseme_mouth_track(timeline: VisemeTimeline, energy: MouthTrack) -> MouthTrack:
    """The mouth of each of ``energy``'s frames, shaped by the visemes at its time."""
    frames = len(energy)
    weights = timeline.sample(energy.fps).weights[:frames]
    if len(weights) < frames:  # the video runs past the speech: silence
        rest = np.zeros((frames - len(weights), len(VISEMES)), dtype=np.float32)
        rest[:, VISEME_INDEX["sil"]] = 1.0
        weights = np.concatenate([weights, rest])
    loudness = (1.0 - LOUDNESS_SHARE) + LOUDNESS_SHARE * energy.opening
    opening = (weights @ _OPENINGS) * loudness
    opening[weights[:, VISEME_INDEX["PP"]] >= SHUT_SHARE] = 0.0
    rounding = np.clip(weights @ _ROUNDINGS, -1.0, 1.0)
    return MouthTrack(
        opening=np.clip(opening, 0.0, 1.0).astype(np.float32),
        rounding=rounding.astype(np.float32),
        fps=energy.fps,
    )
