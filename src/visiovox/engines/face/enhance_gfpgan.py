"""GFPGAN v1.4 (TencentARC), FaceFusion's ONNX export: ``input`` 1x3x512x512 in, the face out."""

from __future__ import annotations

from visiovox.engines.face.enhance_base import FaceEnhancer

GFPGAN_MODEL = "gfpgan-1.4"


class GfpganEnhancer(FaceEnhancer):
    """GFPGAN v1.4 face restoration on the 512 FFHQ crop."""

    name = "face.enhance_gfpgan"
    model_id = GFPGAN_MODEL
    models = (GFPGAN_MODEL,)
