"""The enhancement choices shared by ``face-enhance``, ``face-swap`` and the live face swap.

Light (names and numbers only), so every spec may import it.
"""

from __future__ import annotations

from typing import Literal

GFPGAN, CODEFORMER = "face.enhance_gfpgan", "face.enhance_codeformer"
# The engine of each ``enhance`` choice (``none`` runs none).
ENHANCERS = {"gfpgan": GFPGAN, "codeformer": CODEFORMER}
EnhanceChoice = Literal["none", "gfpgan", "codeformer"]
# FaceFusion's defaults: face_enhancer_blend 80 (of 100); CodeFormer's own w is 0.5.
DEFAULT_BLEND, DEFAULT_FIDELITY = 0.8, 0.5
BLEND_HELP = "Share of the restored face in the result: 0 none, 1 all (FaceFusion's 80 %)."
FIDELITY_HELP = (
    "codeformer: its fidelity weight w, 0 restores most, 1 stays closest to the input face."
)
ENHANCE_HELP = (
    "Restore the faces after the swap: gfpgan (GFPGAN v1.4, pull gfpgan-1.4 first) or "
    "codeformer (pull codeformer first; non-commercial licence)."
)
