"""face-enhance and face-swap's ``enhance`` in-process, on the stand-in enhancers.

The stand-ins (``tests/enhancers.py``) sit in this module's own model cache
beside the bundled dlib models; the GFPGAN one paints white discs where the
FFHQ template puts the five points, so the discs show where the crop was taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.enhancers import stand_in_settings
from tests.faces import ASTRONAUT, derive_face, find_face, write_face_video
from visiovox.config import load_settings
from visiovox.engines.face.align import template_points
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.enhance_crop import crop_matrix
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Face, Image
from visiovox.engines.pool import EnginePool
from visiovox.errors import PipelineError
from visiovox.media.image import read_image, write_image
from visiovox.pipelines.face_enhance import spec as face_enhance
from visiovox.pipelines.face_swap import spec as face_swap
from visiovox.pipelines.testing import LocalContext, run_pipeline


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnginePool]:
    settings = stand_in_settings(tmp_path_factory.mktemp("enhance-models"))
    engines = EnginePool(settings=settings, device="cpu")
    yield engines
    engines.close()


@pytest.fixture(scope="module")
def astronaut_face(pool: EnginePool) -> Face:
    detector = pool.get("face.detect", FaceDetector)
    landmarker = pool.get("face.landmarks", FaceLandmarker)
    try:
        return find_face(detector, landmarker, read_image(ASTRONAUT))
    finally:
        pool.release("face.detect")
        pool.release("face.landmarks")


def marks(face: Face) -> np.ndarray:
    """Where the stand-in's discs land in the image: the template through the inverse crop."""
    inverse = cv2.invertAffineTransform(crop_matrix(face.points))
    return template_points("ffhq_512", 512) @ inverse[:, :2].T + inverse[:, 2]


def at(image: Image, point: np.ndarray) -> np.ndarray:
    x, y = np.round(point).astype(int)
    return image[y, x].astype(int)


def enhance(root: Path, pool: EnginePool, target: Path, **params: object) -> LocalContext:
    ctx = LocalContext.with_files(root=root, pool=pool, files={"target": target})
    ctx.result = run_pipeline(face_enhance.SPEC, params, ctx)  # type: ignore[attr-defined]
    return ctx


def test_enhance_an_image_with_gfpgan(
    tmp_path: Path, pool: EnginePool, astronaut_face: Face
) -> None:
    ctx = enhance(tmp_path, pool, ASTRONAUT, blend=1.0)
    assert ctx.output_names() == ["enhanced.png"]
    result = read_image(ctx.output_dir / "enhanced.png")
    original = read_image(ASTRONAUT)
    for point in marks(astronaut_face):
        assert at(result, point).min() > 200 and at(original, point).min() < 200
    assert np.array_equal(result[300:], original[300:])


def test_codeformer_with_its_fidelity_and_blend(
    tmp_path: Path, pool: EnginePool, astronaut_face: Face
) -> None:
    ctx = enhance(tmp_path, pool, ASTRONAUT, enhancer="codeformer", fidelity=0.5, blend=0.8)
    result = read_image(ctx.output_dir / "enhanced.png").astype(float)
    original = read_image(ASTRONAUT).astype(float)
    x, y = np.round(marks(astronaut_face)[2]).astype(int)  # the nose tip, mask 1 there
    near = (slice(y - 2, y + 3), slice(x - 2, x + 3))
    # The stand-in halves the face in [-1, 1] (p -> p / 2 + 63.75); blend 0.8 of that.
    expected = 0.8 * (original[near] / 2 + 63.75) + 0.2 * original[near]
    assert np.abs(result[near] - expected).mean() < 4


def test_enhance_a_video(tmp_path: Path, pool: EnginePool) -> None:
    clip = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=4)
    ctx = enhance(tmp_path / "job", pool, clip, mode="largest")
    assert ctx.output_names() == ["enhanced.mp4"]
    summary = ctx.result  # type: ignore[attr-defined]
    assert (summary["frames"], summary["frames_enhanced"]) == (4, 4)


