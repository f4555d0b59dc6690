"""The live face swap's loop on the worker: uploads and commands handled, the newest frame answered.

The listener (``listener.py``, its own thread) reads the link; this loop takes
what it queued. A ``source`` upload is detected and prepared once
(``FaceSwapEngine.prepare``), then ``ready`` is sent (a source without a face
is ``no_face_found`` and the session goes on). Each turn takes the newest
frame, unless ``max_fps`` says the next answer is not due yet (the frame then
waits and a newer one may replace it); frames replaced unanswered, and those
the input stream's cap trimmed before the listener read them, are listed in
``dropped`` before the next answer, and any still waiting when the session
ends before ``session_ended``: every seq the client sent is answered, listed
dropped or refused with an error. Faces are followed by ``BackgroundTracker``:
landmarks tracked on the loop's thread, a full detection every
``face.detect_every`` frames on the session's detection thread
(``Detections``, which the source and reference uploads use too), so no frame
waits for one while a face is tracked. About once a second the session's
``stats`` go out.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from visiovox.config import Settings
from visiovox.engines.face.background_tracker import BackgroundTracker, Detections
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.detect_scrfd import preferred_detector
from visiovox.engines.face.embed import FaceEmbedder
from visiovox.engines.face.enhance_base import FaceEnhancer
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_base import FaceSwapEngine, PreparedSource
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Face, Image
from visiovox.engines.registry import engine_class
from visiovox.media.errors import MediaError
from visiovox.media.image import decode_image, encode_jpeg
from visiovox.models.cache import is_ready
from visiovox.models.errors import ModelUnavailable, UnknownModel
from visiovox.models.manifest import get_manifest
from visiovox.pipelines.context import LiveLink, RunContext
from visiovox.pipelines.face_enhance.choices import ENHANCERS
from visiovox.pipelines.face_enhance.live import require_live_device
from visiovox.pipelines.face_swap.spec import EMBED, LANDMARKS, SWAP_ENGINES
from visiovox.pipelines.face_swap_live.listener import POLL_S, Frame, Listener, Lost, Upload
from visiovox.pipelines.face_swap_live.spec import LiveFaceSwapParams
from visiovox.pipelines.face_swap_live.stats import SessionStats

# What a frame, a source or a reference may be (check_image_bytes' names).
IMAGE_FORMATS = frozenset({"jpeg", "png", "webp"})
# Seconds between two ``stats`` messages.
STATS_EVERY_S = 1.0


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, LiveFaceSwapParams)
    return LiveSwap(ctx, params).run()


def require_cached(settings: Settings, engine: str) -> None:
    """A live session never waits for a download: ``model_unavailable`` now, naming the
    command that fetches them, when ``engine``'s weights are not in the model cache."""
    for model_id in engine_class(engine).models:
        try:
            entry = get_manifest(settings).get(model_id)
        except UnknownModel as exc:
            raise ModelUnavailable(model_id, "it is not in the model manifest") from exc
        if not is_ready(entry, settings.models.cache_dir):
            raise ModelUnavailable(
                model_id,
                "it is not in the model cache and a live session does not wait for a "
                f"download; fetch it first with `visiovox models pull {model_id}`",
            )


