"""Classic face swap without a model: Delaunay warp, colour transfer, Poisson or feathered blend.

The source face is warped triangle by triangle onto the target's 68
landmarks, its colours matched to the target skin in LAB, and pasted inside
the landmarks' convex hull, either with ``cv2.seamlessClone`` (``seamless``,
for stills) or straight (``feather``, for video), then feathered into the
target so the hull's edge does not show. It keeps the source's facial features
(eyes, nose, mouth shapes and spacing) on the target's pose.

``prepare`` crops the source around its face and measures its triangulation
and colour statistics once; ``apply`` works only inside the target face's
bounding box, so its cost follows the face's size, not the frame's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from visiovox.engines.face.swap_base import BlendMode, FaceSwapEngine, PreparedSource
from visiovox.engines.face.types import Face, Image, Points
from visiovox.engines.face.warp import Stats

# Feather radius as a share of the face's size (square root of the hull's box).
FEATHER_SHARE = 0.06
# Source crop margin around the landmarks, as a share of their box's larger side.
SOURCE_MARGIN = 0.1


@dataclass(frozen=True)
class WarpSource(PreparedSource):
    """The source face cropped, with its landmarks, triangles and LAB statistics."""

    image: Image
    points: Points
    triangles: list[tuple[int, int, int]]
    stats: tuple[Stats, Stats]


class WarpSwapper(FaceSwapEngine):
    """Pastes the source face onto each target face; needs no model file."""

    name = "face.swap_warp"

    def load(self) -> None:
        import cv2  # noqa: F401 - fail at load, not mid-job, if OpenCV is missing

    def prepare(self, source: Image, source_face: Face) -> WarpSource:
        from visiovox.engines.face.warp import hull_mask, lab_stats, triangulate

        height, width = source.shape[:2]
        points = source_face.points
        (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
        margin = SOURCE_MARGIN * max(right - left, bottom - top)
        x0, y0 = max(0, math.floor(left - margin)), max(0, math.floor(top - margin))
        x1 = min(width, math.ceil(right + margin) + 1)
        y1 = min(height, math.ceil(bottom + margin) + 1)
        crop = np.ascontiguousarray(source[y0:y1, x0:x1])
        local = (points - np.array([x0, y0], dtype=np.float32)).astype(np.float32)
        shape = (y1 - y0, x1 - x0)
        return WarpSource(
            image=crop,
            points=local,
            triangles=triangulate(local, width=shape[1], height=shape[0]),
            stats=lab_stats(crop, hull_mask(local, shape=shape)),
        )

    def apply(
        self,
        prepared: PreparedSource,
        *,
        target: Image,
        target_face: Face,
        blend: float = 1.0,
        mode: BlendMode = "seamless",
    ) -> Image:
        """``target`` with ``target_face`` replaced by the prepared face; ``blend`` 0 keeps it."""
        import cv2

        from visiovox.engines.face.warp import (
            feather,
            hull_mask,
            keep_source_shape,
            transfer_colour,
            warp_triangles,
        )

        assert isinstance(prepared, WarpSource)
        result = target.copy()
        if blend <= 0.0:
            return result
        height, width = target.shape[:2]
        dst_points = keep_source_shape(prepared.points, target_face.points)
        (left, top), (right, bottom) = dst_points.min(axis=0), dst_points.max(axis=0)
        radius = max(1, round(FEATHER_SHARE * math.sqrt(max(1.0, (right - left) * (bottom - top)))))
        pad = radius + 4
        x0, y0 = max(0, math.floor(left) - pad), max(0, math.floor(top) - pad)
        x1, y1 = min(width, math.ceil(right) + pad), min(height, math.ceil(bottom) + pad)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return result
        shape = (y1 - y0, x1 - x0)
        local = (dst_points - np.array([x0, y0], dtype=np.float32)).astype(np.float32)
        region = target[y0:y1, x0:x1]
        warped = warp_triangles(
            source=prepared.image,
            src_points=prepared.points,
            dst_points=local,
            shape=shape,
            triangles=prepared.triangles,
        )
        mask = hull_mask(local, shape=shape)
        ys, xs = np.nonzero(mask)
        if xs.size == 0:
            return result
        pasted = transfer_colour(image=warped, reference=region, mask=mask, stats=prepared.stats)
        if mode == "seamless":
            centre = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
            # seamlessClone rescales the mask it is given in place (OpenCV 5): hand it a copy.
            cloned = cv2.seamlessClone(pasted, region, mask.copy(), centre, cv2.NORMAL_CLONE)
            pasted = np.asarray(cloned, dtype=np.uint8)
        alpha = feather(mask, radius=radius)[..., None] * float(min(blend, 1.0))
        mixed = pasted.astype(np.float32) * alpha + region.astype(np.float32) * (1.0 - alpha)
        result[y0:y1, x0:x1] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
        return result
