"""The live avatar's pictures: a rigged portrait, the mouth shapes of a sentence, idle life.

A ``Portrait`` is the picture scaled to the session's ``size``, its face found
once and its mouth rigged once (``mouth_rig``: the ``mouth_warp`` renderer's
rig), so a frame costs the mouth warp, two small eyelid warps, one affine warp
of the whole picture (the head's slow sway) and a JPEG encode: a few ms at
512 px. A sentence's mouth shapes come from its audio, shaped by the phonemes
Piper spoke when it knows them (``sentence_mouth``, the one place that says
how: lips shut on p, b and m, rounded on o and u, as ``viseme_drive`` does for
the talking avatar), one per frame at the session's fps; the frames of a
sentence share its audio's clock (``pts_ms``: ``index`` * 1000 / fps from the
start of its audio) and cover its whole length.

Between replies and while talking the avatar lives on one clock of its own:
it blinks every 2.5–5.5 s (a 0.2 s blink, the schedule drawn once per
session) and sways a little (under 1.5° and a few pixels, slow sines); idle
frames keep the mouth closed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visiovox.assets import default_avatar
from visiovox.engines.face.types import Face, Image
from visiovox.engines.lipsync.base import SPEECH_RATE
from visiovox.engines.lipsync.drive import MouthTrack, mouth_track
from visiovox.engines.lipsync.mouth_rig import MouthRig, rig_mouth
from visiovox.engines.lipsync.viseme_drive import viseme_mouth_track
from visiovox.engines.visemes.timeline import VisemeTimeline
from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.media.image import decode_image, encode_jpeg, read_image
from visiovox.media.resample import resample
from visiovox.media.video_frames import fit_frame, output_size
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.lip_sync.render import find_face

JPEG_QUALITY = 80
# Blinks: the gap between two is drawn from this range; closing, closed, opening seconds.
BLINK_GAP_S = (2.5, 5.5)
BLINK_CLOSE_S, BLINK_HOLD_S, BLINK_OPEN_S = 0.07, 0.03, 0.10
# The sway: (amplitude, period s, phase) of the turn in degrees and of the shift in
# pixels at 512 px (scaled with the picture).
TURN = ((0.9, 6.1, 0.0), (0.35, 2.9, 1.3))
SHIFT_X = ((2.0, 7.3, 0.4),)
SHIFT_Y = ((1.5, 5.3, 2.1),)
# iBUG 68 eyes: outer corner, two upper-lid points, inner corner, two lower-lid points.
EYES = (tuple(range(36, 42)), tuple(range(42, 48)))
NOSE_TIP = 30
PORTRAIT_FORMATS = frozenset({"jpeg", "png", "webp"})

Samples = npt.NDArray[np.float32]


def frame_count(duration_s: float, fps: int) -> int:
    """Frames that cover ``duration_s`` of audio at ``fps`` (the last one starts inside it)."""
    return max(1, math.ceil(duration_s * fps - 1e-9))


def pts_ms(index: int, fps: int) -> int:
    """Frame ``index``'s time from the start of its sentence's audio, in ms."""
    return round(index * 1000 / fps)


def sentence_mouth(
    samples: Samples, *, sample_rate: int, fps: int, visemes: VisemeTimeline | None = None
) -> MouthTrack:
    """The mouth's shape at each frame of a sentence's audio (closed when it holds no voice),
    shaped by ``visemes`` (the phonemes spoken, timed) when they are known."""
    speech = resample(samples, rate=sample_rate, to=SPEECH_RATE)
    frames = frame_count(len(samples) / sample_rate, fps)
    try:
        energy = mouth_track(speech, sample_rate=SPEECH_RATE, fps=fps, frames=frames)
    except PipelineError:  # no_speech: a silent sentence keeps its mouth closed
        closed = np.zeros(frames, dtype=np.float32)
        return MouthTrack(opening=closed, rounding=closed, fps=fps)
    return energy if visemes is None else viseme_mouth_track(visemes, energy)


@dataclass(frozen=True)
class Eyelid:
    """One eye's box (x0, y0, x1, y1) and its lids, in box pixels, per column."""

    x0: int
    y0: int
    x1: int
    y1: int
    upper: npt.NDArray[np.float32]
    lower: npt.NDArray[np.float32]

    def close(self, image: Image, amount: float) -> None:
        """Draw the upper lid ``amount`` (0 open, 1 shut) of the way down, in place: the skin
        above the eye stretches over it, the lower part of the eye stays."""
        import cv2

        if amount <= 0.0:
            return
        height, width = self.y1 - self.y0, self.x1 - self.x0
        rows = np.arange(height, dtype=np.float32)[:, None]
        line = self.upper + amount * (self.lower - self.upper)  # where the lid's edge is now
        stretch = self.upper / np.maximum(line, 1e-3)
        map_y = np.where(rows <= line, rows * stretch, rows).astype(np.float32)
        map_x = np.broadcast_to(np.arange(width, dtype=np.float32), (height, width))
        region = image[self.y0 : self.y1, self.x0 : self.x1]
        image[self.y0 : self.y1, self.x0 : self.x1] = cv2.remap(
            region, np.ascontiguousarray(map_x), map_y, cv2.INTER_LINEAR
        )


