"""Face enhancers (GFPGAN, CodeFormer): our pre-processing and paste-back per 720p frame.

What a frame costs besides the model: the five-point fit to the FFHQ 512
template, the 512 crop and its [-1, 1] tensor (CodeFormer adds its fidelity
weight), then the output back to pixels, FaceFusion's box mask, the inverse
warp over the crop's rectangle and the blend (``enhance_blend`` 0.8). The model
output is a stand-in of the right shape (the input tensor itself), since
inference on a stand-in says nothing of the real model. The frame is the
astronaut portrait scaled to 720 px high on a grey 1280x720 canvas, its face
found once by dlib (HOG, 68 points). The baseline, timed in the same run, is
decoding the same frame from a JPEG (quality 90), which every video or live
frame pays; FaceFusion's own paste-back (mask and face warped over the whole
frame) is timed too, for the rectangle's saving. Median of RUNS after one
warm-up; prints the load average, since the machine is shared.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from tests.faces import ASTRONAUT, find_face

from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.enhance_base import IMAGE_INPUT
from visiovox.engines.face.enhance_codeformer import CodeFormerEnhancer
from visiovox.engines.face.enhance_crop import (
    box_mask,
    crop_face,
    crop_matrix,
    from_tensor,
    paste_back,
    to_tensor,
)
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Face, Image
from visiovox.engines.pool import EnginePool
from visiovox.media.image import read_image

RUNS = 200
WIDTH, HEIGHT = 1280, 720
BLEND = 0.8


def median_ms(work: Callable[[], Any]) -> float:
    work()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def frame_720p() -> Image:
    portrait = read_image(ASTRONAUT)
    scaled = cv2.resize(portrait, (HEIGHT, HEIGHT), interpolation=cv2.INTER_CUBIC)
    frame = np.full((HEIGHT, WIDTH, 3), 128, dtype=np.uint8)
    left = (WIDTH - HEIGHT) // 2
    frame[:, left : left + HEIGHT] = scaled
    return frame


def facefusion_paste(frame: Image, restored: Image, matrix: np.ndarray) -> Image:
    """FaceFusion's paste_back and blend_paste_frame: both warps over the whole frame."""
    inverse = cv2.invertAffineTransform(matrix)
    size = (frame.shape[1], frame.shape[0])
    mask = cv2.warpAffine(box_mask(), inverse, size).clip(0, 1)[..., None]
    face = cv2.warpAffine(restored, inverse, size, borderMode=cv2.BORDER_REPLICATE)
    pasted = (mask * face + (1 - mask) * frame).astype(np.uint8)
    return np.asarray(cv2.addWeighted(frame, 1 - BLEND, pasted, BLEND, 0), dtype=np.uint8)


def stages(
    frame: Image, face: Face, codeformer: CodeFormerEnhancer
) -> list[tuple[str, str, Callable[[], Any]]]:
    matrix = crop_matrix(face.points)
    output = to_tensor(crop_face(frame, matrix))
    restored = from_tensor(output)

    def pre() -> Any:
        return {IMAGE_INPUT: to_tensor(crop_face(frame, crop_matrix(face.points)))}

    def pre_codeformer() -> Any:
        return {**pre(), **codeformer.extra_feeds(fidelity=0.5)}

    def post() -> Any:
        return paste_back(frame, from_tensor(output), matrix, blend=BLEND)

    return [
        ("GFPGAN", "pre: five points, FFHQ 512 fit, 512 crop, tensor", pre),
        ("GFPGAN", "paste-back: to pixels, box mask, inverse warp (rectangle), blend", post),
        ("CodeFormer", "pre: as GFPGAN plus the fidelity weight", pre_codeformer),
        ("CodeFormer", "paste-back: as GFPGAN", post),
        (
            "either",
            "paste-back as FaceFusion writes it (whole-frame warps), for comparison",
            lambda: facefusion_paste(frame, restored, matrix),
        ),
    ]


def main() -> None:
    frame = frame_720p()
    settings = load_settings(models={"cache_dir": tempfile.mkdtemp(prefix="enhance-bench-")})
    pool = EnginePool(settings=settings, device="cpu")
    face = find_face(
        pool.get("face.detect", FaceDetector), pool.get("face.landmarks", FaceLandmarker), frame
    )
    codeformer = CodeFormerEnhancer(settings=settings, device="cpu")  # never loaded
    _, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"load average before: {os.getloadavg()}")
    baseline = median_ms(lambda: cv2.imdecode(encoded, cv2.IMREAD_COLOR))
    print(f"face box at 720p: {face.box}")
    print("| enhancer | stage | ms per frame | × JPEG decode |")
    print("| --- | --- | ---: | ---: |")
    print(f"| baseline | decode the 720p frame from JPEG (q 90) | {baseline:.3f} | 1.00 |")
    for engine, stage, work in stages(frame, face, codeformer):
        ms = median_ms(work)
        print(f"| {engine} | {stage} | {ms:.3f} | {ms / baseline:.2f} |")
    print(f"load average after: {os.getloadavg()}")
    pool.close()


if __name__ == "__main__":
    main()
