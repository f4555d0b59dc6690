"""MediaPipe's TFLite face detectors rewritten as ONNX graphs, so ONNX Runtime runs them.

MediaPipe ships its face detectors as TFLite. Running them through LiteRT
would add a ~60 MB runtime for a model under 1 MB; the two files use a dozen
operators (``DEQUANTIZE`` of float16 weights, ``DENSIFY`` of the full-range
model's sparse ones, ``CONV_2D``, ``DEPTHWISE_CONV_2D``, ``ADD``, ``RELU``,
``PAD``, ``MAX_POOL_2D``, ``RESIZE_BILINEAR``, ``DEPTH_TO_SPACE``,
``RESHAPE``, ``CONCATENATION``), each with an exact ONNX counterpart. The
flatbuffer is read by ``tflite_reader``; the graph keeps TFLite's tensor
names and runs in NCHW, with one transpose back to NHWC before each
``RESHAPE`` so the anchors come out in TFLite's order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from visiovox.models.tflite_reader import (
    TfliteGraph,
    TfliteOp,
    UnsupportedGraph,
    field_int,
    read_tflite,
)

# BuiltinOperator codes of schema.fbs.
ADD, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D, DEQUANTIZE = 0, 2, 3, 4, 6
DEPTH_TO_SPACE, MAX_POOL_2D, RELU, RESHAPE, RESIZE_BILINEAR, PAD = 5, 17, 19, 22, 23, 34
DENSIFY = 124
# Padding and ActivationFunctionType of schema.fbs.
SAME, ACT_NONE, ACT_RELU = 0, 0, 1
NCHW_TO_NHWC = (0, 2, 3, 1)


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

        act = field_int(op.options, slot, Int8Flags) if op.options else ACT_NONE
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
    padding = field_int(op.options, slots[0], Int8Flags)
    stride_w = field_int(op.options, slots[1], Int32Flags, 1)
    stride_h = field_int(op.options, slots[2], Int32Flags, 1)
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
    attrs["kernel_shape"] = [
        field_int(op.options, 4, Int32Flags),
        field_int(op.options, 3, Int32Flags),
    ]
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
    axis = field_int(op.options, 0, Int32Flags) if op.options else 0
    raw = b.name(op.outputs[0]) + "/raw"
    b.nodes.append(helper.make_node("Concat", [b.name(i) for i in op.inputs], [raw], axis=axis))
    b.activation(op, 1, raw)


def _resize_bilinear(b: _Builder, op: TfliteOp) -> None:
    from flatbuffers.number_types import BoolFlags

    align = field_int(op.options, 2, BoolFlags) if op.options else 0
    half_pixel = field_int(op.options, 3, BoolFlags) if op.options else 0
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

    block = field_int(op.options, 0, Int32Flags) if op.options else 0
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
