"""Mouth shapes from visemes: shut on p/b/m even between loud vowels, rounded on o/u."""

from __future__ import annotations

import numpy as np

from visiovox.config import load_settings
from visiovox.engines.lipsync.base import SPEECH_RATE
from visiovox.engines.lipsync.drive import MouthTrack
from visiovox.engines.lipsync.mouth_warp import MouthWarp, MouthWarpDriver
from visiovox.engines.lipsync.viseme_drive import viseme_mouth_track
from visiovox.engines.visemes.timeline import VisemeSegment, VisemeTimeline

# "a-ba-boo" at 25 fps: 40 ms frames.
TIMELINE = VisemeTimeline(
    segments=(
        VisemeSegment(viseme="aa", start_s=0.0, end_s=0.2),
        VisemeSegment(viseme="PP", start_s=0.2, end_s=0.28),
        VisemeSegment(viseme="aa", start_s=0.28, end_s=0.48),
        VisemeSegment(viseme="PP", start_s=0.48, end_s=0.56),
        VisemeSegment(viseme="U", start_s=0.56, end_s=0.8),
    ),
    duration_s=0.8,
    source="phonemes",
)


def _loud(frames: int) -> MouthTrack:
    """An energy track open all through, as a loud a-ba-boo gives."""
    return MouthTrack(
        opening=np.full(frames, 0.8, np.float32), rounding=np.zeros(frames, np.float32), fps=25.0
    )


def test_bilabials_shut_the_mouth_between_loud_vowels() -> None:
    track = viseme_mouth_track(TIMELINE, _loud(20))
    assert track.opening[5] == 0.0 and track.opening[6] == 0.0  # 0.20-0.28 s
    assert track.opening[12] == 0.0 and track.opening[13] == 0.0  # 0.48-0.56 s
    assert track.opening[2] > 0.8 and track.opening[9] > 0.8


def test_rounded_vowels_round_and_a_opens_wide() -> None:
    track = viseme_mouth_track(TIMELINE, _loud(20))
    assert track.rounding[17] == 1.0
    assert track.opening[17] < track.opening[2]


def test_a_video_longer_than_the_speech_is_closed_after_it() -> None:
    track = viseme_mouth_track(TIMELINE, _loud(30))
    assert len(track) == 30
    assert np.all(track.opening[20:] == 0.0)


def test_mouth_warp_takes_its_shapes_from_the_visemes_when_given() -> None:
    engine = MouthWarp(settings=load_settings(), device="cpu")
    speech = np.random.default_rng(0).normal(0, 0.2, int(0.8 * SPEECH_RATE)).astype(np.float32)
    plain = engine.driver(speech, fps=25.0, frames=20)
    shaped = engine.driver(speech, fps=25.0, frames=20, visemes=TIMELINE)
    assert isinstance(plain, MouthWarpDriver) and isinstance(shaped, MouthWarpDriver)
    assert plain.track.opening[5] > 0.5  # loud noise: energy alone keeps it open
    assert shaped.track.opening[5] == 0.0
