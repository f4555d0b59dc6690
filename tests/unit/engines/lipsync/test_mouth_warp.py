"""The mouth warp: dlib sees the lips part as the opening grows, and nothing else moves."""

from __future__ import annotations

import numpy as np

from tests.faces import find_face
from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Face, Image
from visiovox.engines.lipsync.base import SPEECH_RATE, FaceFrame
from visiovox.engines.lipsync.mouth_rig import MouthRig, rig_mouth
from visiovox.engines.lipsync.mouth_warp import MouthWarp


def rigged(image: Image, face: Face) -> MouthRig:
    rig = rig_mouth(image, face)
    assert rig is not None
    return rig


def lip_gap(face: Face) -> float:
    """Inner-lip opening: mean distance of the three lower inner points below the upper."""
    return float(np.mean(face.points[[67, 66, 65], 1] - face.points[[61, 62, 63], 1]))


def mouth_width(face: Face) -> float:
    return float(np.linalg.norm(face.points[54] - face.points[48]))


def test_opening_parts_the_lips_as_dlib_sees_them(
    faces: tuple[FaceDetector, FaceLandmarker], portrait: Image, portrait_face: Face
) -> None:
    rig = rigged(portrait, portrait_face)
    gaps = [
        lip_gap(find_face(*faces, rig.apply(portrait, opening=opening, rounding=0.0)))
        for opening in (0.0, 0.5, 1.0)
    ]
    face_height = float(np.linalg.norm(portrait_face.points[8] - portrait_face.points[27]))
    # The portrait smiles with parted lips; silence closes them.
    assert gaps[0] < lip_gap(portrait_face) - 2.0
    assert gaps[0] < gaps[1] < gaps[2]
    assert gaps[2] > 0.1 * face_height


def test_rounding_narrows_the_mouth_and_spreading_widens_it(
    faces: tuple[FaceDetector, FaceLandmarker], portrait: Image, portrait_face: Face
) -> None:
    rig = rigged(portrait, portrait_face)
    widths = [
        mouth_width(find_face(*faces, rig.apply(portrait, opening=0.6, rounding=rounding)))
        for rounding in (1.0, 0.0, -1.0)
    ]
    assert widths[0] < widths[1] < widths[2]


def test_only_the_mouth_region_changes(portrait: Image, portrait_face: Face) -> None:
    rig = rigged(portrait, portrait_face)
    moved = rig.apply(portrait, opening=1.0, rounding=0.5)
    changed = np.argwhere(np.any(moved != portrait, axis=2))
    assert len(changed) > 200
    assert changed[:, 0].min() >= rig.y0 and changed[:, 0].max() < rig.y1
    assert changed[:, 1].min() >= rig.x0 and changed[:, 1].max() < rig.x1
    assert rig.y0 >= portrait_face.points[29, 1] - 1  # the eyes and the nose bridge never move


def test_driver_follows_the_speech_frame_by_frame(portrait: Image, portrait_face: Face) -> None:
    engine = MouthWarp(settings=load_settings(), device="cpu")
    engine.load()
    t = np.arange(SPEECH_RATE) / SPEECH_RATE
    speech = (0.3 * np.sin(2 * np.pi * 300 * t) * (t < 0.5)).astype(np.float32)
    driver = engine.driver(speech, fps=25.0, frames=25)
    frames = [FaceFrame(index, portrait, portrait_face) for index in (6, 24)]
    speaking, silent = driver.render(frames)
    rig = rigged(portrait, portrait_face)
    closed = rig.apply(portrait, opening=0.0, rounding=0.0)
    assert np.array_equal(silent, closed)  # half a second after the speech
    assert np.abs(speaking.astype(int) - closed).max() > 50


def test_a_mouth_off_the_picture_is_left_alone(portrait: Image, portrait_face: Face) -> None:
    shift = np.array([0.0, 600.0], dtype=np.float32)
    below = Face(box=portrait_face.box, points=portrait_face.points + shift)
    assert rig_mouth(portrait, below) is None
    engine = MouthWarp(settings=load_settings(), device="cpu")
    t = np.arange(SPEECH_RATE) / SPEECH_RATE
    driver = engine.driver(
        (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), fps=25.0, frames=25
    )
    (frame,) = driver.render([FaceFrame(5, portrait, below)])
    assert np.array_equal(frame, portrait)
