"""DWPose pre- and post-processing as pure functions (numpy; cv2 imported inside).

Reimplemented from the behaviour of ControlNet's DWPose annotator
(``annotator/openpose/cv_ox_det.py``, ``cv_ox_pose.py``) so that skelext finds
the same boxes and keypoints as ControlNet's ``dw_openpose_full``:

* detector (YOLOX-L): top-left letterbox to 640x640 with pad value 114, raw
  0..255 float input, grid decode with strides 8/16/32, per-class NMS (IoU
  0.45, score > 0.1, areas with the +1 pixel convention), keep class 0 with
  score > 0.3;
* pose (RTMPose / DWPose-L 384x288): box centre and size x1.25, widened to
  the aspect 288/384, affine crop, mean/std normalisation, SimCC decode with
  split ratio 2.0, back-projection to the image.

Every coordinate here is in pixels; boxes are ``(n, 4) x1, y1, x2, y2``.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

#: Detector input (height, width).
DET_INPUT_HW: Tuple[int, int] = (640, 640)
DET_PAD_VALUE = 114
DET_STRIDES: Tuple[int, ...] = (8, 16, 32)
NMS_IOU = 0.45
NMS_SCORE_THRESHOLD = 0.1
PERSON_SCORE_THRESHOLD = 0.3
PERSON_CLASS = 0

#: Pose model input (width, height), as ControlNet names it.
POSE_INPUT_WH: Tuple[int, int] = (288, 384)
BOX_PADDING = 1.25
SIMCC_SPLIT_RATIO = 2.0
POSE_MEAN = np.array([123.675, 116.28, 103.53])
POSE_STD = np.array([58.395, 57.12, 57.375])


# --------------------------------------------------------------------- detector

def letterbox(image: np.ndarray, input_hw: Tuple[int, int] = DET_INPUT_HW,
              pad_value: int = DET_PAD_VALUE) -> Tuple[np.ndarray, float]:
    """Resize keeping the aspect and paste at the top-left of a padded canvas.

    image: (H, W, 3) uint8. Returns ((3, h_in, w_in) float32 of raw 0..255
    values, ratio) where ratio = min(h_in / H, w_in / W) maps image pixels to
    letterbox pixels.
    """
    import cv2

    h, w = image.shape[:2]
    ratio = min(input_hw[0] / h, input_hw[1] / w)
    new_w, new_h = int(w * ratio), int(h * ratio)
    canvas = np.full((input_hw[0], input_hw[1], 3), pad_value, dtype=np.uint8)
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas[:new_h, :new_w] = resized.reshape(new_h, new_w, -1)[:, :, :3]
    return np.ascontiguousarray(canvas.transpose(2, 0, 1), dtype=np.float32), ratio


def yolox_grids(input_hw: Tuple[int, int] = DET_INPUT_HW,
                strides: Sequence[int] = DET_STRIDES) -> Tuple[np.ndarray, np.ndarray]:
    """Cell offsets (A, 2) x, y and strides (A, 1) for every anchor, x fastest."""
    grids, expanded = [], []
    for stride in strides:
        hs, ws = input_hw[0] // stride, input_hw[1] // stride
        xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
        grids.append(np.stack((xv, yv), axis=2).reshape(-1, 2))
        expanded.append(np.full((hs * ws, 1), stride))
    return np.concatenate(grids).astype(np.float64), np.concatenate(expanded).astype(np.float64)


def yolox_decode(raw: np.ndarray, input_hw: Tuple[int, int] = DET_INPUT_HW,
                 strides: Sequence[int] = DET_STRIDES) -> Tuple[np.ndarray, np.ndarray]:
    """Raw YOLOX output (1, A, 5 + C) or (A, 5 + C) -> (boxes (A, 4) x1y1x2y2
    in letterbox pixels, scores (A, C) = objectness x class score)."""
    pred = np.asarray(raw, dtype=np.float64).reshape(-1, np.shape(raw)[-1])
    grid, stride = yolox_grids(input_hw, strides)
    if len(pred) != len(grid):
        raise ValueError(f"detector output has {len(pred)} anchors, expected {len(grid)}")
    xy = (pred[:, :2] + grid) * stride
    wh = np.exp(pred[:, 2:4]) * stride
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
    scores = pred[:, 4:5] * pred[:, 5:]
    return boxes, scores


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """Areas with the +1 pixel convention of the reference NMS."""
    return (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = NMS_IOU) -> List[int]:
    """Greedy single-class NMS; returns kept indices, best score first.

    A box is dropped when its IoU (+1 pixel convention) with a kept box is
    above ``iou_threshold``.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    areas = box_areas(boxes)
    order = np.argsort(np.asarray(scores))[::-1]
    keep: List[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        iw = np.maximum(0.0, np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0]) + 1)
        ih = np.maximum(0.0, np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1]) + 1)
        inter = iw * ih
        iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[iou <= iou_threshold]
    return keep


def multiclass_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = NMS_IOU,
                   score_threshold: float = NMS_SCORE_THRESHOLD) -> np.ndarray:
    """Per-class NMS. Returns (n, 6): x1, y1, x2, y2, score, class (class-major order)."""
    out = []
    for cls in range(scores.shape[1]):
        mask = scores[:, cls] > score_threshold
        if not mask.any():
            continue
        cls_boxes, cls_scores = boxes[mask], scores[mask, cls]
        keep = nms(cls_boxes, cls_scores, iou_threshold)
        out.append(np.concatenate([cls_boxes[keep], cls_scores[keep, None],
                                   np.full((len(keep), 1), float(cls))], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 6))


