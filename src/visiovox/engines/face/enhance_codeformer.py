"""CodeFormer (sczhou), FaceFusion's ONNX export: the face and the fidelity weight ``weight``.

``weight`` is CodeFormer's ``w`` as a 1-element float64 tensor (FaceFusion
feeds ``numpy.array([w]).astype(numpy.double)``): 0 leans on the learned
codebook (most restoration), 1 on the input face (most fidelity); CodeFormer's
own inference script defaults to 0.5.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.enhance_base import FaceEnhancer

CODEFORMER_MODEL = "codeformer"
WEIGHT_INPUT = "weight"


class CodeFormerEnhancer(FaceEnhancer):
    """CodeFormer face restoration on the 512 FFHQ crop, with its fidelity weight."""

    name = "face.enhance_codeformer"
    model_id = CODEFORMER_MODEL
    models = (CODEFORMER_MODEL,)

    def extra_feeds(self, *, fidelity: float) -> dict[str, npt.NDArray[Any]]:
        if not 0.0 <= fidelity <= 1.0:
            raise ValueError(f"CodeFormer's fidelity weight is in [0, 1], not {fidelity}")
        return {WEIGHT_INPUT: np.array([fidelity], dtype=np.float64)}
