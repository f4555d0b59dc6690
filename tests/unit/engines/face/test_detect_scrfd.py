"""The SCRFD detector on a test-built ONNX graph with det_10g's input and nine outputs.

The graph takes ``input.1`` (1x3xHxW, dynamic) and returns, for strides 8, 16
and 32, scores (N x 1) named 448/471/494, box distances (N x 4) 451/474/497 and
keypoint offsets (N x 10) 454/477/500, N = 2 * H/stride * W/stride, as the
real export does. Its values are constants planted at chosen anchors (added to
a zero-weighted sum of the input, so the input is consumed): the decode, the
NMS, the letterbox scaling and the HOG-like box are checked against where the
planted faces are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper

from tests.unit.engines.face.test_swap_inswapper import entry
from visiovox.config import load_settings
from visiovox.engines.face.detect_scrfd import (
    HOG_BOX_CENTRE,
    HOG_BOX_SIDE,
    ScrfdDetector,
    preferred_detector,
)

SIDE = 640
STRIDES = (8, 16, 32)
NAMES = (("448", "471", "494"), ("451", "474", "497"), ("454", "477", "500"))
# Five keypoints of a face around (0, 0) in input pixels: eyes, nose, mouth corners.
KEYPOINTS = np.array([[-20, -20], [20, -20], [0, 0], [-15, 20], [15, 20]], dtype=np.float32)


def planted(stride: int, cell: tuple[int, int], anchor: int = 0) -> int:
    """The row of the anchor ``anchor`` of feature-map cell (x, y) at ``stride``."""
    x, y = cell
    return 2 * (y * (SIDE // stride) + x) + anchor


def outputs(faces: list[tuple[int, tuple[int, int], float]]) -> list[np.ndarray]:
    """Scores, distances, keypoints per stride with ``faces`` (stride, cell, score) planted."""
    scores, boxes, points = [], [], []
    for stride in STRIDES:
        count = 2 * (SIDE // stride) ** 2
        scores.append(np.zeros((count, 1), dtype=np.float32))
        boxes.append(np.zeros((count, 4), dtype=np.float32))
        points.append(np.zeros((count, 10), dtype=np.float32))
    for stride, cell, score in faces:
        level, row = STRIDES.index(stride), planted(stride, cell)
        scores[level][row] = score
        # A 60x60 box around the anchor, keypoints around it; both in units of the stride.
        boxes[level][row] = 30.0 / stride
        points[level][row] = (KEYPOINTS / stride).ravel()
    return scores + boxes + points


def scrfd_graph(path: Path, values: list[np.ndarray]) -> None:
    image = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "h", "w"])
    nodes = [
        helper.make_node("ReduceSum", ["input.1"], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
    ]
    initializers = [numpy_helper.from_array(np.zeros((1,), dtype=np.float32), "zero")]
    outputs_info = []
    names = [name for group in NAMES for name in group]
    for name, value in zip(names, values, strict=True):
        initializers.append(numpy_helper.from_array(value, f"{name}_value"))
        nodes.append(helper.make_node("Add", [f"{name}_value", "nothing"], [name]))
        outputs_info.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, value.shape))
    graph = helper.make_graph(nodes, "scrfd", [image], outputs_info, initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def detector_on(root: Path, values: list[np.ndarray]) -> ScrfdDetector:
    cache = root / "cache"
    model = cache / "scrfd-10g" / "det_10g.onnx"
    model.parent.mkdir(parents=True)
    scrfd_graph(model, values)
    manifest = root / "models.yaml"
    manifest.write_text(yaml.safe_dump({"models": [entry("scrfd-10g", model)]}))
    settings = load_settings(models={"cache_dir": cache, "manifest": manifest, "offline": True})
    detector = ScrfdDetector(settings=settings, device="cpu")
    detector.load()
    return detector


def test_graph_has_the_real_names_and_shapes(tmp_path: Path) -> None:
    scrfd_graph(tmp_path / "g.onnx", outputs([]))
    graph = onnx.load(str(tmp_path / "g.onnx")).graph
    assert [i.name for i in graph.input] == ["input.1"]
    shapes = [[d.dim_value for d in o.type.tensor_type.shape.dim] for o in graph.output]
    assert [o.name for o in graph.output] == [n for group in NAMES for n in group]
    assert shapes[:3] == [[12800, 1], [3200, 1], [800, 1]]
    assert shapes[3:6] == [[12800, 4], [3200, 4], [800, 4]]
    assert shapes[6:] == [[12800, 10], [3200, 10], [800, 10]]


def test_faces_are_decoded_merged_and_scaled_back(tmp_path: Path) -> None:
    # Face 1 at stride 8, cell (10, 20) -> anchor (80, 160); a weaker duplicate of it at
    # stride 16, cell (5, 10) -> the same anchor (merged by NMS); face 2 at stride 32,
    # cell (15, 5) -> anchor (480, 160); a score under the threshold is ignored.
    faces = [(8, (10, 20), 0.9), (16, (5, 10), 0.7), (32, (15, 5), 0.8), (8, (60, 60), 0.3)]
    detector = detector_on(tmp_path, outputs(faces))
    # A 1280x960 frame is fitted into 640x640 at half scale (480 rows, padded below).
    boxes = detector.detect(np.zeros((960, 1280, 3), dtype=np.uint8))
    assert len(boxes) == 2
    span = 40.0 * 2  # eyes to mouth: 40 input pixels, doubled back to the frame
    centres = {(80, 160): 0.9, (480, 160): 0.8}
    for box in boxes:
        cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
        anchor = min(centres, key=lambda a: abs(a[0] * 2 - cx) + abs(a[1] * 2 - cy))
        assert box.score == pytest.approx(centres.pop(anchor))
        # Eyes sit 20 input pixels above the anchor; the box centre HOG_BOX_CENTRE below them.
        eyes_y = (anchor[1] - 20) * 2
        assert cx == pytest.approx(anchor[0] * 2, abs=1)
        assert cy == pytest.approx(eyes_y + HOG_BOX_CENTRE * span, abs=1)
        assert box.right - box.left == pytest.approx(HOG_BOX_SIDE * span, abs=2)


def test_no_face_and_the_detector_choice(tmp_path: Path) -> None:
    detector = detector_on(tmp_path, outputs([]))
    assert detector.detect(np.zeros((100, 200, 3), dtype=np.uint8)) == []
    settings = detector.settings
    assert preferred_detector(settings) == "face.detect_scrfd"  # its weights are cached
    for choice, name in (("hog", "face.detect"), ("scrfd", "face.detect_scrfd")):
        chosen = settings.model_copy(
            update={"face": settings.face.model_copy(update={"detector": choice})}
        )
        assert preferred_detector(chosen) == name
    empty = settings.model_copy(
        update={"models": settings.models.model_copy(update={"cache_dir": tmp_path / "none"})}
    )
    assert preferred_detector(empty) == "face.detect"
