"""An uploaded synthesizer is untrusted: what ``rvc_graph`` refuses before anything loads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.unit.engines.voice.rvc_graphs import (
    OPSET,
    rmvpe_graph,
    synthesizer_graph,
    synthesizer_inputs,
)
from visiovox.engines.voice.rvc_graph import InvalidVoiceModel, check_synthesizer, read_untrusted

CAP = 4 << 20


def _read(path: Path) -> onnx.ModelProto:
    return read_untrusted(path, max_initializer_bytes=CAP)


def _tiny(path: Path, *, node: onnx.NodeProto, initializers: list[onnx.TensorProto]) -> Path:
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=OPSET)
    # Written as bytes: onnx.save itself refuses to write a ``..`` location.
    path.write_bytes(model.SerializeToString())
    return path


def test_an_rvc_export_passes(tmp_path: Path) -> None:
    model = _read(synthesizer_graph(tmp_path / "voice.onnx"))
    check_synthesizer(model)
    assert [value.name for value in model.graph.input] == [
        "phone",
        "phone_lengths",
        "pitch",
        "pitchf",
        "ds",
        "rnd",
    ]


def test_garbage_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "voice.onnx"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(64))
    with pytest.raises(InvalidVoiceModel) as caught:
        _read(path)
    assert caught.value.code == "invalid_voice_model"


def test_external_data_is_refused(tmp_path: Path) -> None:
    weights = numpy_helper.from_array(np.zeros(4, dtype=np.float32), "w")
    weights.data_location = TensorProto.EXTERNAL
    del weights.float_data[:]
    weights.raw_data = b""
    entry = weights.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/shadow"
    node = helper.make_node("Add", ["x", "w"], ["y"])
    with pytest.raises(InvalidVoiceModel, match="external data"):
        _read(_tiny(tmp_path / "voice.onnx", node=node, initializers=[weights]))


def test_custom_operators_are_refused(tmp_path: Path) -> None:
    node = helper.make_node("Backdoor", ["x"], ["y"], domain="com.evil")
    with pytest.raises(InvalidVoiceModel, match="custom operator"):
        _read(_tiny(tmp_path / "voice.onnx", node=node, initializers=[]))


def test_a_custom_operator_in_a_subgraph_is_refused(tmp_path: Path) -> None:
    inner = helper.make_graph(
        [helper.make_node("Backdoor", [], ["z"], domain="com.evil")],
        "then",
        [],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1])],
    )
    node = helper.make_node("If", ["x"], ["y"], then_branch=inner, else_branch=inner)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    path = tmp_path / "voice.onnx"
    onnx.save(helper.make_model(graph, opset_imports=OPSET), str(path))
    with pytest.raises(InvalidVoiceModel, match="custom operator"):
        _read(path)


def test_an_oversized_initialiser_is_refused(tmp_path: Path) -> None:
    # Declared 1 G floats with no data: the size counted is the shape's, not the bytes'.
    huge = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 30])
    node = helper.make_node("Add", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [huge],
    )
    path = tmp_path / "voice.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=OPSET).SerializeToString())
    with pytest.raises(InvalidVoiceModel, match="over the 4194304 cap"):
        _read(path)


def test_another_graph_is_not_a_synthesizer(tmp_path: Path) -> None:
    model = _read(rmvpe_graph(tmp_path / "rmvpe.onnx"))
    with pytest.raises(InvalidVoiceModel, match="no input phone"):
        check_synthesizer(model)


def test_an_rvc_v1_synthesizer_is_refused(tmp_path: Path) -> None:
    # v1 voices take HuBERT's 256-d projection; this engine feeds 768-d v2 features.
    model = _read(synthesizer_graph(tmp_path / "v1.onnx", content_dim=256))
    with pytest.raises(InvalidVoiceModel, match="phone axis 2 is 256, not 768"):
        check_synthesizer(model)


def test_a_wrong_input_type_is_refused(tmp_path: Path) -> None:
    inputs = synthesizer_inputs()
    inputs[2] = helper.make_tensor_value_info("pitch", TensorProto.FLOAT, [1, "T"])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["rnd"], ["audio"])],
        "g",
        inputs,
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, 192, "T"])],
    )
    path = tmp_path / "voice.onnx"
    onnx.save(helper.make_model(graph, opset_imports=OPSET), str(path))
    with pytest.raises(InvalidVoiceModel, match="pitch is not int64 of rank 2"):
        check_synthesizer(_read(path))
