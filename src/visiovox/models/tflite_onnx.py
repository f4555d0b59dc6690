"""BlazeFace's TFLite file rewritten as an ONNX graph, so ONNX Runtime runs it (benchmark only).

MediaPipe ships its face detectors as TFLite. Running them through LiteRT
would add a ~60 MB runtime for a model under 1 MB; the two files use a dozen
operators (``DEQUANTIZE`` of float16 weights, ``DENSIFY`` of the full-range
model's sparse ones, ``CONV_2D``, ``DEPTHWISE_CONV_2D``, ``ADD``, ``RELU``,
``PAD``, ``MAX_POOL_2D``, ``RESIZE_BILINEAR``, ``DEPTH_TO_SPACE``,
``RESHAPE``, ``CONCATENATION``), each with an exact ONNX counterpart. The
flatbuffer is read with the ``flatbuffers`` runtime (already installed with
ONNX Runtime) at the field slots of TensorFlow's ``schema.fbs``; the graph
keeps TFLite's tensor names and runs in NCHW, with one transpose back to NHWC
before each ``RESHAPE`` so the anchors come out in TFLite's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from flatbuffers.table import Table
from onnx import TensorProto, helper, numpy_helper

# BuiltinOperator codes of schema.fbs.
ADD, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D, DEQUANTIZE = 0, 2, 3, 4, 6
DEPTH_TO_SPACE, MAX_POOL_2D, RELU, RESHAPE, RESIZE_BILINEAR, PAD = 5, 17, 19, 22, 23, 34
DENSIFY = 124
# TensorType of schema.fbs.
_DTYPES: dict[int, type[np.generic]] = {0: np.float32, 1: np.float16, 2: np.int32}
# Padding and ActivationFunctionType of schema.fbs.
SAME, ACT_NONE, ACT_RELU = 0, 0, 1
NCHW_TO_NHWC = (0, 2, 3, 1)


class UnsupportedGraph(ValueError):
    """The TFLite file uses something this converter does not translate."""


def _table(buf: bytes, pos: int) -> Table:
    return Table(bytearray(buf), pos)


def _field(table: Table, slot: int) -> int:
    """The offset of field ``slot`` (its index in schema.fbs), 0 when absent."""
    return int(table.Offset(4 + 2 * slot))


def _int(table: Table, slot: int, kind: Any, default: int = 0) -> int:
    offset = _field(table, slot)
    return int(table.Get(kind, offset + table.Pos)) if offset else default


def _ints(table: Table, slot: int) -> list[int]:
    from flatbuffers.number_types import Int32Flags

    offset = _field(table, slot)
    if not offset:
        return []
    start, count = table.Vector(offset), table.VectorLen(offset)
    return [int(table.Get(Int32Flags, start + 4 * i)) for i in range(count)]


def _tables(table: Table, slot: int) -> list[Table]:
    offset = _field(table, slot)
    if not offset:
        return []
    start = table.Vector(offset)
    return [
        Table(table.Bytes, table.Indirect(start + 4 * i)) for i in range(table.VectorLen(offset))
    ]


def _sub(table: Table, slot: int) -> Table | None:
    offset = _field(table, slot)
    return Table(table.Bytes, table.Indirect(offset + table.Pos)) if offset else None


def _string(table: Table, slot: int) -> str:
    offset = _field(table, slot)
    return table.String(offset + table.Pos).decode() if offset else ""


def _index_vector(table: Table, kind_slot: int, slot: int) -> npt.NDArray[np.int64]:
    """A ``SparseIndexVector`` union (Int32Vector, Uint16Vector or Uint8Vector) as int64."""
    from flatbuffers.number_types import Uint8Flags

    dtypes = {1: np.int32, 2: np.uint16, 3: np.uint8}
    kind = _int(table, kind_slot, Uint8Flags)
    holder = _sub(table, slot)
    if kind not in dtypes or holder is None:
        raise UnsupportedGraph(f"sparse index vector type {kind}")
    offset = _field(holder, 0)
    start, count = holder.Vector(offset), holder.VectorLen(offset)
    dtype = np.dtype(dtypes[kind]).newbyteorder("<")
    raw = bytes(holder.Bytes[start : start + count * dtype.itemsize])
    return np.frombuffer(raw, dtype=dtype).astype(np.int64)


def _densify(values: npt.NDArray[Any], shape: tuple[int, ...], sparsity: Table) -> npt.NDArray[Any]:
    """The dense tensor of TFLite's sparse format: leading dimensions dense, the last CSR.

    That is the layout of MediaPipe's sparse models (traversal order 0..n-1, no
    block map); any other layout is refused rather than guessed.
    """
    from flatbuffers.number_types import Int8Flags, Int32Flags

    dims = _tables(sparsity, 2)
    formats = [_int(dim, 0, Int8Flags) for dim in dims]
    if (
        _ints(sparsity, 0) != list(range(len(shape)))
        or _ints(sparsity, 1)
        or formats != [0] * (len(shape) - 1) + [1]
    ):
        raise UnsupportedGraph("sparse layout other than dense rows with a CSR last dimension")
    if [_int(dim, 1, Int32Flags) for dim in dims[:-1]] != list(shape[:-1]):
        raise UnsupportedGraph("sparse dense sizes differ from the tensor's shape")
    segments = _index_vector(dims[-1], 2, 3)
    columns = _index_vector(dims[-1], 4, 5)
    rows = int(np.prod(shape[:-1]))
    dense = np.zeros((rows, shape[-1]), dtype=values.dtype)
    row_of = np.repeat(np.arange(rows), np.diff(segments))
    dense[row_of, columns] = values
    return dense.reshape(shape)


def _bytes(table: Table, slot: int) -> bytes:
    """A ``[ubyte]`` vector field (a buffer's data)."""
    offset = _field(table, slot)
    if not offset:
        return b""
    start = table.Vector(offset)
    return bytes(table.Bytes[start : start + table.VectorLen(offset)])


@dataclass(frozen=True)
class TfliteTensor:
    """One tensor of the subgraph: its name, shape and constant data (None for activations)."""

    name: str
    shape: tuple[int, ...]
    data: npt.NDArray[Any] | None


@dataclass(frozen=True)
class TfliteOp:
    """One operator: its builtin code, tensor indices and builtin options table."""

    code: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: Table | None


@dataclass(frozen=True)
class TfliteGraph:
    """The first subgraph of a TFLite model."""

    tensors: tuple[TfliteTensor, ...]
    ops: tuple[TfliteOp, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


def read_tflite(data: bytes) -> TfliteGraph:
    """The tensors, operators, inputs and outputs of ``data``'s first subgraph."""
    from flatbuffers.number_types import Int8Flags, Int32Flags, Uint8Flags, Uint32Flags
    from flatbuffers.util import GetBufferIdentifier

    if bytes(GetBufferIdentifier(bytearray(data), 0)) != b"TFL3":
        raise UnsupportedGraph("not a TFLite file (no TFL3 identifier)")
    model = _table(data, int.from_bytes(data[:4], "little"))
    codes = [max(_int(code, 0, Int8Flags), _int(code, 3, Int32Flags)) for code in _tables(model, 1)]
    buffers = [_bytes(buffer, 0) for buffer in _tables(model, 4)]
    graph = _tables(model, 2)[0]
    tensors = []
    for tensor in _tables(graph, 0):
        shape = tuple(_ints(tensor, 0))
        kind = _int(tensor, 1, Uint8Flags)
        raw = buffers[_int(tensor, 2, Uint32Flags)]
        if kind not in _DTYPES:
            raise UnsupportedGraph(f"tensor type {kind}")
        data_array = None
        if raw:
            values = np.frombuffer(raw, dtype=_DTYPES[kind])
            sparsity = _sub(tensor, 6)
            data_array = _densify(values, shape, sparsity) if sparsity else values.reshape(shape)
        tensors.append(TfliteTensor(_string(tensor, 3), shape, data_array))
    ops = tuple(
        TfliteOp(
            code=codes[_int(op, 0, Uint32Flags)],
            inputs=tuple(_ints(op, 1)),
            outputs=tuple(_ints(op, 2)),
            options=_sub(op, 4),
        )
        for op in _tables(graph, 3)
    )
    return TfliteGraph(tuple(tensors), ops, tuple(_ints(graph, 1)), tuple(_ints(graph, 2)))


class _Builder:
    """Accumulates ONNX nodes and initializers while walking the TFLite operators."""

    def __init__(self, graph: TfliteGraph) -> None:
        self.graph = graph
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.const_names: set[str] = set()
        self.consts: dict[int, npt.NDArray[Any]] = {
            index: tensor.data
            for index, tensor in enumerate(graph.tensors)
            if tensor.data is not None
        }

    def name(self, index: int) -> str:
        return self.graph.tensors[index].name or f"t{index}"

    def const(self, name: str, value: npt.NDArray[Any]) -> str:
        """An initializer named ``name`` (made once: several operators may share a constant)."""
        if name not in self.const_names:
            self.const_names.add(name)
            self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def activation(self, op: TfliteOp, slot: int, raw: str) -> None:
        from flatbuffers.number_types import Int8Flags

        act = _int(op.options, slot, Int8Flags) if op.options else ACT_NONE
        out = self.name(op.outputs[0])
        if act == ACT_NONE:
            self.nodes.append(helper.make_node("Identity", [raw], [out]))
        elif act == ACT_RELU:
            self.nodes.append(helper.make_node("Relu", [raw], [out]))
        else:
            raise UnsupportedGraph(f"fused activation {act}")


def _window(op: TfliteOp, slots: tuple[int, int, int]) -> dict[str, Any]:
    """ONNX ``strides`` and ``auto_pad`` from the (padding, stride_w, stride_h) slots."""
    from flatbuffers.number_types import Int8Flags, Int32Flags

    if op.options is None:
        raise UnsupportedGraph("window operator without options")
    padding = _int(op.options, slots[0], Int8Flags)
    stride_w = _int(op.options, slots[1], Int32Flags, 1)
    stride_h = _int(op.options, slots[2], Int32Flags, 1)
    # TensorFlow's SAME puts the odd pixel of padding at the end: ONNX SAME_UPPER.
    return {
        "strides": [stride_h, stride_w],
        "auto_pad": "SAME_UPPER" if padding == SAME else "VALID",
    }


def _conv(b: _Builder, op: TfliteOp, *, depthwise: bool) -> None:
    weights = b.consts[op.inputs[1]].astype(np.float32)  # O,H,W,I (depthwise: 1,H,W,C)
    bias = b.consts[op.inputs[2]].astype(np.float32)
    raw = b.name(op.outputs[0]) + "/raw"
    attrs = _window(op, (0, 1, 2))
    if depthwise:
        kernel = weights.transpose(3, 0, 1, 2)  # C,1,H,W
        attrs["group"] = kernel.shape[0]
    else:
        kernel = weights.transpose(0, 3, 1, 2)
    inputs = [
        b.name(op.inputs[0]),
        b.const(b.name(op.inputs[1]), kernel),
        b.const(b.name(op.inputs[2]), bias),
    ]
    b.nodes.append(helper.make_node("Conv", inputs, [raw], **attrs))
    b.activation(op, 4 if depthwise else 3, raw)


def _add(b: _Builder, op: TfliteOp) -> None:
    raw = b.name(op.outputs[0]) + "/raw"
    b.nodes.append(helper.make_node("Add", [b.name(i) for i in op.inputs], [raw]))
    b.activation(op, 0, raw)


def _relu(b: _Builder, op: TfliteOp) -> None:
    b.nodes.append(helper.make_node("Relu", [b.name(op.inputs[0])], [b.name(op.outputs[0])]))


def _pad(b: _Builder, op: TfliteOp) -> None:
    pads = b.consts[op.inputs[1]].astype(np.int64)  # NHWC rows of (before, after)
    nchw = pads[[0, 3, 1, 2]]
    name = b.const(b.name(op.inputs[1]), np.concatenate([nchw[:, 0], nchw[:, 1]]))
    b.nodes.append(helper.make_node("Pad", [b.name(op.inputs[0]), name], [b.name(op.outputs[0])]))


def _max_pool(b: _Builder, op: TfliteOp) -> None:
    from flatbuffers.number_types import Int32Flags

    attrs = _window(op, (0, 1, 2))
    assert op.options is not None
    attrs["kernel_shape"] = [_int(op.options, 4, Int32Flags), _int(op.options, 3, Int32Flags)]
    raw = b.name(op.outputs[0]) + "/raw"
    b.nodes.append(helper.make_node("MaxPool", [b.name(op.inputs[0])], [raw], **attrs))
    b.activation(op, 5, raw)


def _reshape(b: _Builder, op: TfliteOp) -> None:
    nhwc = b.name(op.outputs[0]) + "/nhwc"
    b.nodes.append(helper.make_node("Transpose", [b.name(op.inputs[0])], [nhwc], perm=NCHW_TO_NHWC))
    shape = np.array(b.graph.tensors[op.outputs[0]].shape, dtype=np.int64)
    name = b.const(b.name(op.outputs[0]) + "/shape", shape)
    b.nodes.append(helper.make_node("Reshape", [nhwc, name], [b.name(op.outputs[0])]))


def _concat(b: _Builder, op: TfliteOp) -> None:
    from flatbuffers.number_types import Int32Flags

    if any(len(b.graph.tensors[i].shape) != 3 for i in op.inputs):
        raise UnsupportedGraph("CONCATENATION of image tensors")
    axis = _int(op.options, 0, Int32Flags) if op.options else 0
    raw = b.name(op.outputs[0]) + "/raw"
    b.nodes.append(helper.make_node("Concat", [b.name(i) for i in op.inputs], [raw], axis=axis))
    b.activation(op, 1, raw)


def _resize_bilinear(b: _Builder, op: TfliteOp) -> None:
    from flatbuffers.number_types import BoolFlags

    align = _int(op.options, 2, BoolFlags) if op.options else 0
    half_pixel = _int(op.options, 3, BoolFlags) if op.options else 0
    if align or not half_pixel:
        raise UnsupportedGraph("RESIZE_BILINEAR other than half_pixel_centers")
    batch, height, width, channels = b.graph.tensors[op.outputs[0]].shape
    sizes = b.const(
        b.name(op.outputs[0]) + "/sizes", np.array([batch, channels, height, width], np.int64)
    )
    # TFLite's half-pixel bilinear, edges clamped: ONNX's half_pixel linear Resize.
    b.nodes.append(
        helper.make_node(
            "Resize",
            [b.name(op.inputs[0]), "", "", sizes],
            [b.name(op.outputs[0])],
            mode="linear",
            coordinate_transformation_mode="half_pixel",
        )
    )


def _depth_to_space(b: _Builder, op: TfliteOp) -> None:
    from flatbuffers.number_types import Int32Flags

    block = _int(op.options, 0, Int32Flags) if op.options else 0
    # TensorFlow's depth_to_space orders the moved channels as ONNX's DCR mode.
    b.nodes.append(
        helper.make_node(
            "DepthToSpace",
            [b.name(op.inputs[0])],
            [b.name(op.outputs[0])],
            blocksize=block,
            mode="DCR",
        )
    )


def _fold_constant(b: _Builder, op: TfliteOp) -> None:
    """DEQUANTIZE and DENSIFY of a constant: done once here (the weights were densified at read)."""
    b.consts[op.outputs[0]] = b.consts[op.inputs[0]].astype(np.float32)


_CONVERTERS: dict[int, Callable[[_Builder, TfliteOp], None]] = {
    ADD: _add,
    CONCATENATION: _concat,
    CONV_2D: lambda b, op: _conv(b, op, depthwise=False),
    DEPTHWISE_CONV_2D: lambda b, op: _conv(b, op, depthwise=True),
    DENSIFY: _fold_constant,
    DEPTH_TO_SPACE: _depth_to_space,
    DEQUANTIZE: _fold_constant,
    MAX_POOL_2D: _max_pool,
    RELU: _relu,
    RESHAPE: _reshape,
    RESIZE_BILINEAR: _resize_bilinear,
    PAD: _pad,
}


def tflite_to_onnx(data: bytes) -> onnx.ModelProto:
    """The ONNX model of a BlazeFace-style TFLite file: an NCHW float input, its outputs."""
    graph = read_tflite(data)
    builder = _Builder(graph)
    for op in graph.ops:
        convert = _CONVERTERS.get(op.code)
        if convert is None:
            raise UnsupportedGraph(f"operator {op.code}")
        convert(builder, op)
    (source,) = graph.inputs
    batch, height, width, channels = graph.tensors[source].shape
    inputs = [
        helper.make_tensor_value_info(
            builder.name(source), TensorProto.FLOAT, [batch, channels, height, width]
        )
    ]
    outputs = [
        helper.make_tensor_value_info(
            builder.name(index), TensorProto.FLOAT, list(graph.tensors[index].shape)
        )
        for index in graph.outputs
    ]
    onnx_graph = helper.make_graph(builder.nodes, "blazeface", inputs, outputs, builder.inits)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
