"""Classic face swap without a model: Delaunay warp, colour transfer, Poisson blend.

The source face is warped triangle by triangle onto the target's 68
landmarks, its colours matched to the target skin in LAB, pasted with
``cv2.seamlessClone`` inside the landmarks' convex hull, and feathered into
the target so the hull's edge does not show. It keeps the source's facial
features (eyes, nose, mouth shapes and spacing) on the target's pose.
"""

from __future__ import annotations

import math

import numpy as np

from visiovox.engines.face.swap_base import FaceSwapEngine
from visiovox.engines.face.types import Face, Image

# Feather radius as a share of the face's size (square root of the hull's box).
FEATHER_SHARE = 0.06


class WarpSwapper(FaceSwapEngine):
    """Pastes the source face onto each target face; needs no model file."""

    name = "face.swap_warp"

    def load(self) -> None:
        import cv2  # noqa: F401 - fail at load, not mid-job, if OpenCV is missing

    def swap(
        self,
        *,
        source: Image,
        source_face: Face,
        target: Image,
        target_face: Face,
        blend: float = 1.0,
    ) -> Image:
        """``target`` with ``target_face`` replaced by ``source_face``; ``blend`` 0 keeps it."""
        import cv2

        from visiovox.engines.face.warp import (
            feather,
            hull_mask,
            keep_source_shape,
            transfer_colour,
            warp_triangles,
        )

        if blend <= 0.0:
            return target.copy()
        shape = (target.shape[0], target.shape[1])
        dst_points = keep_source_shape(source_face.points, target_face.points)
        warped = warp_triangles(
            source=source, src_points=source_face.points, dst_points=dst_points, shape=shape
        )
        mask = hull_mask(dst_points, shape=shape)
        ys, xs = np.nonzero(mask)
        if xs.size == 0:
            return target.copy()
        warped = transfer_colour(image=warped, reference=target, mask=mask)
        left, right, top, bottom = xs.min(), xs.max(), ys.min(), ys.max()
        centre = (int((left + right + 1) // 2), int((top + bottom + 1) // 2))
        # seamlessClone rescales the mask it is given in place (OpenCV 5): hand it a copy.
        cloned = cv2.seamlessClone(warped, target, mask.copy(), centre, cv2.NORMAL_CLONE)
        radius = max(1, round(FEATHER_SHARE * math.sqrt((right - left) * (bottom - top))))
        alpha = feather(mask, radius=radius)[..., None] * float(min(blend, 1.0))
        mixed = cloned.astype(np.float32) * alpha + target.astype(np.float32) * (1.0 - alpha)
        return np.asarray(np.clip(np.rint(mixed), 0, 255), dtype=np.uint8)
