"""The face enhancement's work: restore the faces of an image, or of every frame of a video."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.detect_scrfd import preferred_detector
from visiovox.engines.face.enhance_base import FaceEnhancer
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Face, Image
from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.media.image import read_image
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.face_edit import EditOutput, edit_image, edit_video, image_faces
from visiovox.pipelines.face_enhance.choices import ENHANCERS
from visiovox.pipelines.face_enhance.spec import FaceEnhanceParams
from visiovox.pipelines.face_swap.spec import LANDMARKS
from visiovox.pipelines.segmented import split_or_stitch


class _Restorer:
    """The loaded engines and the job's choices."""

    def __init__(self, ctx: RunContext, params: FaceEnhanceParams) -> None:
        self.params = params
        self.settings = ctx.settings
        # The model first: a missing one fails the job before any other work.
        self.enhancer = ctx.engine(ENHANCERS[params.enhancer], FaceEnhancer)
        self.detector = ctx.engine(preferred_detector(self.settings), FaceDetector)
        self.landmarker = ctx.engine(LANDMARKS, FaceLandmarker)
        self.min_score = self.settings.face.hog_min_score

    def image_faces(self, picture: Image) -> list[Face]:
        """The faces of a still to restore (no_face_found when there are none)."""
        return image_faces(
            picture,
            detector=self.detector,
            landmarker=self.landmarker,
            largest_only=self.params.mode == "largest",
            min_score=self.min_score,
        )

    def tracker(self) -> FaceTracker:
        face = self.settings.face
        return FaceTracker(
            self.detector,
            self.landmarker,
            detect_every=face.detect_every,
            min_confidence=face.track_min_confidence,
            max_faces=1 if self.params.mode == "largest" else None,
            min_score=self.min_score,
        )

    def restore(self, picture: Image, face: Face) -> Image:
        return self.enhancer.enhance(
            picture, face, blend=self.params.blend, fidelity=self.params.fidelity
        )


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, FaceEnhanceParams)
    target = ctx.input("target")
    if target is not None and target.content_type.startswith("video/"):
        # A long video is split across the fleet before any engine loads; its stitch
        # needs none either.
        stitched = split_or_stitch(
            ctx, done="enhanced", video_format=params.video_format, keep_audio=params.keep_audio
        )
        if stitched is not None:
            return stitched
    ctx.stage("detect")
    restorer = _Restorer(ctx, params)
    ctx.check_cancelled()
    output = EditOutput(
        stage="enhance",
        done="enhanced",
        image_format=params.image_format,
        video_format=params.video_format,
        keep_audio=params.keep_audio,
    )
    if target is not None and target.content_type.startswith("video/"):
        caps = restorer.settings.video
        return edit_video(ctx, restorer.tracker(), restorer.restore, output=output, caps=caps)
    try:
        picture = read_image(
            ctx.input_path("target"), max_pixels=restorer.settings.uploads.max_pixels
        )
    except MediaError as exc:
        raise PipelineError(exc.code, f"target: {exc.message}") from exc
    faces = restorer.image_faces(picture)
    name = target.name if target else "target.png"
    return edit_image(ctx, picture, faces, restorer.restore, output=output, target_name=name)
