"""A TFLite model's first subgraph read from its flatbuffer: tensors, operators, constants.

Read with the ``flatbuffers`` runtime (installed with ONNX Runtime) at the
field slots of TensorFlow Lite's ``schema.fbs``, so no TFLite package is
needed. Constant tensors come back as numpy arrays, sparse ones densified;
what this reader does not know (another sparse layout, a tensor type other
than float32, float16 or int32) is refused with ``UnsupportedGraph``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from flatbuffers.table import Table

# TensorType of schema.fbs.
_DTYPES: dict[int, type[np.generic]] = {0: np.float32, 1: np.float16, 2: np.int32}


class UnsupportedGraph(ValueError):
    """The TFLite file uses something this reader or the ONNX converter does not translate."""


def _table(buf: bytes, pos: int) -> Table:
    return Table(bytearray(buf), pos)


def _field(table: Table, slot: int) -> int:
    """The offset of field ``slot`` (its index in schema.fbs), 0 when absent."""
    return int(table.Offset(4 + 2 * slot))


def field_int(table: Table, slot: int, kind: Any, default: int = 0) -> int:
    """Scalar field ``slot`` of ``table`` read as ``kind`` (a flatbuffers flag), or ``default``."""
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
    kind = field_int(table, kind_slot, Uint8Flags)
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
    formats = [field_int(dim, 0, Int8Flags) for dim in dims]
    if (
        _ints(sparsity, 0) != list(range(len(shape)))
        or _ints(sparsity, 1)
        or formats != [0] * (len(shape) - 1) + [1]
    ):
        raise UnsupportedGraph("sparse layout other than dense rows with a CSR last dimension")
    if [field_int(dim, 1, Int32Flags) for dim in dims[:-1]] != list(shape[:-1]):
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
    codes = [
        max(field_int(code, 0, Int8Flags), field_int(code, 3, Int32Flags))
        for code in _tables(model, 1)
    ]
    buffers = [_bytes(buffer, 0) for buffer in _tables(model, 4)]
    graph = _tables(model, 2)[0]
    tensors = []
    for tensor in _tables(graph, 0):
        shape = tuple(_ints(tensor, 0))
        kind = field_int(tensor, 1, Uint8Flags)
        raw = buffers[field_int(tensor, 2, Uint32Flags)]
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
            code=codes[field_int(op, 0, Uint32Flags)],
            inputs=tuple(_ints(op, 1)),
            outputs=tuple(_ints(op, 2)),
            options=_sub(op, 4),
        )
        for op in _tables(graph, 3)
    )
    return TfliteGraph(tuple(tensors), ops, tuple(_ints(graph, 1)), tuple(_ints(graph, 2)))