def eyelid(image: Image, face: Face, indices: tuple[int, ...]) -> Eyelid | None:
    """Rig one eye of ``face``; None when it is off the picture or too small to blink."""
    points = face.points[list(indices)].astype(np.float64)
    corner_out, up_1, up_2, corner_in, low_2, low_1 = points
    width = float(np.linalg.norm(corner_in - corner_out))
    if width < 6:
        return None
    height_px, width_px = image.shape[:2]
    x0 = int(max(0, math.floor(points[:, 0].min() - 0.2 * width)))
    x1 = int(min(width_px, math.ceil(points[:, 0].max() + 0.2 * width)))
    y0 = int(max(0, math.floor(points[:, 1].min() - 0.6 * width)))
    y1 = int(min(height_px, math.ceil(points[:, 1].max() + 0.2 * width)))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    columns = np.arange(x0, x1, dtype=np.float64)
    upper_line = np.array([corner_out, up_1, up_2, corner_in])
    lower_line = np.array([corner_out, low_1, low_2, corner_in])
    order = np.argsort(upper_line[:, 0])
    upper = np.interp(columns, upper_line[order, 0], upper_line[order, 1]) - y0
    order = np.argsort(lower_line[:, 0])
    lower = np.interp(columns, lower_line[order, 0], lower_line[order, 1]) - y0
    lower = np.maximum(lower, upper)
    return Eyelid(x0, y0, x1, y1, upper.astype(np.float32), lower.astype(np.float32))


@dataclass(frozen=True)
class Portrait:
    """The picture the avatar is made of, its face, the mouth's rig and the eyes'."""

    picture: Image
    face: Face
    mouth: MouthRig | None
    eyes: tuple[Eyelid, ...]

    @classmethod
    def rig(cls, picture: Image, face: Face) -> Portrait:
        eyes = (eyelid(picture, face, indices) for indices in EYES)
        return cls(picture, face, rig_mouth(picture, face), tuple(e for e in eyes if e))

    def with_mouth(self, *, opening: float, rounding: float) -> Image:
        """A copy of the picture with the mouth at this shape (0, 0: closed)."""
        if self.mouth is None:
            return self.picture.copy()
        return self.mouth.apply(self.picture, opening=opening, rounding=rounding)


