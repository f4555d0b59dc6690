"""Follow faces through a live stream with full detections off the frame path.

``FaceTracker`` detects on the frame it is answering, so every
``detect_every``-th frame waits for HOG (25-100 ms at 640x480, several frames'
worth of budget at 30 fps). ``BackgroundTracker`` hands the detection to a
thread instead and answers every frame from its tracks: dlib's HOG releases
the GIL while it scans (``bench/live_detection.py`` measures the stall either
way), so the frames go on at tracking's cost. When a detection comes back,
its boxes (found on an older frame) get their landmarks on that frame and are
carried into the current one by optical flow; a face that has left meanwhile
does not come back and is dropped. While no face is tracked (none yet, or the
track was lost) a new detection starts as soon as the last one ends, so a face
that enters or is lost is picked up again within a detection's time (a few
frames). A frame waits for a detection only when no face is tracked and
``patient`` says nothing newer is waiting (a client sending a frame now and
then gets each one's faces, as ``FaceTracker`` finds them); under a stream,
frames never wait.

dlib's detector keeps the scanned image inside itself, so it must never run
on two threads at once: every detection of a session goes through the one
``Detections`` thread, which the session's uploads use as well.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

import cv2
import numpy as np

from visiovox.engines.face.tracker import (
    FaceTracker,
    Gray,
    _box_from,
    _flow,
    _settle,
    _Track,
)
from visiovox.engines.face.types import Face, FaceBox, Image, Points

T = TypeVar("T")
# How often a frame that waits for a detection asks whether it still may.
PATIENCE_STEP_S = 0.005


class Detections:
    """The one thread a live session's detector runs on, one call at a time."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-detect")

    def submit(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``call`` on the detection thread, after the calls before it."""
        return self._pool.submit(call, *args, **kwargs)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class BackgroundTracker(FaceTracker):
    """A ``FaceTracker`` whose full detections run on ``detections``' thread."""

    def __init__(
        self,
        *args: Any,
        detections: Detections,
        patient: Callable[[], bool] = lambda: False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._detections = detections
        self._patient = patient
        self._pending: Future[list[FaceBox]] | None = None
        self._pending_at: tuple[Image, Gray] | None = None

    def faces(self, frame: Image) -> list[Face]:
        """The accepted faces of ``frame`` as tracked now (with whatever a detection that
        has come back found)."""
        gray = np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        followed: list[_Track] | None = []
        if self._tracks and self._gray is not None:
            followed = self._follow(frame, self._gray, gray)
        tracked = followed or []
        due = followed is None or not tracked or self._since_detect >= self.detect_every
        if self._pending is None and due:
            self._pending = self._detections.submit(self._boxes, frame)
            self._pending_at = (frame, gray)
        while not tracked and self._pending is not None and self._patient():
            if wait([self._pending], timeout=PATIENCE_STEP_S).done:
                break  # nothing to answer with but what it finds, and nothing newer waits
        if self._pending is not None and self._pending.done() and self._pending_at is not None:
            boxes = self._pending.result()
            arrived = self._carried(boxes, *self._pending_at, frame=frame, gray=gray)
            tracked = self._merge(arrived, tracked)
            self._pending = self._pending_at = None
            self._since_detect = 0
        self._tracks, self._gray = tracked, gray
        self._since_detect += 1
        return [track.face for track in tracked if track.accepted]

    def _carried(
        self, boxes: list[FaceBox], then: Image, then_gray: Gray, *, frame: Image, gray: Gray
    ) -> list[_Track]:
        """Tracks for ``boxes`` (found on ``then``) where their faces are in ``frame``."""
        tracks = []
        height, width = frame.shape[:2]
        for track in self._tracks_at(then, boxes):
            points: Points | None = track.face.points
            if then is not frame:
                points = _flow(
                    then_gray, gray, track.face.points, min_confidence=self.min_confidence
                )
            if points is None:
                continue  # gone from the picture since
            box = _box_from(points, track.box_ratios, width=width, height=height)
            if box is None:
                continue
            placed = _settle(self.landmarker.landmarks(frame, box).points, points)
            tracks.append(_Track(Face(box=box, points=placed), track.box_ratios, track.accepted))
        return tracks
