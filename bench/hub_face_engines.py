"""Hub face engines: our pre-processing and paste-back per 720p frame, without inference.

The hub engines (inswapper, ArcFace, SCRFD, Wav2Lip) run as their authors run
them (issue 16); what a frame costs besides the model is the crop, the
normalisation, and putting the result back. The frame is the astronaut
portrait scaled to 720 px high on a grey 1280x720 canvas, its face found once
by dlib (HOG, 68 points). Model outputs are stand-ins of the right shape (the
crop itself, zeros), since inference is not measured. The baseline, timed in
the same run, is decoding the same frame from a JPEG (quality 90), which every
video or live frame pays; inswapper's paste-back is also timed as insightface's
code does it, over the whole frame (``whole_frame_paste``, a transcription),
against ours in the face's region. Median of RUNS after one warm-up; prints the load
average, since the machine is shared.
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
from visiovox.engines.face.detect_scrfd import NMS_IOU, decode, letterbox, nms
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_inswapper import (
    embed_input,
    mask_kernels,
    paste_back,
    swap_input,
)
from visiovox.engines.face.types import Face, Image
from visiovox.engines.lipsync.base import FaceFrame
from visiovox.engines.lipsync.face_box import crop_boxes
from visiovox.engines.lipsync.wav2lip import face_batch, paste
from visiovox.engines.pool import EnginePool
from visiovox.media.image import read_image

RUNS = 200
WIDTH, HEIGHT = 1280, 720
SCRFD_SIDE = 640
SCRFD_ANCHORS = sum(2 * (SCRFD_SIDE // stride) ** 2 for stride in (8, 16, 32))


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


def whole_frame_paste(target: Image, swapped: Image, matrix: Any) -> Image:
    """insightface ``INSwapper.get``'s paste-back as written: every step over the whole frame."""
    height, width = target.shape[:2]
    inverse = cv2.invertAffineTransform(matrix)
    back = cv2.warpAffine(swapped, inverse, (width, height), borderValue=0.0)
    white = np.full((128, 128), 255, dtype=np.float32)
    mask = cv2.warpAffine(white, inverse, (width, height), borderValue=0.0)
    mask[mask > 20] = 255
    rows, cols = np.where(mask == 255)
    side = int(np.sqrt((rows.max() - rows.min()) * (cols.max() - cols.min())))
    erode, blur = mask_kernels(side)
    mask = cv2.erode(mask, np.ones((erode, erode), np.uint8), iterations=1)
    mask = cv2.GaussianBlur(mask, (2 * blur + 1, 2 * blur + 1), 0)[..., None] / 255
    merged = mask * back + (1 - mask) * target.astype(np.float32)
    return np.asarray(merged.astype(np.uint8))


def stages(frame: Image, face: Face) -> list[tuple[str, str, Callable[[], Any]]]:
    blob, matrix = swap_input(frame, face)
    swapped = np.clip(blob[0].transpose(1, 2, 0) * 255.0, 0, 255).astype(np.uint8)
    emap = np.random.default_rng(0).standard_normal((512, 512)).astype(np.float32)
    embedding = np.random.default_rng(1).standard_normal((1, 512)).astype(np.float32)
    scrfd_outputs = [
        np.zeros((SCRFD_ANCHORS // 21 * shares, width), dtype=np.float32)
        for width in (1, 4, 10)
        for shares in (16, 4, 1)
    ]
    # Four overlapping candidates of one face at stride 8, as a real frame gives.
    scrfd_outputs[0][5000:5004] = 0.9
    scrfd_outputs[3][5000:5004] = 3.0
    crop = crop_boxes([face], width=WIDTH, height=HEIGHT)[0]
    wav2lip_frame = FaceFrame(0, frame, face, crop)
    generated = face_batch([wav2lip_frame])[0, 3:]

    def latent() -> Any:
        normed = embedding / np.linalg.norm(embedding)
        out = normed @ emap
        return out / np.linalg.norm(out)

    def scrfd_pre() -> Any:
        canvas, _ = letterbox(frame, width=SCRFD_SIDE, height=SCRFD_SIDE)
        return ((canvas.astype(np.float32) - 127.5) / 128.0).transpose(2, 0, 1)[None]

    def scrfd_post() -> Any:
        scores, boxes, _ = decode(scrfd_outputs, width=SCRFD_SIDE, height=SCRFD_SIDE, threshold=0.5)
        return nms(boxes, scores, iou=NMS_IOU)

    def wav2lip_pre() -> Any:
        box = crop_boxes([face], width=WIDTH, height=HEIGHT)[0]
        return face_batch([FaceFrame(0, frame, face, box)])

    return [
        (
            "inswapper",
            "pre: five points, estimate_norm, 128 crop, blob",
            lambda: swap_input(frame, face),
        ),
        (
            "inswapper",
            "paste-back: insightface's mask, inverse warp, merge",
            lambda: paste_back(frame, swapped, matrix),
        ),
        (
            "inswapper",
            "paste-back over the whole frame, as insightface's code does (reference)",
            lambda: whole_frame_paste(frame, swapped, matrix),
        ),
        ("ArcFace", "pre: norm_crop 112, normalise", lambda: embed_input(frame, face)),
        ("ArcFace", "post: normalise, emap, normalise", latent),
        ("SCRFD", "pre: letterbox to 640, normalise", scrfd_pre),
        ("SCRFD", "post: decode 16800 anchors, NMS", scrfd_post),
        ("Wav2Lip", "pre: box (chin, pads, smoothing), 96 crop, 6-channel input", wav2lip_pre),
        ("Wav2Lip", "paste-back: feather (default)", lambda: paste(wav2lip_frame, generated)),
        (
            "Wav2Lip",
            "paste-back: reference (hard)",
            lambda: paste(wav2lip_frame, generated, hard=True),
        ),
    ]


def main() -> None:
    frame = frame_720p()
    settings = load_settings(models={"cache_dir": tempfile.mkdtemp(prefix="hub-bench-")})
    pool = EnginePool(settings=settings, device="cpu")
    face = find_face(
        pool.get("face.detect", FaceDetector), pool.get("face.landmarks", FaceLandmarker), frame
    )
    _, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    baseline = median_ms(lambda: cv2.imdecode(encoded, cv2.IMREAD_COLOR))
    print(f"load average before: {os.getloadavg()}")
    print(f"face box at 720p: {face.box}")
    print("| engine | stage | ms per frame | × JPEG decode |")
    print("| --- | --- | ---: | ---: |")
    print(f"| baseline | decode the 720p frame from JPEG (q 90) | {baseline:.3f} | 1.00 |")
    for engine, stage, work in stages(frame, face):
        ms = median_ms(work)
        print(f"| {engine} | {stage} | {ms:.3f} | {ms / baseline:.2f} |")
    print(f"load average after: {os.getloadavg()}")
    pool.close()


if __name__ == "__main__":
    main()