class LiveSwap:
    """Hosts one live face swap session until it ends; ``run`` answers its summary."""

    def __init__(self, ctx: RunContext, params: LiveFaceSwapParams) -> None:
        self._ctx = ctx
        self._params = params
        self._settings = settings = ctx.settings
        # The session's engines, taken for its whole life (a missing model fails it now).
        require_live_device(ctx.device, params.enhance)
        require_cached(settings, SWAP_ENGINES[params.engine])
        enhancer = ENHANCERS.get(params.enhance)
        if enhancer is not None:
            require_cached(settings, enhancer)
        self._enhancer = ctx.engine(enhancer, FaceEnhancer) if enhancer is not None else None
        self._engine = ctx.engine(SWAP_ENGINES[params.engine], FaceSwapEngine)  # type: ignore[type-abstract]  # mypy#4717
        self._detector = ctx.engine(preferred_detector(settings), FaceDetector)
        self._landmarker = ctx.engine(LANDMARKS, FaceLandmarker)
        self._embedder = ctx.engine(EMBED, FaceEmbedder) if params.mode == "reference" else None
        self._link: LiveLink = ctx.live()
        self._listener = Listener(self._link)
        self._stats = SessionStats()
        self._detections = Detections()  # the detector's one thread: frames never wait for it
        self._prepared: PreparedSource | None = None
        self._reference: npt.NDArray[np.float32] | None = None
        self._tracker = self._new_tracker()
        self._interval_s = 1.0 / params.max_fps
        self._next_answer = 0.0

    def run(self) -> dict[str, Any]:
        self._listener.start()
        try:
            reason = self._loop()
        finally:
            self._listener.stop()
            self._detections.close()
        frame, dropped = self._listener.frame()  # what came too late: listed, not lost
        self._drop(sorted(dropped + ([frame.seq] if frame is not None else [])))
        self._link.send({"type": "session_ended", "reason": reason})
        return {
            "frames_in": self._listener.frames_in,
            "frames_out": self._stats.frames_out,
            "dropped": self._stats.dropped,
            "lost": self._link.dropped,
            "ended": reason,
        }

    def _loop(self) -> str:
        """Handle input until the session ends; answers why it ended."""
        idle_timeout_s = self._settings.live.idle_timeout_s
        while True:
            self._ctx.check_cancelled()
            due_in = self._next_answer - time.perf_counter()
            self._listener.wait(min(POLL_S, max(due_in, 0.0)) or POLL_S, frames=due_in <= 0)
            for item in self._listener.items():
                if isinstance(item, Upload):
                    self._upload(item)
                elif isinstance(item, Lost):
                    self._error(
                        "input_dropped",
                        f"{item.count} of your messages other than video frames (a command "
                        "or an image) were lost to the input stream's cap; send them again",
                    )
                elif item.get("type") == "end_session":
                    return "end_session"
                else:
                    self._error("invalid_message", "send a frame, source, reference or end_session")
            if self._prepared is not None and self._stats.due(STATS_EVERY_S):
                frames_in = self._listener.frames_in
                self._link.send({"type": "stats", **self._stats.report(frames_in)})
                self._ctx.live_figures(self._stats.figures(frames_in))
            if self._next_answer <= time.perf_counter():
                frame, dropped = self._listener.frame()
                self._drop(dropped)
                if frame is not None:
                    self._answer(frame)
                    continue
            if time.monotonic() - self._listener.last_input > idle_timeout_s:
                return "idle"

    # -- the source and the reference ---------------------------------------------------

    def _upload(self, upload: Upload) -> None:
        try:
            picture = decode_image(
                upload.data, max_pixels=self._settings.uploads.max_pixels, formats=IMAGE_FORMATS
            )
        except MediaError as exc:
            self._error(exc.code, f"{upload.role}: {exc.message}")
            return
        face = self._largest_face(picture)
        if face is None:
            self._error("no_face_found", f"the {upload.role} image has no face; send another")
            return
        if upload.role == "reference" and self._embedder is not None:
            self._reference = self._embedder.embed(picture, face)
            self._tracker = self._new_tracker()  # faces are judged afresh
        elif upload.role == "source":
            self._prepared = self._engine.prepare(picture, face)
            self._link.send({"type": "ready"})

    def _largest_face(self, picture: Image) -> Face | None:
        min_score = self._settings.face.hog_min_score
        box = self._detections.submit(self._detector.largest, picture, min_score=min_score).result()
        return None if box is None else self._landmarker.landmarks(picture, box)

    def _new_tracker(self) -> FaceTracker:
        face = self._settings.face
        mode = self._params.mode
        return BackgroundTracker(
            self._detector,
            self._landmarker,
            detections=self._detections,
            patient=self._listener.idle,
            detect_every=face.detect_every,
            min_confidence=face.track_min_confidence,
            max_faces=1 if mode == "largest" else None,
            accept=self._matches if mode == "reference" else None,
            min_score=face.hog_min_score,
        )

    def _matches(self, picture: Image, face: Face) -> bool:
        """The face looks like the reference's (none given yet: no face does)."""
        if self._reference is None or self._embedder is None:
            return False
        distance = np.linalg.norm(self._embedder.embed(picture, face) - self._reference)
        return bool(distance <= self._settings.face.reference_threshold)

    # -- frames -------------------------------------------------------------------------

    def _answer(self, frame: Frame) -> None:
        """Swap the faces of ``frame`` and send it back (unchanged, ``faces: 0``, without any)."""
        self._next_answer = time.perf_counter() + self._interval_s
        if self._prepared is None:
            self._error("no_source", f"frame {frame.seq}: send a source image with a face first")
            return
        try:
            picture = decode_image(
                frame.data, max_pixels=self._settings.live.max_frame_pixels, formats=IMAGE_FORMATS
            )
        except MediaError as exc:
            self._error(exc.code, f"frame {frame.seq}: {exc.message}")
            return
        faces = self._tracker.faces(picture)
        for face in faces:
            picture = self._engine.apply(
                self._prepared,
                target=picture,
                target_face=face,
                blend=self._params.blend,
                mode=self._settings.face.video_blend,
            )
            if self._enhancer is not None:
                picture = self._enhancer.enhance(picture, face, blend=self._params.enhance_blend)
        jpeg = encode_jpeg(picture, quality=self._params.jpeg_quality)
        latency_ms = (time.perf_counter() - frame.at) * 1000
        self._stats.answered(latency_ms)
        message = {"type": "frame", "seq": frame.seq, "faces": len(faces)}
        self._link.send({**message, "latency_ms": round(latency_ms, 1)})
        self._link.send_audio(jpeg)

    def _drop(self, seqs: list[int]) -> None:
        """Tell the client which frames go unanswered (none: nothing is sent)."""
        if seqs:
            self._stats.dropped += len(seqs)
            self._link.send({"type": "dropped", "seqs": seqs})

    def _error(self, code: str, message: str) -> None:
        self._link.send({"type": "error", "code": code, "message": message})