def load_portrait(ctx: RunContext, data: bytes | None, *, size: int) -> Portrait:
    """The portrait in ``data`` (None: the bundled one) scaled to ``size`` and rigged;
    ``PipelineError`` (``invalid_media``, ``no_face_found``, ...) when it cannot be."""
    try:
        if data is None:
            picture = read_image(default_avatar())
        else:
            max_pixels = ctx.settings.uploads.max_pixels
            picture = decode_image(data, max_pixels=max_pixels, formats=PORTRAIT_FORMATS)
    except MediaError as exc:
        raise PipelineError(exc.code, f"portrait: {exc.message}") from exc
    height, width = picture.shape[:2]
    picture = fit_frame(picture, output_size(width, height, size))
    face = find_face(ctx, picture)
    if face is None:
        raise PipelineError("no_face_found", "the portrait has no face")
    return Portrait.rig(picture, face)


class Liveliness:
    """Blinks and sway as a function of the session's clock (seconds since it began)."""

    def __init__(self, *, seed: int, size: int) -> None:
        self._rng = np.random.default_rng(seed)
        self._blinks: list[float] = [float(self._rng.uniform(*BLINK_GAP_S)) / 2]
        self._scale = size / 512

    def blink(self, t: float) -> float:
        """How shut the eyes are at ``t``: 0 open, 1 shut."""
        while self._blinks[-1] <= t:
            self._blinks.append(self._blinks[-1] + float(self._rng.uniform(*BLINK_GAP_S)))
        started = max((s for s in self._blinks if s <= t), default=None)
        if started is None:
            return 0.0
        into = t - started
        if into < BLINK_CLOSE_S:
            return into / BLINK_CLOSE_S
        if into < BLINK_CLOSE_S + BLINK_HOLD_S:
            return 1.0
        return max(0.0, 1.0 - (into - BLINK_CLOSE_S - BLINK_HOLD_S) / BLINK_OPEN_S)

    def pose(self, t: float) -> tuple[float, float, float]:
        """The head's turn (degrees) and shift (x, y pixels) at ``t``."""

        def wave(parts: tuple[tuple[float, float, float], ...]) -> float:
            return sum(a * math.sin(2 * math.pi * t / period + phase) for a, period, phase in parts)

        return wave(TURN), wave(SHIFT_X) * self._scale, wave(SHIFT_Y) * self._scale


class AvatarPainter:
    """Makes the JPEG frames: a portrait with a mouth shape, the blink and sway at a time."""

    def __init__(self, portrait: Portrait, *, seed: int = 0, quality: int = JPEG_QUALITY) -> None:
        self.portrait = portrait
        self._closed = portrait.with_mouth(opening=0.0, rounding=0.0)
        self._life = Liveliness(seed=seed, size=max(portrait.picture.shape[:2]))
        self._quality = quality

    def use(self, portrait: Portrait) -> None:
        """Paint ``portrait`` from now on."""
        self.portrait = portrait
        self._closed = portrait.with_mouth(opening=0.0, rounding=0.0)

    def talking(self, track: MouthTrack, index: int, *, t: float) -> bytes:
        """Frame ``index`` of a sentence whose mouth shapes are ``track``, shown at ``t``."""
        last = min(index, len(track) - 1)
        picture = self.portrait.with_mouth(
            opening=float(track.opening[last]), rounding=float(track.rounding[last])
        )
        return self._finish(picture, t)

    def idle(self, *, t: float) -> bytes:
        """An idle frame (mouth closed) shown at ``t``."""
        return self._finish(self._closed.copy(), t)

    def _finish(self, picture: Image, t: float) -> bytes:
        import cv2

        shut = self._life.blink(t)
        for eye in self.portrait.eyes:
            eye.close(picture, shut)
        turn, shift_x, shift_y = self._life.pose(t)
        height, width = picture.shape[:2]
        centre = self.portrait.face.points[NOSE_TIP]
        matrix = np.asarray(
            cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), turn, 1.0),
            dtype=np.float64,
        )
        matrix[:, 2] += np.array([shift_x, shift_y])
        moved = cv2.warpAffine(picture, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
        return encode_jpeg(np.asarray(moved, dtype=np.uint8), quality=self._quality)
