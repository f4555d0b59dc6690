"""The face swap's work: prepare the source face once, swap the faces of the image or video."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.detect_scrfd import preferred_detector
from visiovox.engines.face.embed import FaceEmbedder
from visiovox.engines.face.enhance_base import FaceEnhancer
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_base import FaceSwapEngine
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Face, Image
from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.media.image import read_image
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.face_edit import EditOutput, edit_image, edit_video, image_faces
from visiovox.pipelines.face_enhance.choices import ENHANCERS
from visiovox.pipelines.face_swap.spec import EMBED, LANDMARKS, SWAP_ENGINES, FaceSwapParams
from visiovox.pipelines.segmented import split_or_stitch


class _Swapper:
    """The loaded engines, the prepared source face and the reference identity."""

    def __init__(self, ctx: RunContext, params: FaceSwapParams) -> None:
        self.landmarker = ctx.engine(LANDMARKS, FaceLandmarker)
        self.settings = ctx.settings
        self.detector = ctx.engine(preferred_detector(self.settings), FaceDetector)
        self.engine = ctx.engine(SWAP_ENGINES[params.engine], FaceSwapEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
        self.params = params
        self.enhancer = (
            ctx.engine(ENHANCERS[params.enhance], FaceEnhancer)
            if params.enhance != "none"
            else None
        )
        self.min_score = self.settings.face.hog_min_score
        source = self.read(ctx, "source")
        self.prepared = self.engine.prepare(source, self._first_face(source, "source"))
        self.reference: npt.NDArray[np.float32] | None = None
        self.threshold = params.reference_threshold or self.settings.face.reference_threshold
        if params.mode == "reference":
            self._load_reference(ctx)

    def read(self, ctx: RunContext, field: str) -> Image:
        """The image upload ``field``; one that cannot be read fails the job with its media code."""
        try:
            return read_image(ctx.input_path(field), max_pixels=self.settings.uploads.max_pixels)
        except MediaError as exc:
            raise PipelineError(exc.code, f"{field}: {exc.message}") from exc

    def _first_face(self, picture: Image, role: str) -> Face:
        box = self.detector.largest(picture, min_score=self.min_score)
        if box is None:
            raise PipelineError("no_face_found", f"the {role} image has no face")
        return self.landmarker.landmarks(picture, box)

    def _load_reference(self, ctx: RunContext) -> None:
        if ctx.input("reference") is None:
            raise PipelineError("missing_input", "mode=reference needs a reference image")
        self.embedder = ctx.engine(EMBED, FaceEmbedder)
        picture = self.read(ctx, "reference")
        self.reference = self.embedder.embed(picture, self._first_face(picture, "reference"))

    def distance(self, picture: Image, face: Face) -> float:
        """dlib embedding distance of ``face`` to the reference face."""
        assert self.reference is not None
        return float(np.linalg.norm(self.embedder.embed(picture, face) - self.reference))

    def matches(self, picture: Image, face: Face) -> bool:
        return self.distance(picture, face) <= self.threshold

    def image_faces(self, picture: Image) -> list[Face]:
        """The faces of a still to replace (no_face_found when there are none)."""
        faces = image_faces(
            picture,
            detector=self.detector,
            landmarker=self.landmarker,
            largest_only=self.params.mode == "largest",
            min_score=self.min_score,
        )
        if self.reference is None:
            return faces
        distances = [self.distance(picture, face) for face in faces]
        chosen = [face for face, d in zip(faces, distances, strict=True) if d <= self.threshold]
        if not chosen:
            raise PipelineError(
                "no_face_found",
                f"no face of the target image matches the reference (closest "
                f"{min(distances):.2f}, threshold {self.threshold:.2f})",
            )
        return chosen

    def tracker(self) -> FaceTracker:
        face = self.settings.face
        return FaceTracker(
            self.detector,
            self.landmarker,
            detect_every=face.detect_every,
            min_confidence=face.track_min_confidence,
            max_faces=1 if self.params.mode == "largest" else None,
            accept=self.matches if self.reference is not None else None,
            min_score=self.min_score,
        )

    def swap(self, picture: Image, face: Face, *, video: bool = False) -> Image:
        mode = self.settings.face.video_blend if video else "seamless"
        swapped = self.engine.apply(
            self.prepared, target=picture, target_face=face, blend=self.params.blend, mode=mode
        )
        if self.enhancer is None:
            return swapped
        return self.enhancer.enhance(
            swapped,
            face,
            blend=self.params.enhance_blend,
            fidelity=self.params.enhance_fidelity,
        )


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, FaceSwapParams)
    target = ctx.input("target")
    if target is not None and target.content_type.startswith("video/"):
        # A long video is split across the fleet before any engine loads; its stitch
        # needs none either.
        stitched = split_or_stitch(
            ctx, done="swapped", video_format=params.video_format, keep_audio=params.keep_audio
        )
        if stitched is not None:
            return stitched
    ctx.stage("detect")
    swapper = _Swapper(ctx, params)
    ctx.check_cancelled()
    output = EditOutput(
        stage="swap",
        done="swapped",
        image_format=params.image_format,
        video_format=params.video_format,
        keep_audio=params.keep_audio,
    )
    if target is not None and target.content_type.startswith("video/"):

        def swap_in_video(frame: Image, face: Face) -> Image:
            return swapper.swap(frame, face, video=True)

        caps = swapper.settings.video
        return edit_video(ctx, swapper.tracker(), swap_in_video, output=output, caps=caps)
    picture = swapper.read(ctx, "target")
    faces = swapper.image_faces(picture)
    name = target.name if target else "target.png"
    return edit_image(ctx, picture, faces, swapper.swap, output=output, target_name=name)
