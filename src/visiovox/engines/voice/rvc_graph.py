"""Checks on an uploaded RVC synthesizer graph, read as untrusted bytes.

The ModelProto is parsed without loading external data, then refused when a
tensor points at external data (a path the loader would open), when a node or
function is outside the standard ``ai.onnx`` domain (a custom operator is
native code a session would look up), or when one initialiser is larger than
the cap (a graph that asks for gigabytes before it runs). Only then is it
compared with what RVC's own export writes
(``infer/modules/onnx/export.py``, ``SynthesizerTrnMsNSFsidM``):
inputs ``phone`` (1, T, 768) float, ``phone_lengths`` (1,) int64, ``pitch``
(1, T) int64, ``pitchf`` (1, T) float, ``ds`` (1,) int64 (the speaker),
``rnd`` (1, 192, T) float (the noise), and the output ``audio`` (1, 1, N) float.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import onnx
from onnx import TensorProto

from visiovox.errors import PipelineError

CONTENT_DIM = 768
NOISE_DIM = 192
STANDARD_DOMAINS = frozenset({"", "ai.onnx"})
_FLOAT = TensorProto.FLOAT
_INT64 = TensorProto.INT64


@dataclass(frozen=True)
class Port:
    """One input or output the synthesizer must have: its element type and fixed dims."""

    name: str
    elem_type: int
    rank: int
    fixed: tuple[tuple[int, int], ...] = ()  # (axis, size)


SYNTHESIZER_INPUTS = (
    Port("phone", _FLOAT, 3, ((2, CONTENT_DIM),)),
    Port("phone_lengths", _INT64, 1),
    Port("pitch", _INT64, 2),
    Port("pitchf", _FLOAT, 2),
    Port("ds", _INT64, 1),
    Port("rnd", _FLOAT, 3, ((1, NOISE_DIM),)),
)
SYNTHESIZER_OUTPUT = Port("audio", _FLOAT, 3)


class InvalidVoiceModel(PipelineError):
    """The file is not a safe RVC v2 synthesizer graph (job error ``invalid_voice_model``)."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_voice_model", message)


def read_untrusted(path: Path, *, max_initializer_bytes: int) -> onnx.ModelProto:
    """The graph at ``path``, parsed without external data and checked to be safe to load."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf and onnx raise several types on garbage
        raise InvalidVoiceModel(f"not an ONNX model: {type(exc).__name__}") from None
    if not model.graph.node:
        raise InvalidVoiceModel("the ONNX model has no graph")
    for domain in {opset.domain for opset in model.opset_import} - STANDARD_DOMAINS:
        raise InvalidVoiceModel(f"the model imports the custom operator domain {domain!r}")
    if model.functions:
        raise InvalidVoiceModel("the model defines its own functions")
    for graph in _graphs(model.graph):
        _check_graph(graph, max_initializer_bytes=max_initializer_bytes)
    return model


def check_synthesizer(model: onnx.ModelProto) -> None:
    """Raise ``InvalidVoiceModel`` unless ``model`` has RVC v2's synthesizer inputs and output."""
    inputs = {value.name: value for value in model.graph.input}
    initialisers = {tensor.name for tensor in model.graph.initializer}
    missing = [port.name for port in SYNTHESIZER_INPUTS if port.name not in inputs]
    if missing:
        raise InvalidVoiceModel(f"not an RVC synthesizer: no input {', '.join(missing)}")
    extra = sorted(set(inputs) - initialisers - {port.name for port in SYNTHESIZER_INPUTS})
    if extra:
        raise InvalidVoiceModel(f"not an RVC synthesizer: unexpected input {', '.join(extra)}")
    for port in SYNTHESIZER_INPUTS:
        _check_port(inputs[port.name], port)
    outputs = list(model.graph.output)
    if len(outputs) != 1 or outputs[0].name != SYNTHESIZER_OUTPUT.name:
        names = ", ".join(value.name for value in outputs)
        raise InvalidVoiceModel(f"not an RVC synthesizer: outputs are {names}, not audio")
    _check_port(outputs[0], SYNTHESIZER_OUTPUT)


def _graphs(graph: onnx.GraphProto) -> Iterator[onnx.GraphProto]:
    """``graph`` and every subgraph of its nodes (If, Loop, Scan bodies), depth first."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(attribute.g)
            for sub in attribute.graphs:
                yield from _graphs(sub)


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                yield attribute.t
            yield from attribute.tensors


def _check_graph(graph: onnx.GraphProto, *, max_initializer_bytes: int) -> None:
    for node in graph.node:
        if node.domain not in STANDARD_DOMAINS:
            raise InvalidVoiceModel(f"custom operator {node.domain}.{node.op_type} is refused")
    for tensor in _tensors(graph):
        if tensor.data_location == TensorProto.EXTERNAL or tensor.external_data:
            raise InvalidVoiceModel(f"tensor {tensor.name!r} refers to external data")
        size = _tensor_bytes(tensor)
        if size > max_initializer_bytes:
            raise InvalidVoiceModel(
                f"tensor {tensor.name!r} holds {size} bytes, over the {max_initializer_bytes} cap"
            )


def _tensor_bytes(tensor: onnx.TensorProto) -> int:
    """What ``tensor`` takes once loaded: its declared shape, not only the bytes stored."""
    count = 1
    for dim in tensor.dims:
        count *= max(int(dim), 0)
    itemsize = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    return max(count * itemsize, len(tensor.raw_data))


def _check_port(value: onnx.ValueInfoProto, port: Port) -> None:
    tensor = value.type.tensor_type
    dims = tensor.shape.dim
    if tensor.elem_type != port.elem_type or len(dims) != port.rank:
        expected = f"{TensorProto.DataType.Name(port.elem_type).lower()} of rank {port.rank}"
        raise InvalidVoiceModel(f"not an RVC v2 synthesizer: {port.name} is not {expected}")
    for axis, size in port.fixed:
        if dims[axis].HasField("dim_value") and dims[axis].dim_value != size:
            raise InvalidVoiceModel(
                f"not an RVC v2 synthesizer: {port.name} axis {axis} is "
                f"{dims[axis].dim_value}, not {size}"
            )