def person_boxes(raw: np.ndarray, ratio: float, *, input_hw: Tuple[int, int] = DET_INPUT_HW,
                 score_threshold: float = PERSON_SCORE_THRESHOLD) -> Optional[np.ndarray]:
    """Raw detector output -> person boxes (n, 4) in image pixels (NMS order).

    Boxes are divided by the letterbox ratio before NMS, as the reference
    does. Returns None when nothing at all scored above the NMS threshold
    (0.1, any class), and an empty (0, 4) array when something did but no
    person scored above ``score_threshold``: ControlNet then runs the pose
    model on the whole image.
    """
    boxes, scores = yolox_decode(raw, input_hw)
    dets = multiclass_nms(boxes / ratio, scores)
    if len(dets) == 0:
        return None
    keep = (dets[:, 4] > score_threshold) & (dets[:, 5] == PERSON_CLASS)
    return dets[keep, :4]


# ------------------------------------------------------------------------- pose

def box_center_scale(boxes: np.ndarray, padding: float = BOX_PADDING) -> Tuple[np.ndarray, np.ndarray]:
    """(n, 4) x1y1x2y2 -> centres (n, 2) and sizes x padding (n, 2) w, h."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    center = np.stack([b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], axis=1) * 0.5
    scale = np.stack([b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1) * padding
    return center, scale


def fix_aspect_ratio(scale: np.ndarray, aspect_wh: float) -> np.ndarray:
    """Grow (n, 2) w, h so that w / h == aspect_wh (only ever enlarges)."""
    s = np.asarray(scale, dtype=np.float64).reshape(-1, 2)
    w, h = s[:, 0:1], s[:, 1:2]
    return np.where(w > h * aspect_wh, np.hstack([w, w / aspect_wh]), np.hstack([h * aspect_wh, h]))


def crop_matrix(center: np.ndarray, scale: np.ndarray,
                output_wh: Tuple[int, int] = POSE_INPUT_WH) -> np.ndarray:
    """2x3 affine image -> crop: the centre goes to the crop centre and the
    scale width to the crop width (uniform scale, no rotation)."""
    cx, cy = float(center[0]), float(center[1])
    k = output_wh[0] / float(scale[0])
    return np.array([[k, 0.0, output_wh[0] * 0.5 - k * cx],
                     [0.0, k, output_wh[1] * 0.5 - k * cy]])


def crop_person(image: np.ndarray, center: np.ndarray, scale: np.ndarray,
                output_wh: Tuple[int, int] = POSE_INPUT_WH) -> np.ndarray:
    """Affine-crop (INTER_LINEAR, black outside) one person to (h, w, 3) uint8."""
    import cv2

    m = crop_matrix(center, scale, output_wh)
    return cv2.warpAffine(image, m, (int(output_wh[0]), int(output_wh[1])), flags=cv2.INTER_LINEAR)


def normalize_crops(crops: Sequence[np.ndarray]) -> np.ndarray:
    """(h, w, 3) uint8 crops -> (n, 3, h, w) float32, (x - mean) / std per channel."""
    stack = np.stack([(np.asarray(c, dtype=np.float64) - POSE_MEAN) / POSE_STD for c in crops])
    return np.ascontiguousarray(stack.transpose(0, 3, 1, 2), dtype=np.float32)


def pose_inputs(image: np.ndarray, boxes: np.ndarray,
                input_wh: Tuple[int, int] = POSE_INPUT_WH) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes -> (model batch (n, 3, h, w) float32, centres (n, 2), scales (n, 2)).

    The scales are the aspect-fixed crop sizes in image pixels, as needed by
    ``simcc_to_image``.
    """
    center, scale = box_center_scale(boxes)
    scale = fix_aspect_ratio(scale, input_wh[0] / input_wh[1])
    crops = [crop_person(image, c, s, input_wh) for c, s in zip(center, scale)]
    return normalize_crops(crops), center, scale


def simcc_decode(simcc_x: np.ndarray, simcc_y: np.ndarray,
                 split_ratio: float = SIMCC_SPLIT_RATIO) -> Tuple[np.ndarray, np.ndarray]:
    """SimCC (n, K, Wx), (n, K, Wy) -> locations (n, K, 2) in crop pixels and
    scores (n, K) = min(max_x, max_y); location -1 where the score is <= 0."""
    sx = np.asarray(simcc_x)
    sy = np.asarray(simcc_y)
    n, k = sx.shape[:2]
    fx, fy = sx.reshape(n * k, -1), sy.reshape(n * k, -1)
    locs = np.stack([np.argmax(fx, axis=1), np.argmax(fy, axis=1)], axis=-1).astype(np.float64)
    scores = np.minimum(fx.max(axis=1), fy.max(axis=1)).astype(np.float64)
    locs[scores <= 0] = -1
    locs = locs.reshape(n, k, 2)
    # -1 marks "no location"; it is divided too, as the reference does.
    return locs / split_ratio, scores.reshape(n, k)


def simcc_to_image(locs: np.ndarray, center: np.ndarray, scale: np.ndarray,
                   input_wh: Tuple[int, int] = POSE_INPUT_WH) -> np.ndarray:
    """Crop locations (n, K, 2) -> image pixels: loc / input * scale + centre - scale / 2."""
    size = np.asarray(input_wh, dtype=np.float64)
    c = np.asarray(center, dtype=np.float64)[:, None, :]
    s = np.asarray(scale, dtype=np.float64)[:, None, :]
    return locs / size * s + c - s / 2
