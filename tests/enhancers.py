"""Stand-ins for GFPGAN and CodeFormer: test-built ONNX graphs with the real exports' tensors.

FaceFusion's exports take ``input`` (1x3x512x512 float, RGB in [-1, 1]) and
answer the face first; CodeFormer's also takes ``weight`` (a 1-element double).
The GFPGAN stand-in keeps its input but paints white discs where the FFHQ 512
template puts the eyes, the nose tip and the mouth corners, so a crop taken
from the wrong place (or pasted back to one) puts the discs off the face's
landmarks. The CodeFormer stand-in multiplies the face by ``weight``.

``stand_in_manifest`` places both in a model cache and writes a manifest: the
project's own, with these two entries' sizes and sha256 made the stand-ins';
``stand_in_settings`` also verifies them there, as ``visiovox models pull`` would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

from visiovox.config import Settings, load_settings
from visiovox.engines.face.align import template_points
from visiovox.models.cache import prepare_model
from visiovox.models.hashing import sha256_of

MANIFEST = Path(__file__).resolve().parents[1] / "configs" / "models.yaml"
DISC_RADIUS = 5
OPSET = [helper.make_opsetid("", 17)]
FILES = {"gfpgan-1.4": "gfpgan_1.4.onnx", "codeformer": "codeformer.onnx"}


def template_discs() -> np.ndarray:
    """1x1x512x512: 1 within DISC_RADIUS of each FFHQ 512 template point, else 0."""
    ys, xs = np.mgrid[0:512, 0:512] + 0.5
    discs = np.zeros((512, 512), dtype=np.float32)
    for x, y in template_points("ffhq_512", 512):
        discs[(xs - x) ** 2 + (ys - y) ** 2 <= DISC_RADIUS**2] = 1.0
    return discs[None, None]


def gfpgan_graph(path: Path) -> None:
    """output = input * (1 - discs) + discs: the face, white on the template's points."""
    face = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 512, 512])
    discs = template_discs()
    nodes = [
        helper.make_node("Mul", ["input", "keep"], ["kept"]),
        helper.make_node("Add", ["kept", "discs"], ["output"]),
    ]
    initializers = [
        numpy_helper.from_array(1.0 - discs, "keep"),
        numpy_helper.from_array(discs, "discs"),
    ]
    graph = helper.make_graph(nodes, "gfpgan", [face], [output], initializers)
    onnx.save(helper.make_model(graph, opset_imports=OPSET), str(path))


def codeformer_graph(path: Path) -> None:
    """output = input * weight (the weight a double, as in FaceFusion's export)."""
    face = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])
    weight = helper.make_tensor_value_info("weight", TensorProto.DOUBLE, [1])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 512, 512])
    nodes = [
        helper.make_node("Cast", ["weight"], ["w"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["input", "w"], ["output"]),
    ]
    graph = helper.make_graph(nodes, "codeformer", [face, weight], [output])
    onnx.save(helper.make_model(graph, opset_imports=OPSET), str(path))


def stand_in_manifest(*, cache: Path, manifest: Path) -> Path:
    """Both stand-ins in ``cache``, and at ``manifest`` the project's manifest naming them."""
    builders = {"gfpgan-1.4": gfpgan_graph, "codeformer": codeformer_graph}
    document = yaml.safe_load(MANIFEST.read_text())
    for entry in document["models"]:
        if entry["id"] not in builders:
            continue
        path = cache / entry["id"] / FILES[entry["id"]]
        path.parent.mkdir(parents=True, exist_ok=True)
        builders[entry["id"]](path)
        entry["files"] = [
            {"path": path.name, "sha256": sha256_of(path), "size": path.stat().st_size}
        ]
    manifest.write_text(yaml.safe_dump(document))
    return manifest


def stand_in_settings(root: Path) -> Settings:
    """Settings whose model cache (``root/cache``) holds both stand-ins, verified."""
    manifest = stand_in_manifest(cache=root / "cache", manifest=root / "models.yaml")
    settings = load_settings(models={"cache_dir": root / "cache", "manifest": manifest})
    for model_id in FILES:
        prepare_model(settings, model_id)
    return settings
