"""Follow faces through a video: detect every few frames, track the landmarks between.

Full detection (HOG) dominates the cost of a frame, while faces move little from
one frame to the next. ``FaceTracker`` detects every ``detect_every`` frames;
on the frames between, each face's 68 points are carried forward by pyramidal
Lucas-Kanade optical flow, checked forward and backward. The share of points
that come back to where they started is the track's confidence: below
``min_confidence`` (a cut, the face turned away or left) the frame is
detected afresh. A tracked face's box is rebuilt from its carried points with
the box-to-landmarks proportions measured when it was detected, dlib places the
landmarks again inside it, and the result is averaged with the carried points,
which steadies them from frame to frame without lagging behind the motion
(where dlib strays from them, on a head rolled further than it handles, the
carried points are kept).

With ``max_faces`` 1 the detector's ``largest`` (a coarse pass first) is used.
A face the periodic detection misses while its track holds (turned further
than the detector sees) stays tracked. While no face is tracked every frame is
detected, so a face that appears is found on its first frame; a new face
entering next to a tracked one is found at the next periodic detection. Faces
``accept`` turns down (a reference identity that does not match) are tracked
too, so they are neither detected nor judged again on every frame, but are
not returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Face, FaceBox, Image, Points

Gray = npt.NDArray[np.uint8]
Accept = Callable[[Image, Face], bool]

# Lucas-Kanade window and pyramid depth; a point is lost when its forward-backward
# error exceeds FB_SHARE of the face's size (at least FB_MIN_PX pixels).
LK_WINDOW, LK_LEVELS = (21, 21), 3
FB_SHARE, FB_MIN_PX = 0.02, 1.0
# dlib's landmarks more than this share of the face's size from the carried
# ones (on average) are not trusted.
AGREE_SHARE = 0.05
# Optical flow sees the face's box grown by this share of the face's size on each side.
FLOW_MARGIN = 0.5
# Boxes overlapping more than this are the same face (carries its accept verdict over).
SAME_FACE_IOU = 0.4


@dataclass(frozen=True)
class _Track:
    """One followed face: its latest landmarks and where its box sits relative to them."""

    face: Face
    box_ratios: npt.NDArray[np.float32]  # box edges in units of the points' bounding box
    accepted: bool


class FaceTracker:
    """The faces of consecutive video frames, with a full detection only every few frames."""

    def __init__(
        self,
        detector: FaceDetector,
        landmarker: FaceLandmarker,
        *,
        detect_every: int = 10,
        min_confidence: float = 0.5,
        max_faces: int | None = None,
        accept: Accept | None = None,
        min_score: float = 0.0,
    ) -> None:
        self.detector = detector
        self.landmarker = landmarker
        self.detect_every = max(1, detect_every)
        self.min_confidence = min_confidence
        self.max_faces = max_faces
        self.accept = accept
        self.min_score = min_score
        self.detections = 0
        self._tracks: list[_Track] = []
        self._gray: Gray | None = None
        self._since_detect = 0

    def faces(self, frame: Image) -> list[Face]:
        """The accepted faces of ``frame``, the next frame of the video, largest first."""
        gray = np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        followed = None
        if self._tracks and self._gray is not None:
            followed = self._follow(frame, self._gray, gray)
        if followed is not None and self._since_detect < self.detect_every:
            tracked = followed
        else:
            tracked = self._merge(self._detect(frame), followed or [])
            self._since_detect = 0
        self._tracks, self._gray = tracked, gray
        self._since_detect += 1
        return [track.face for track in tracked if track.accepted]

    def _merge(self, detected: list[_Track], followed: list[_Track]) -> list[_Track]:
        """Fresh detections, plus the followed faces they missed (turned past what HOG sees)."""
        missed = [
            track
            for track in followed
            if all(_iou(track.face.box, fresh.face.box) <= SAME_FACE_IOU for fresh in detected)
        ]
        merged = sorted(detected + missed, key=lambda track: track.face.box.area, reverse=True)
        return merged[: self.max_faces] if self.max_faces is not None else merged

    def _detect(self, frame: Image) -> list[_Track]:
        return self._tracks_at(frame, self._boxes(frame))

    def _boxes(self, frame: Image) -> list[FaceBox]:
        """A full detection of ``frame``: the largest face alone with ``max_faces`` 1."""
        self.detections += 1
        if self.max_faces == 1:
            largest = self.detector.largest(frame, min_score=self.min_score)
            return [] if largest is None else [largest]
        return self.detector.detect(frame, min_score=self.min_score)[: self.max_faces]

    def _tracks_at(self, frame: Image, boxes: list[FaceBox]) -> list[_Track]:
        """New tracks for the faces in ``boxes``, their landmarks placed and judged."""
        tracks = []
        for box in boxes:
            face = self.landmarker.landmarks(frame, box)
            tracks.append(
                _Track(face=face, box_ratios=_box_ratios(box, face.points), accepted=True)
            )
        return [self._judge(frame, track) for track in tracks]

    def _judge(self, frame: Image, track: _Track) -> _Track:
        """``track`` with its accept verdict: the one of the face it continues, else asked."""
        if self.accept is None:
            return track
        for old in self._tracks:
            if _iou(old.face.box, track.face.box) > SAME_FACE_IOU:
                return _Track(track.face, track.box_ratios, old.accepted)
        return _Track(track.face, track.box_ratios, self.accept(frame, track.face))

    def _follow(self, frame: Image, before: Gray, after: Gray) -> list[_Track] | None:
        """Every track carried into ``after``, or None when one of them is lost."""
        followed = []
        for track in self._tracks:
            carried = _flow(before, after, track.face.points, min_confidence=self.min_confidence)
            if carried is None:
                return None
            height, width = frame.shape[:2]
            box = _box_from(carried, track.box_ratios, width=width, height=height)
            if box is None:
                return None
            placed = _settle(self.landmarker.landmarks(frame, box).points, carried)
            followed.append(_Track(Face(box=box, points=placed), track.box_ratios, track.accepted))
        return followed


def _settle(placed: Points, carried: Points) -> Points:
    """dlib's points averaged with the carried ones, or the carried ones where dlib strays.

    dlib places landmarks in an upright box; on a face rolled further than it
    was trained for they fall back towards upright, while optical flow follows
    the roll. Beyond ``AGREE_SHARE`` of the face's size apart, flow is trusted.
    """
    (left, top), (right, bottom) = carried.min(axis=0), carried.max(axis=0)
    size = float(np.sqrt(max(1.0, float(right - left) * float(bottom - top))))
    apart = float(np.linalg.norm(placed - carried, axis=1).mean())
    if apart > AGREE_SHARE * size:
        return carried
    return np.asarray((placed + carried) / 2, dtype=np.float32)


def _flow(before: Gray, after: Gray, points: Points, *, min_confidence: float) -> Points | None:
    """``points`` carried from ``before`` to ``after``; None when too few come back.

    Only the region around the face (``FLOW_MARGIN`` of its size on each side)
    is handed to optical flow, so its image pyramids cost what the face does.
    """
    height, width = before.shape[:2]
    (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
    size = float(np.sqrt(max(1.0, float(right - left) * float(bottom - top))))
    margin = FLOW_MARGIN * size
    x0, y0 = max(0, int(left - margin)), max(0, int(top - margin))
    x1, y1 = min(width, int(right + margin) + 1), min(height, int(bottom + margin) + 1)
    origin = np.array([x0, y0], dtype=np.float32)
    start = (points - origin).reshape(-1, 1, 2).astype(np.float32)
    crops = before[y0:y1, x0:x1], after[y0:y1, x0:x1]
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)
    kwargs = {"winSize": LK_WINDOW, "maxLevel": LK_LEVELS, "criteria": criteria}
    ahead, found, _ = cv2.calcOpticalFlowPyrLK(crops[0], crops[1], start, None, **kwargs)  # type: ignore[call-overload]
    back, returned, _ = cv2.calcOpticalFlowPyrLK(crops[1], crops[0], ahead, None, **kwargs)  # type: ignore[call-overload]
    error = np.linalg.norm((back - start).reshape(-1, 2), axis=1)
    good = (
        (found.ravel() == 1) & (returned.ravel() == 1) & (error < max(FB_MIN_PX, FB_SHARE * size))
    )
    if good.mean() < min_confidence:
        return None
    moved = ahead.reshape(-1, 2) + origin
    # Points that did not come back follow the face's overall motion instead.
    matrix, _ = cv2.estimateAffinePartial2D(points[good], moved[good])
    if matrix is None:
        return None
    fallback = cv2.transform(points[None], matrix)[0]
    return np.asarray(np.where(good[:, None], moved, fallback), dtype=np.float32)


def _box_ratios(box: FaceBox, points: Points) -> npt.NDArray[np.float32]:
    """The box's edges relative to the points' bounding box (left, top, right, bottom)."""
    (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
    width, height = max(1.0, float(right - left)), max(1.0, float(bottom - top))
    return np.array(
        [
            (box.left - left) / width,
            (box.top - top) / height,
            (box.right - right) / width,
            (box.bottom - bottom) / height,
        ],
        dtype=np.float32,
    )


def _box_from(
    points: Points, ratios: npt.NDArray[np.float32], *, width: int, height: int
) -> FaceBox | None:
    """The box the ``ratios`` put around ``points``; None when it leaves the frame."""
    (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
    span_x, span_y = max(1.0, float(right - left)), max(1.0, float(bottom - top))
    box = FaceBox(
        left=max(0, round(left + ratios[0] * span_x)),
        top=max(0, round(top + ratios[1] * span_y)),
        right=min(width, round(right + ratios[2] * span_x)),
        bottom=min(height, round(bottom + ratios[3] * span_y)),
    )
    return box if box.right - box.left >= 8 and box.bottom - box.top >= 8 else None


def _iou(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes."""
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    inter = max(0, width) * max(0, height)
    union = a.area + b.area - inter
    return inter / union if union else 0.0
