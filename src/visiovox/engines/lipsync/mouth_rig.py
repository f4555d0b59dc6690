"""A face's mouth rigged for warping: the mouth region, and how its pixels move per shape.

The region spans the cheeks from under the nose to below the chin (where the
jaw drops to). Landmarks move as follows: the lower lip and the chin drop with
the opening, the upper lip lifts a little, the corners move in to round the
mouth or out to spread it; the nose, the cheeks and the region's border stay.
A thin-plate spline turns those moves into three smooth fields, precomputed
once per face, so a frame costs one weighted sum, one remap and one fill.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.types import Face, Image
from visiovox.engines.lipsync.tps import Field, tps_fields

# How far the lower lip drops when fully open, as a share of nose-bridge-to-chin.
MAX_DROP = 0.13
# The upper lip lifts this share of the drop; the corners move this share of the mouth width.
UPPER_LIFT, CORNER_SHIFT = 0.15, 0.10
# A rest gap under this share of nose-bridge-to-chin counts as closed and is left alone.
CLOSED_GAP = 0.015
# Per-landmark share of the drop (iBUG 68: jaw 0-16, outer lip 48-59, inner lip 60-67).
DROP_WEIGHTS = {
    5: 0.25, 6: 0.55, 7: 0.75, 8: 0.8, 9: 0.75, 10: 0.55, 11: 0.25,
    55: 0.75, 56: 0.95, 57: 1.0, 58: 0.95, 59: 0.75,
    65: 1.0, 66: 1.0, 67: 1.0,
}  # fmt: skip
LIFT_POINTS = (50, 51, 52, 61, 62, 63)
LEFT_CORNERS, RIGHT_CORNERS = (48, 60), (54, 64)
ANCHORS = (2, 3, 4, 12, 13, 14, 31, 32, 33, 34, 35)
INNER_LIP = slice(60, 68)
MOUTH_COLOUR = np.array([58, 20, 22], dtype=np.float32)
TEETH_COLOUR = np.array([222, 214, 204], dtype=np.float32)
MOUTH_OPACITY, TEETH_OPACITY = 0.92, 0.8
# The teeth band: this share of the gap, and at most this share of the mouth's width.
TEETH_SHARE, TEETH_MAX_SHARE = 0.2, 0.08
BORDER_ANCHORS_PER_SIDE = 6
# A mouth region smaller than this (pixels a side) is too little to warp.
MIN_REGION = 8


@dataclass(frozen=True)
class MouthRig:
    """The region (x0, y0, x1, y1) of one face and its motion fields inside it."""

    x0: int
    y0: int
    x1: int
    y1: int
    rest: Field  # the move that closes a mouth open at rest
    open: Field  # per unit of opening
    round: Field  # per unit of rounding
    inner_lip: npt.NDArray[np.float32]  # the inner lip in region pixels, at rest
    inner_moves: tuple[npt.NDArray[np.float32], ...]  # its rest, open and round moves

    def apply(self, image: Image, *, opening: float, rounding: float) -> Image:
        """A copy of ``image`` with this face's mouth at ``opening`` and ``rounding``."""
        import cv2

        out = image.copy()
        region = image[self.y0 : self.y1, self.x0 : self.x1]
        moves = self.rest + opening * self.open + rounding * self.round
        height, width = moves.shape[:2]
        grid_x, grid_y = np.meshgrid(
            np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
        )
        # Backward map: a pixel shows what was at p - move(p - move(p)) (one fixed-point step).
        first_x, first_y = grid_x - moves[..., 0], grid_y - moves[..., 1]
        refined = cv2.remap(
            moves, first_x, first_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        map_x, map_y = grid_x - refined[..., 0], grid_y - refined[..., 1]
        warped = np.asarray(
            cv2.remap(region, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT),
            dtype=np.uint8,
        )
        inner = self.inner_lip + self.inner_moves[0] + opening * self.inner_moves[1]
        inner = inner + rounding * self.inner_moves[2]
        out[self.y0 : self.y1, self.x0 : self.x1] = _darken_inner_mouth(warped, inner)
        return out


def _darken_inner_mouth(region: Image, inner: npt.NDArray[np.float32]) -> Image:
    """Fill the gap between the lips with a soft-edged dark mouth and a hint of upper teeth.

    The fill deepens with the gap; the teeth are a thin pale band under the upper
    lip, at most a fifth of the gap, so the lips' edges stay where dlib looks.
    """
    import cv2

    gap = float(np.mean(inner[[7, 6, 5], 1] - inner[[1, 2, 3], 1]))
    if gap <= 0.5:
        return region
    mouth = np.zeros(region.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mouth, [np.round(inner * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    teeth = np.zeros_like(mouth)
    band = max(1.0, min(TEETH_SHARE * gap, TEETH_MAX_SHARE * float(np.ptp(inner[:, 0]))))
    upper = inner[[0, 1, 2, 3, 4]] + [0.0, band / 2.0]
    thickness = max(1, round(band))
    cv2.polylines(
        teeth, [np.round(upper * 4).astype(np.int32)], False, 255, thickness, cv2.LINE_AA, shift=2
    )
    teeth = np.minimum(teeth, mouth)
    blur = max(3, int(gap / 3) | 1)
    depth = min(1.0, gap / 4.0)
    alpha = cv2.GaussianBlur(mouth, (blur, blur), 0).astype(np.float32)[..., None] / 255.0
    alpha *= depth * MOUTH_OPACITY
    shine = cv2.GaussianBlur(teeth, (3, 3), 0).astype(np.float32)[..., None] / 255.0
    shine *= depth * TEETH_OPACITY
    shaded = region.astype(np.float32) * (1.0 - alpha) + MOUTH_COLOUR * alpha
    shaded = shaded * (1.0 - shine) + TEETH_COLOUR * shine
    return np.asarray(np.clip(shaded, 0, 255), dtype=np.uint8)


def rig_mouth(image: Image, face: Face) -> MouthRig | None:
    """Rig ``face`` in ``image`` (only its size is used); None if the mouth is off the picture."""
    points = face.points.astype(np.float64)
    height, width = image.shape[:2]
    face_height = float(np.linalg.norm(points[8] - points[27]))
    drop = MAX_DROP * face_height
    x0 = int(max(0, np.floor(points[2:15, 0].min() - 0.05 * face_height)))
    x1 = int(min(width, np.ceil(points[2:15, 0].max() + 0.05 * face_height)))
    y0 = int(max(0, np.floor(points[29, 1])))
    y1 = int(min(height, np.ceil(points[8, 1] + drop + 0.15 * face_height)))
    if x1 - x0 < MIN_REGION or y1 - y0 < MIN_REGION:
        return None
    local = points - [x0, y0]
    rest_gap = float(np.mean(local[[67, 66, 65], 1] - local[[61, 62, 63], 1]))
    rest_gap = rest_gap if rest_gap > CLOSED_GAP * face_height else 0.0
    mouth_width = float(np.linalg.norm(points[54] - points[48]))

    lower = np.zeros((68, 2))
    for index, weight in DROP_WEIGHTS.items():
        lower[index, 1] = weight
    lift = np.zeros((68, 2))
    lift[list(LIFT_POINTS), 1] = -UPPER_LIFT
    rounding = np.zeros((68, 2))
    rounding[list(LEFT_CORNERS), 0] = CORNER_SHIFT * mouth_width
    rounding[list(RIGHT_CORNERS), 0] = -CORNER_SHIFT * mouth_width
    moves = [-rest_gap * lower, drop * (lower + lift), rounding]

    moving = sorted(set(DROP_WEIGHTS) | set(LIFT_POINTS) | set(LEFT_CORNERS + RIGHT_CORNERS))
    controls = np.concatenate([local[moving], local[list(ANCHORS)], _border(x1 - x0, y1 - y0)])
    still = len(controls) - len(moving)
    displacements = np.stack([np.concatenate([m[moving], np.zeros((still, 2))]) for m in moves])
    rest, open_field, round_field = tps_fields(
        controls, displacements, width=x1 - x0, height=y1 - y0
    )
    inner = local[INNER_LIP].astype(np.float32)
    return MouthRig(
        x0=x0,
        y0=y0,
        x1=x1,
        y1=y1,
        rest=rest,
        open=open_field,
        round=round_field,
        inner_lip=inner,
        inner_moves=tuple(m[INNER_LIP].astype(np.float32) for m in moves),
    )


def _border(width: int, height: int) -> npt.NDArray[np.float64]:
    """Still points spaced along the region's edge."""
    steps = np.linspace(0.0, 1.0, BORDER_ANCHORS_PER_SIDE, endpoint=False)
    w, h = width - 1, height - 1
    return np.concatenate(
        [
            np.c_[steps * w, np.zeros_like(steps)],
            np.c_[np.full_like(steps, w), steps * h],
            np.c_[w - steps * w, np.full_like(steps, h)],
            np.c_[np.zeros_like(steps), h - steps * h],
        ]
    )
