"""The inswapper engine on test-built ONNX graphs with the real model's inputs and outputs.

The swapper graph takes ``target`` (1x3x128x128) and ``source`` (1x512) and
returns 1 - target, so its crop comes back inverted; ``emap`` (512x512) is its
last initializer. The "ArcFace" graph pools the 112x112 crop to 3 numbers and
maps them to 512. Both are placed in a model cache under a test manifest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper

from tests.faces import find_face
from visiovox.config import load_settings
from visiovox.engines.face.align import five_points
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_inswapper import InSwapper, read_emap
from visiovox.engines.face.types import Image
from visiovox.models.hashing import sha256_of


def swapper_graph(path: Path, emap: np.ndarray) -> None:
    target = helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128])
    source = helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])
    one = numpy_helper.from_array(np.ones((1,), dtype=np.float32), "one")
    zero = numpy_helper.from_array(np.zeros((1,), dtype=np.float32), "zero")
    nodes = [
        helper.make_node("ReduceSum", ["source"], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Sub", ["one", "target"], ["inverted"]),
        helper.make_node("Add", ["inverted", "nothing"], ["output"]),
    ]
    initializers = [one, zero, numpy_helper.from_array(emap, "emap")]
    graph = helper.make_graph(nodes, "inswapper", [target, source], [output], initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def arcface_graph(path: Path, weights: np.ndarray) -> None:
    image = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 112, 112])
    output = helper.make_tensor_value_info("683", TensorProto.FLOAT, [1, 512])
    nodes = [
        helper.make_node("GlobalAveragePool", ["input.1"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["683"]),
    ]
    graph = helper.make_graph(
        nodes, "arcface", [image], [output], [numpy_helper.from_array(weights, "w")]
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def entry(model_id: str, path: Path) -> dict[str, object]:
    return {
        "id": model_id,
        "task": "face-swap",
        "engine": "face.swap_inswapper",
        "license": "test graph",
        "files": [{"path": path.name, "sha256": sha256_of(path), "size": path.stat().st_size}],
        "sources": [{"type": "url", "files": {path.name: f"http://127.0.0.1:9/{path.name}"}}],
    }


@pytest.fixture(scope="module")
def inswapper(tmp_path_factory: pytest.TempPathFactory) -> InSwapper:
    root = tmp_path_factory.mktemp("inswapper")
    rng = np.random.default_rng(7)
    cache = root / "cache"
    swap_file = cache / "inswapper-128" / "inswapper_128.onnx"
    embed_file = cache / "arcface-w600k-r50" / "w600k_r50.onnx"
    for folder in (swap_file.parent, embed_file.parent):
        folder.mkdir(parents=True)
    swapper_graph(swap_file, rng.standard_normal((512, 512)).astype(np.float32))
    arcface_graph(embed_file, rng.standard_normal((3, 512)).astype(np.float32))
    manifest = root / "models.yaml"
    models = [entry("inswapper-128", swap_file), entry("arcface-w600k-r50", embed_file)]
    manifest.write_text(yaml.safe_dump({"models": models}))
    settings = load_settings(models={"cache_dir": cache, "manifest": manifest, "offline": True})
    engine = InSwapper(settings=settings, device="cpu")
    engine.load()
    return engine


def test_emap_is_the_last_initializer(inswapper: InSwapper, tmp_path: Path) -> None:
    emap = np.arange(512 * 512, dtype=np.float32).reshape(512, 512)
    swapper_graph(tmp_path / "s.onnx", emap)
    assert np.array_equal(read_emap(tmp_path / "s.onnx"), emap)


def test_latent_is_normalised_and_follows_identity(
    inswapper: InSwapper,
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    astronaut: Image,
    other_face: Image,
) -> None:
    face_a = find_face(detector, landmarker, astronaut)
    face_b = find_face(detector, landmarker, other_face)
    latent_a = inswapper.latent(astronaut, face_a)
    assert latent_a.shape == (1, 512)
    assert np.linalg.norm(latent_a) == pytest.approx(1.0, abs=1e-4)
    assert not np.allclose(latent_a, inswapper.latent(other_face, face_b))


def test_swapped_crop_is_pasted_back_on_the_face(
    inswapper: InSwapper,
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    astronaut: Image,
    other_face: Image,
) -> None:
    face_a = find_face(detector, landmarker, astronaut)
    face_b = find_face(detector, landmarker, other_face)
    result = inswapper.swap(
        source=other_face, source_face=face_b, target=astronaut, target_face=face_a
    )
    x, y = np.round(five_points(face_a.points)[2]).astype(int)  # the nose tip
    # The test graph inverts its crop: the middle of the face comes back inverted.
    centre = (slice(y - 3, y + 3), slice(x - 3, x + 3))
    inverted = 255 - astronaut[centre].astype(int)
    assert np.abs(result[centre].astype(int) - inverted).mean() < 12
    assert np.array_equal(result[:20], astronaut[:20])  # far from the face: untouched
    kept = inswapper.swap(
        source=other_face, source_face=face_b, target=astronaut, target_face=face_a, blend=0.0
    )
    assert np.array_equal(kept, astronaut)
