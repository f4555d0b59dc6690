"""BlazeFace as MediaPipe runs it: the detector benchmark's pre- and post-processing.

The reference numbers come from MediaPipe v0.10.21,
``mediapipe/modules/face_detection/face_detection_short_range_common.pbtxt``
(``SsdAnchorsCalculator``: num_layers 4, strides 8/16/16/16, input 128x128,
anchor offset 0.5, aspect ratio 1.0 with the default interpolated scale,
fixed_anchor_size; ``TensorsToDetectionsCalculator``: num_boxes 896,
num_coords 16, keypoint offset 4, 6 keypoints, sigmoid with
score_clipping_thresh 100, reverse_output_order, x/y/w/h scale 128,
min_score_thresh 0.5; ``NonMaxSuppressionCalculator``: IoU, WEIGHTED, 0.3),
``face_detection_short_range_cpu.pbtxt`` (``ImageToTensorCalculator``: 128x128,
keep_aspect_ratio, float range [-1, 1], BORDER_ZERO) and
``calculators/tflite/ssd_anchors_calculator.cc`` (anchor order: cell by cell,
layers of one stride sharing the grid). The full-range model's options are
those of ``face_detection_full_range.pbtxt`` (``FaceDetectionOptions``: 192x192,
num_layers 1, stride 4, interpolated_scale_aspect_ratio 0, num_boxes 2304,
scale 192, min_score_thresh 0.6; the rest as short range). The expected values
are worked by hand from those options, not taken from MediaPipe's code.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from visiovox.engines.face.blazeface_decode import (
    FULL_RANGE,
    SHORT_RANGE,
    Detections,
    decode,
    input_tensor,
    letterbox_matrix,
    ssd_anchors,
    to_frame,
    weighted_nms,
)
from visiovox.models.tflite_reader import UnsupportedGraph, read_tflite


def test_anchors_are_mediapipes_896_in_its_order() -> None:
    anchors = ssd_anchors(SHORT_RANGE)
    assert anchors.shape == (896, 2)  # 16*16*2 + 8*8*(3 layers * 2)
    # Stride 8: a 16x16 grid, two anchors per cell, x running fastest.
    np.testing.assert_allclose(anchors[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[1], anchors[0])
    np.testing.assert_allclose(anchors[2], [1.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[32], [0.5 / 16, 1.5 / 16])
    np.testing.assert_allclose(anchors[511], [15.5 / 16, 15.5 / 16])
    # The three stride-16 layers share one 8x8 grid: six anchors per cell.
    np.testing.assert_allclose(anchors[512:518], [[0.5 / 8, 0.5 / 8]] * 6)
    np.testing.assert_allclose(anchors[518], [1.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(anchors[-1], [7.5 / 8, 7.5 / 8])


def test_full_range_anchors_are_one_per_cell_of_a_48_grid() -> None:
    anchors = ssd_anchors(FULL_RANGE)
    assert anchors.shape == (2304, 2)
    np.testing.assert_allclose(anchors[0], [0.5 / 48, 0.5 / 48])
    np.testing.assert_allclose(anchors[1], [1.5 / 48, 0.5 / 48])
    np.testing.assert_allclose(anchors[48], [0.5 / 48, 1.5 / 48])
    np.testing.assert_allclose(anchors[-1], [47.5 / 48, 47.5 / 48])


def test_full_range_decodes_by_192_and_cuts_at_0_6() -> None:
    regressors = np.zeros((1, 2304, 16), np.float32)
    regressors[0, 1, :4] = [19.2, 0.0, 48.0, 96.0]
    classificators = np.full((1, 2304, 1), -10.0, np.float32)
    classificators[0, 0, 0] = 0.4  # sigmoid 0.599: under full range's 0.6
    classificators[0, 1, 0] = 0.41  # sigmoid 0.601: kept
    found = decode(regressors, classificators, variant=FULL_RANGE)
    np.testing.assert_allclose(found.scores, [0.60108], atol=1e-5)
    # Anchor 1 sits at (1.5 / 48, 0.5 / 48); 19.2 / 192 = 0.1; w 0.25, h 0.5.
    x, y = 1.5 / 48 + 0.1, 0.5 / 48
    np.testing.assert_allclose(
        found.boxes[0], [x - 0.125, y - 0.25, x + 0.125, y + 0.25], atol=1e-6
    )


def test_decode_scales_by_128_x_first_and_cuts_at_half() -> None:
    regressors = np.zeros((1, 896, 16), np.float32)
    regressors[0, 0, :6] = [12.8, -6.4, 32.0, 16.0, 1.28, 2.56]
    classificators = np.full((1, 896, 1), -1.0, np.float32)  # sigmoid 0.27: dropped
    classificators[0, 0, 0] = 0.0  # sigmoid 0.5: kept (MediaPipe drops only below)
    found = decode(regressors, classificators, variant=SHORT_RANGE)
    assert found.scores.tolist() == [0.5]
    # Centre = raw / 128 + anchor (0.03125, 0.03125); size = raw / 128 (anchors are 1x1).
    np.testing.assert_allclose(found.boxes[0], [0.00625, -0.08125, 0.25625, 0.04375], atol=1e-6)
    np.testing.assert_allclose(found.keypoints[0, 0], [0.04125, 0.05125], atol=1e-6)
    np.testing.assert_allclose(found.keypoints[0, 1:], [[0.03125, 0.03125]] * 5, atol=1e-6)


def test_decode_clips_raw_scores_at_100_without_overflow() -> None:
    classificators = np.full((1, 896, 1), -1e4, np.float32)
    classificators[0, 7, 0] = 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = decode(np.zeros((1, 896, 16), np.float32), classificators, variant=SHORT_RANGE)
    assert found.scores.tolist() == [1.0]


def test_weighted_nms_averages_by_score_what_overlaps_over_0_3() -> None:
    boxes = np.array(
        [[0.2, 0.2, 0.6, 0.6], [0.25, 0.2, 0.65, 0.6], [0.7, 0.7, 0.9, 0.9]], np.float32
    )
    keypoints = np.repeat(boxes[:, None, :2], 6, axis=1)
    found = Detections(np.array([0.9, 0.6, 0.8], np.float32), boxes, keypoints)
    kept = weighted_nms(found)
    # The first two overlap at IoU 0.14 / 0.18 = 0.78: one box, (0.9 A + 0.6 B) / 1.5,
    # with the better score; the third touches neither and stays as it is.
    np.testing.assert_allclose(kept.scores, [0.9, 0.8])
    np.testing.assert_allclose(kept.boxes, [[0.22, 0.2, 0.62, 0.6], boxes[2]], atol=1e-6)
    np.testing.assert_allclose(kept.keypoints[0], [[0.22, 0.2]] * 6, atol=1e-6)


def test_weighted_nms_merges_only_above_0_3() -> None:
    def kept(second: list[float]) -> int:
        boxes = np.array([[0.0, 0.0, 0.4, 0.4], second], np.float32)
        scores = np.array([0.7, 0.6], np.float32)
        return len(weighted_nms(Detections(scores, boxes, np.zeros((2, 6, 2), np.float32))).scores)

    # 0.25 apart: IoU 0.06 / 0.26 = 0.23, both kept; 0.2 apart: 0.08 / 0.24 = 0.33, merged.
    assert kept([0.25, 0.0, 0.65, 0.4]) == 2
    assert kept([0.2, 0.0, 0.6, 0.4]) == 1


def test_letterbox_keeps_the_aspect_centred_and_maps_back() -> None:
    # 640x480 into 128x128: scale 128 / 640 = 0.2, the 96 rows centred (16 above).
    np.testing.assert_allclose(letterbox_matrix(640, 480, side=128), [[0.2, 0, 0], [0, 0.2, 16]])
    # Full range: 192 / 640 = 0.3, 144 rows with 24 above.
    np.testing.assert_allclose(letterbox_matrix(640, 480, side=192), [[0.3, 0, 0], [0, 0.3, 24]])
    tensor_box = np.array([[0.0, 0.125, 0.5, 0.5]], np.float32)
    back = to_frame(
        Detections(np.ones(1, np.float32), tensor_box, np.full((1, 6, 2), 0.5, np.float32)),
        width=640,
        height=480,
        side=128,
    )
    np.testing.assert_allclose(back.boxes, [[0, 0, 320, 240]], atol=1e-4)
    np.testing.assert_allclose(back.keypoints[0], [[320, 240]] * 6, atol=1e-4)


def test_input_tensor_is_rgb_in_minus_one_to_one_with_a_black_border() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    image[..., 0] = 255  # red
    tensor = input_tensor(image, side=128)
    assert tensor.shape == (1, 3, 128, 128) and tensor.dtype == np.float32
    # Rows 16..111 hold the frame; the border (zero pixels) becomes -1.
    np.testing.assert_allclose(tensor[0, :, 64, 64], [1.0, -1.0, -1.0])
    np.testing.assert_allclose(tensor[0, :, 4, 64], [-1.0, -1.0, -1.0])
    np.testing.assert_allclose(tensor[0, :, 123, 64], [-1.0, -1.0, -1.0])


def test_read_tflite_refuses_what_is_not_a_tflite_file() -> None:
    with pytest.raises(UnsupportedGraph, match="TFL3"):
        read_tflite(b"\x08\x00\x00\x00ONNX" + bytes(32))
