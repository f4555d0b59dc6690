"""Thin-plate-spline displacement fields: smooth dense motion from a few moved points."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Field = npt.NDArray[np.float32]
# Ridge on the kernel so near-duplicate control points do not make the system singular.
REGULARISATION = 1e-6


def _kernel(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    squared = np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = squared * np.log(squared)
    return np.asarray(np.nan_to_num(values), dtype=np.float64)


def tps_fields(
    controls: npt.NDArray[np.floating],
    displacements: npt.NDArray[np.floating],
    *,
    width: int,
    height: int,
    step: int = 4,
) -> list[Field]:
    """Dense (height × width × 2) fields interpolating each displacement set at ``controls``.

    ``controls`` is (n, 2) pixels; ``displacements`` is (k, n, 2): k fields share
    one solve. The spline is evaluated every ``step`` pixels and resized up,
    which costs nothing visible: the fields are smooth by construction.
    """
    import cv2

    scale = float(max(width, height))
    points = np.asarray(controls, dtype=np.float64) / scale
    count = len(points)
    affine = np.c_[np.ones(count), points]
    system = np.zeros((count + 3, count + 3))
    system[:count, :count] = _kernel(points, points) + REGULARISATION * np.eye(count)
    system[:count, count:] = affine
    system[count:, :count] = affine.T
    values = np.zeros((count + 3, 2 * len(displacements)))
    values[:count] = np.concatenate(list(displacements), axis=1)
    weights = np.linalg.solve(system, values)
    grid_w, grid_h = (width + step - 1) // step + 1, (height + step - 1) // step + 1
    ys, xs = np.mgrid[0:grid_h, 0:grid_w]
    grid = np.c_[xs.ravel(), ys.ravel()].astype(np.float64) * step / scale
    evaluated = (
        _kernel(grid, points) @ weights[:count] + np.c_[np.ones(len(grid)), grid] @ weights[count:]
    )
    # Exact grid alignment: pixel x samples the coarse field at x / step.
    map_x, map_y = np.meshgrid(
        np.arange(width, dtype=np.float32) / step, np.arange(height, dtype=np.float32) / step
    )
    fields: list[Field] = []
    for index in range(len(displacements)):
        coarse = evaluated[:, 2 * index : 2 * index + 2].reshape(grid_h, grid_w, 2)
        dense = cv2.remap(coarse.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR)
        fields.append(np.asarray(dense, dtype=np.float32))
    return fields