def test_an_image_without_a_face_fails(tmp_path: Path, pool: EnginePool) -> None:
    blank = tmp_path / "blank.png"
    write_image(blank, np.full((200, 300, 3), 90, dtype=np.uint8))
    with pytest.raises(PipelineError) as caught:
        enhance(tmp_path / "job", pool, blank)
    assert caught.value.code == "no_face_found"


def test_a_video_without_a_face_fails_and_leaves_no_output(
    tmp_path: Path, pool: EnginePool
) -> None:
    grey = np.full((256, 256, 3), 90, dtype=np.uint8)
    clip = write_face_video(tmp_path / "grey.mp4", grey, frames=3)
    with pytest.raises(PipelineError) as caught:
        enhance(tmp_path / "job", pool, clip)
    assert caught.value.code == "no_face_found"
    assert not list((tmp_path / "job").rglob("enhanced.*"))


def test_a_model_not_pulled_is_model_unavailable_naming_the_pull(tmp_path: Path) -> None:
    offline = EnginePool(
        settings=load_settings(models={"cache_dir": tmp_path / "m", "offline": True}),
        device="cpu",
    )
    try:
        with pytest.raises(PipelineError) as caught:
            enhance(tmp_path / "job", offline, ASTRONAUT, enhancer="codeformer")
    finally:
        offline.close()
    assert caught.value.code == "model_unavailable"
    assert "visiovox models pull codeformer" in caught.value.message


def test_face_swap_enhances_the_swapped_face(
    tmp_path: Path, pool: EnginePool, astronaut_face: Face
) -> None:
    original = read_image(ASTRONAUT)
    source = tmp_path / "other.png"
    write_image(source, derive_face(original, astronaut_face.points))
    files = {"source": source, "target": ASTRONAUT}
    plain = LocalContext.with_files(root=tmp_path / "plain", pool=pool, files=files)
    run_pipeline(face_swap.SPEC, {}, plain)
    enhanced = LocalContext.with_files(root=tmp_path / "enhanced", pool=pool, files=files)
    run_pipeline(face_swap.SPEC, {"enhance": "gfpgan", "enhance_blend": 1.0}, enhanced)
    swapped = read_image(plain.output_dir / "swapped.png")
    result = read_image(enhanced.output_dir / "swapped.png")
    assert not np.array_equal(result, swapped)
    for point in marks(astronaut_face):  # the stand-in's white discs, on the swapped face
        assert at(result, point).min() > 240


def test_enhance_params_are_checked() -> None:
    with pytest.raises(ValueError):
        face_swap.FaceSwapParams.model_validate({"enhance": "gpen"})
    with pytest.raises(ValueError):
        face_swap.FaceSwapParams.model_validate({"enhance_blend": 1.5})
    with pytest.raises(ValueError):
        face_enhance.FaceEnhanceParams.model_validate({"fidelity": -0.1})


def first_frame(path: Path) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    ok, frame = capture.read()
    capture.release()
    assert ok
    return np.asarray(frame, dtype=np.float64)


def test_face_swap_enhances_the_frames_of_a_video(
    tmp_path: Path, pool: EnginePool, astronaut_face: Face
) -> None:
    original = read_image(ASTRONAUT)
    source = tmp_path / "other.png"
    write_image(source, derive_face(original, astronaut_face.points))
    clip = write_face_video(tmp_path / "clip.mp4", original, frames=4)
    files = {"source": source, "target": clip}
    frames = []
    for name, params in (("plain", {}), ("enhanced", {"enhance": "codeformer"})):
        ctx = LocalContext.with_files(root=tmp_path / name, pool=pool, files=files)
        summary = run_pipeline(face_swap.SPEC, params, ctx)
        assert summary is not None and (summary["frames"], summary["frames_swapped"]) == (4, 4)
        frames.append(first_frame(ctx.output_dir / "swapped.mp4"))
    # The CodeFormer stand-in (fidelity 0.5) halves the face's contrast: part of the
    # frame changes a lot, its corner does not.
    change = np.abs(frames[1] - frames[0]).mean(axis=2)
    height, width = change.shape
    assert (change > 20).sum() > 1000  # the face: about 2,500 pixels of 256x256
    assert change[: height // 8, : width // 8].mean() < 2
