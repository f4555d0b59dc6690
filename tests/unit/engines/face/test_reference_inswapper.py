"""inswapper's crop and paste-back against insightface's ``model_zoo/inswapper.py``.

The stand-in swapper returns its input crop with five magenta marks painted at
the 128 template's points (FaceFusion's ``arcface_128``: insightface's
``arcface_dst`` + (8, 0)), so where the marks land in the picture depends on
where the face sat in the crop: a zoomed or shifted crop (issue 16 items 1, 2)
moves them. The expected positions are the inverse of insightface's
``estimate_norm(points, 128)`` on the astronaut (``test_reference_align``)
applied to the template. The paste-back numbers (mask side 154, erosion 15,
blur half-width 7, alpha sum 17717.867, 14141 pixels over 0.999, 21879 over
0, merged image sum 89388835) come from ``INSwapper.get``'s paste-back branch
transcribed line for line and run with OpenCV 5.0 outside this repository on
the astronaut, its reference 128 crop inverted as the swapped face.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper

from tests.faces import find_face
from tests.unit.engines.face.test_reference_align import ARCFACE_DST, REFERENCE
from tests.unit.engines.face.test_swap_inswapper import arcface_graph, entry
from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_inswapper import (
    InSwapper,
    embed_input,
    mask_kernels,
    paste_back,
    paste_mask,
)
from visiovox.engines.face.types import Image

TEMPLATE_128 = ARCFACE_DST + np.array([8.0, 0.0])
MATRIX_128 = np.array(REFERENCE[("astronaut", 128)])


def marker_graph(path: Path, emap: np.ndarray) -> None:
    """A swapper returning its crop with magenta 3x3 marks at the template's points."""
    keep = np.ones((1, 1, 128, 128), dtype=np.float32)
    paint = np.zeros((1, 3, 128, 128), dtype=np.float32)
    for x, y in np.rint(TEMPLATE_128).astype(int):
        keep[..., y - 1 : y + 2, x - 1 : x + 2] = 0.0
        paint[:, (0, 2), y - 1 : y + 2, x - 1 : x + 2] = 1.0
    target = helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128])
    source = helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])
    nodes = [
        helper.make_node("ReduceSum", ["source"], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Mul", ["target", "keep"], ["kept"]),
        helper.make_node("Add", ["kept", "paint"], ["painted"]),
        helper.make_node("Add", ["painted", "nothing"], ["output"]),
    ]
    initializers = [
        numpy_helper.from_array(np.zeros((1,), dtype=np.float32), "zero"),
        numpy_helper.from_array(keep, "keep"),
        numpy_helper.from_array(paint, "paint"),
        numpy_helper.from_array(emap, "emap"),
    ]
    graph = helper.make_graph(nodes, "marker", [target, source], [output], initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


SEED = 3


@pytest.fixture(scope="module")
def marker_swapper(tmp_path_factory: pytest.TempPathFactory) -> InSwapper:
    root = tmp_path_factory.mktemp("marker")
    rng = np.random.default_rng(SEED)
    cache = root / "cache"
    swap_file = cache / "inswapper-128" / "inswapper_128.onnx"
    embed_file = cache / "arcface-w600k-r50" / "w600k_r50.onnx"
    for folder in (swap_file.parent, embed_file.parent):
        folder.mkdir(parents=True)
    marker_graph(swap_file, rng.standard_normal((512, 512)).astype(np.float32))
    arcface_graph(embed_file, rng.standard_normal((3, 512)).astype(np.float32))
    manifest = root / "models.yaml"
    models = [entry("inswapper-128", swap_file), entry("arcface-w600k-r50", embed_file)]
    manifest.write_text(yaml.safe_dump({"models": models}))
    settings = load_settings(models={"cache_dir": cache, "manifest": manifest, "offline": True})
    engine = InSwapper(settings=settings, device="cpu")
    engine.load()
    return engine


def test_marks_land_where_insightfaces_crop_puts_the_template(
    marker_swapper: InSwapper,
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    astronaut: Image,
    hopper: Image,
) -> None:
    face = find_face(detector, landmarker, astronaut)
    source = find_face(detector, landmarker, hopper)
    result = marker_swapper.swap(
        source=hopper, source_face=source, target=astronaut, target_face=face
    )
    inverse = cv2.invertAffineTransform(MATRIX_128)
    expected = TEMPLATE_128 @ inverse[:, :2].T + inverse[:, 2]
    magenta = (
        result[..., 0].astype(int) + result[..., 2].astype(int) - 2 * result[..., 1].astype(int)
    )
    count, _, _, centroids = cv2.connectedComponentsWithStats((magenta > 250).astype(np.uint8))
    found = centroids[1:]
    assert count - 1 == 5
    for point in expected:
        assert np.linalg.norm(found - point, axis=1).min() < 1.0


def test_paste_back_equals_insightfaces_on_the_fixture(astronaut: Image) -> None:
    assert mask_kernels(154) == (15, 7)
    assert mask_kernels(60) == (10, 5)  # the floors: max(side // 10, 10), max(side // 20, 5)
    alpha = paste_mask(MATRIX_128, shape=astronaut.shape[:2])
    assert float(alpha.sum()) == pytest.approx(17717.867, abs=0.05)
    assert int((alpha > 0.999).sum()) == 14141
    assert int((alpha > 0).sum()) == 21879
    crop = cv2.warpAffine(astronaut, MATRIX_128, (128, 128), borderValue=0.0)
    merged = paste_back(astronaut, 255 - crop, MATRIX_128)
    # Within a few grey levels in all (5 pixels off by 1 here): the paste works in
    # the face's region, and OpenCV's fixed-point warp rounds the region's shifted
    # matrix differently from the whole frame's in a few pixels.
    assert abs(int(merged.astype(np.int64).sum()) - 89388835) <= 10
    assert np.array_equal(merged[alpha == 0], astronaut[alpha == 0])  # outside the mask


def test_arcface_input_and_latent_follow_insightface(
    marker_swapper: InSwapper, detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image
) -> None:
    face = find_face(detector, landmarker, astronaut)
    blob = embed_input(astronaut, face)
    # arcface_onnx.py: norm_crop(img, kps, 112), RGB, (pixel - 127.5) / 127.5.
    crop = cv2.warpAffine(astronaut, np.array(REFERENCE[("astronaut", 112)]), (112, 112))
    expected = ((crop.astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
    assert blob.shape == (1, 3, 112, 112)
    assert np.abs(blob - expected).mean() < 0.5 / 127.5
    # inswapper.get: latent = normed_embedding @ emap, normalised; the stand-in
    # ArcFace is the channel means times its weights (drawn after emap).
    rng = np.random.default_rng(SEED)
    emap = rng.standard_normal((512, 512)).astype(np.float32)
    weights = rng.standard_normal((3, 512)).astype(np.float32)
    embedding = blob.mean(axis=(2, 3)) @ weights
    latent = (embedding / np.linalg.norm(embedding)) @ emap
    latent /= np.linalg.norm(latent)
    assert np.allclose(marker_swapper.latent(astronaut, face), latent, atol=1e-4)


def whole_frame_mask(matrix: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """insightface ``INSwapper.get``'s mask lines, over the whole frame."""
    inverse = cv2.invertAffineTransform(matrix)
    white = np.full((128, 128), 255, dtype=np.float32)
    mask = cv2.warpAffine(white, inverse, (shape[1], shape[0]), borderValue=0.0)
    mask[mask > 20] = 255
    rows, cols = np.where(mask == 255)
    side = int(np.sqrt((rows.max() - rows.min()) * (cols.max() - cols.min())))
    erode, blur = max(side // 10, 10), max(side // 20, 5)
    mask = cv2.erode(mask, np.ones((erode, erode), np.uint8), iterations=1)
    return cv2.GaussianBlur(mask, (2 * blur + 1, 2 * blur + 1), 0) / 255


@pytest.mark.parametrize(
    ("scale", "degrees", "centre"),
    [
        (0.87, 0.0, (225.0, 130.0)),  # the astronaut's face
        (0.25, 35.0, (300.0, 260.0)),  # a large face, turned
        (3.0, -20.0, (100.0, 400.0)),  # a small face
        (0.5, 10.0, (20.0, 30.0)),  # partly off the top-left corner
        (0.6, -50.0, (500.0, 500.0)),  # partly off the bottom-right corner
    ],
)
def test_the_regions_mask_is_the_whole_frames(
    scale: float, degrees: float, centre: tuple[float, float]
) -> None:
    angle = np.deg2rad(degrees)
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = np.c_[linear, np.array([64.0, 64.0]) - linear @ np.array(centre)]
    shape = (512, 512)
    assert np.abs(paste_mask(matrix, shape=shape) - whole_frame_mask(matrix, shape)).max() < 1e-5
