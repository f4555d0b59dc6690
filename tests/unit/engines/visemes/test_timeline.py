"""Timelines sample into frames covering the audio exactly; the JSON has the documented fields."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visiovox.engines.visemes.oculus import BLENDSHAPES, VISEME_BLENDSHAPES, VISEMES
from visiovox.engines.visemes.timeline import VisemeSegment, VisemeTimeline

REQUIRED_BLENDSHAPES = {
    "jawOpen",
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthShrugLower",
    "mouthShrugUpper",
}

TIMELINE = VisemeTimeline(
    segments=(
        VisemeSegment(viseme="sil", start_s=0.0, end_s=0.1),
        VisemeSegment(viseme="PP", start_s=0.1, end_s=0.18, phonemes="b"),
        VisemeSegment(viseme="aa", start_s=0.18, end_s=0.35, phonemes="ɑː"),
        VisemeSegment(viseme="U", start_s=0.35, end_s=0.5, phonemes="uː"),
    ),
    duration_s=0.53,  # the last 30 ms no segment covers: silence
    source="phonemes",
)


def test_the_table_names_every_viseme_and_the_required_blendshapes() -> None:
    assert VISEMES == (
        "sil",
        "PP",
        "FF",
        "TH",
        "DD",
        "kk",
        "CH",
        "SS",
        "nn",
        "RR",
        "aa",
        "E",
        "I",
        "O",
        "U",
    )
    assert set(VISEME_BLENDSHAPES) == set(VISEMES)
    assert set(BLENDSHAPES) >= REQUIRED_BLENDSHAPES
    assert all(0.0 <= w <= 1.0 for shapes in VISEME_BLENDSHAPES.values() for w in shapes.values())
    assert VISEME_BLENDSHAPES["aa"]["jawOpen"] > VISEME_BLENDSHAPES["PP"]["jawOpen"]
    assert VISEME_BLENDSHAPES["U"]["mouthPucker"] > 0.5


@pytest.mark.parametrize("fps", [10.0, 25.0, 30.0, 60.0, 29.97])
def test_frames_cover_the_audio_and_weights_are_shares(fps: float) -> None:
    frames = TIMELINE.sample(fps)
    assert len(frames) == math.ceil(TIMELINE.duration_s * fps)
    assert len(frames) / fps >= TIMELINE.duration_s > (len(frames) - 1) / fps
    np.testing.assert_allclose(frames.weights.sum(axis=1), 1.0, atol=1e-5)
    assert frames.blendshapes.shape == (len(frames), len(BLENDSHAPES))


def test_frames_follow_the_segments() -> None:
    frames = TIMELINE.sample(50.0)  # 20 ms frames
    names = frames.dominant()
    assert names[0] == "sil" and names[-1] == "sil"
    assert names[6] == "PP" and names[12] == "aa" and names[20] == "U"
    jaw = frames.blendshapes[:, BLENDSHAPES.index("jawOpen")]
    press = frames.blendshapes[:, BLENDSHAPES.index("mouthPressLeft")]
    assert jaw[12] > jaw[6] and press[6] > 0.5 and press[12] == 0.0
    # A frame astride two segments blends them by the time each covers.
    astride = TIMELINE.sample(10.0).weights[1]  # 0.1-0.2 s: PP 0.08 s, aa 0.02 s
    assert astride[VISEMES.index("PP")] == pytest.approx(0.8, abs=1e-5)
    assert astride[VISEMES.index("aa")] == pytest.approx(0.2, abs=1e-5)


def test_json_document() -> None:
    document = TIMELINE.to_json(25.0)
    assert document["version"] == 1 and document["source"] == "phonemes"
    assert document["fps"] == 25.0 and document["duration_s"] == 0.53
    assert document["frame_count"] == len(document["frames"]) == 14
    assert document["visemes"] == list(VISEMES) and document["blendshapes"] == list(BLENDSHAPES)
    assert document["segments"][1] == {
        "viseme": "PP",
        "start_s": 0.1,
        "end_s": 0.18,
        "phonemes": "b",
    }
    frame = document["frames"][3]
    assert frame["t"] == 0.12 and frame["viseme"] == "PP"
    assert len(frame["weights"]) == 15 and len(frame["blendshapes"]) == len(BLENDSHAPES)


def test_joined_timelines_run_one_after_the_other() -> None:
    joined = VisemeTimeline.joined([TIMELINE, TIMELINE], source="phonemes")
    assert joined.duration_s == pytest.approx(1.06)
    assert joined.segments[4].start_s == pytest.approx(0.53)
    assert joined.segments[-1].end_s == pytest.approx(1.03)
