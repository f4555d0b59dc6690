"""Geometry and colour helpers of the warp swap: Delaunay warp, colour transfer, masks."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from visiovox.engines.face.types import Image, Points

Mask = npt.NDArray[np.uint8]
Stats = npt.NDArray[np.float32]
# The jaw line's indices in the iBUG 68-point layout.
JAW = slice(0, 17)


def triangulate(points: Points, *, width: int, height: int) -> list[tuple[int, int, int]]:
    """Delaunay triangles over ``points`` as index triples into ``points``."""
    clipped = np.clip(points, 0, [width - 1, height - 1]).astype(np.float32)
    subdiv = cv2.Subdiv2D((0, 0, width, height))
    for x, y in clipped:
        subdiv.insert((float(x), float(y)))
    triangles: list[tuple[int, int, int]] = []
    for row in np.asarray(subdiv.getTriangleList(), dtype=np.float32):
        corners = row.reshape(3, 2)
        # Subdiv2D returns coordinates; map each corner back to its nearest point.
        indices = [int(np.argmin(np.sum((clipped - c) ** 2, axis=1))) for c in corners]
        if len(set(indices)) == 3:
            triangles.append((indices[0], indices[1], indices[2]))
    return triangles


def keep_source_shape(source: Points, target: Points, *, jaw_weight: float = 0.5) -> Points:
    """Where the source's landmarks go in the target: its own shape on the target's pose.

    Warping onto the target's landmarks verbatim would give the source's skin the
    target's eyes, nose and mouth geometry, which carries most of an identity. The
    source's points are instead aligned to the target's by a similarity transform
    (rotation, scale, shift); the jaw line moves only ``jaw_weight`` of the way to
    the source's so the face still fits the target's head.
    """
    matrix, _ = cv2.estimateAffinePartial2D(source, target)
    if matrix is None:
        return target.copy()
    aligned = np.asarray(cv2.transform(source[None], matrix)[0], dtype=np.float32)
    result = aligned.copy()
    result[JAW] = target[JAW] + jaw_weight * (aligned[JAW] - target[JAW])
    return result


def warp_triangles(
    *,
    source: Image,
    src_points: Points,
    dst_points: Points,
    shape: tuple[int, int],
    triangles: list[tuple[int, int, int]] | None = None,
) -> Image:
    """``source`` warped piecewise-affinely so ``src_points`` land on ``dst_points``.

    ``triangles`` (index triples) default to the Delaunay triangulation of ``dst_points``.
    """
    height, width = shape
    out = np.zeros((height, width, 3), dtype=np.uint8)
    if triangles is None:
        triangles = triangulate(dst_points, width=width, height=height)
    for tri in triangles:
        src_tri = src_points[list(tri)].astype(np.float32)
        dst_tri = dst_points[list(tri)].astype(np.float32)
        x, y, w, h = cv2.boundingRect(dst_tri)
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, width), min(y + h, height)
        if x1 <= x0 or y1 <= y0:
            continue
        offset = np.array([x0, y0], dtype=np.float32)
        matrix = cv2.getAffineTransform(src_tri, dst_tri - offset)
        patch = cv2.warpAffine(
            source,
            matrix,
            (x1 - x0, y1 - y0),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )
        tri_mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        cv2.fillConvexPoly(tri_mask, np.round(dst_tri - offset).astype(np.int32), 1)
        region = out[y0:y1, x0:x1]
        region[tri_mask > 0] = patch[tri_mask > 0]
    return out


def hull_mask(points: Points, *, shape: tuple[int, int]) -> Mask:
    """A 0/255 mask of the convex hull of ``points``, kept off the image border."""
    mask = np.zeros(shape, dtype=np.uint8)
    hull = cv2.convexHull(np.round(points).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    # seamlessClone fails when the mask's bounding box touches the border.
    mask[:2, :] = 0
    mask[-2:, :] = 0
    mask[:, :2] = 0
    mask[:, -2:] = 0
    return mask


def feather(mask: Mask, *, radius: int) -> npt.NDArray[np.float32]:
    """``mask`` eroded by ``radius`` and blurred over it: a soft 0..1 alpha."""
    size = 2 * radius + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    eroded = cv2.erode(mask, kernel)
    blurred = cv2.GaussianBlur(eroded, (size, size), 0)
    return blurred.astype(np.float32) / 255.0


def lab_stats(image: Image, mask: Mask) -> tuple[Stats, Stats]:
    """Mean and spread (per LAB channel) of ``image`` inside ``mask``."""
    mean, std = cv2.meanStdDev(cv2.cvtColor(image, cv2.COLOR_RGB2LAB), mask=mask)
    return (
        np.asarray(mean, dtype=np.float32).ravel(),
        np.asarray(std, dtype=np.float32).ravel() + 1e-3,
    )


def transfer_colour(
    *, image: Image, reference: Image, mask: Mask, stats: tuple[Stats, Stats] | None = None
) -> Image:
    """``image`` with its LAB mean and spread inside ``mask`` matched to ``reference``'s.

    ``stats`` are ``image``'s own (``lab_stats``) when known already, e.g. measured
    once on the source face rather than on each warped copy of it.
    """
    if not (mask > 0).any():
        return image
    src_mean, src_std = stats if stats is not None else lab_stats(image, mask)
    ref_mean, ref_std = lab_stats(reference, mask)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab = (lab - src_mean) * (ref_std / src_std) + ref_mean
    result = np.clip(lab, 0, 255).astype(np.uint8)
    return np.asarray(cv2.cvtColor(result, cv2.COLOR_LAB2RGB), dtype=np.uint8)
