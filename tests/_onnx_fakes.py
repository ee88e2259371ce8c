"""Tiny ONNX stand-ins for DWPose's two models, built with the onnx helper API.

* ``make_detector_model``: input (1, 3, 640, 640) float32 -> output (1, 8400, 85)
  equal to a given constant (the input only sets the batch size);
* ``make_constant_pose_model``: input (N, 3, 384, 288) -> simcc_x (N, 133, 576),
  simcc_y (N, 133, 768) equal to given constants for every person;
* ``make_dot_pose_model``: SimCC profiles are the column / row maxima of the
  crop's first channel, so every keypoint lands on the brightest pixel of the
  crop: this checks the affine crop end to end.

``encode_box`` writes a box (image pixels) into a raw YOLOX output, so tests
know the exact boxes the decode must give back.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict

import numpy as np

OPSET = 17
IR_VERSION = 8


def _save(graph, path: Path) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return Path(path)


def _batch_shape_nodes(input_name: str, out_name: str, tail):
    """Nodes making the int64 shape [N, *tail] where N is the input's batch size."""
    from onnx import helper, numpy_helper

    tail_t = numpy_helper.from_array(np.array(tail, dtype=np.int64), name=f"{out_name}_tail")
    nodes = [
        helper.make_node("Shape", [input_name], [f"{out_name}_n"], start=0, end=1),
        helper.make_node("Concat", [f"{out_name}_n", tail_t.name], [out_name], axis=0),
    ]
    return nodes, [tail_t]


def make_detector_model(path: Path, raw: np.ndarray, input_name: str = "images") -> Path:
    from onnx import TensorProto, helper, numpy_helper

    const = numpy_helper.from_array(np.asarray(raw, dtype=np.float32).reshape(1, 8400, 85), name="raw")
    shape_nodes, shape_inits = _batch_shape_nodes(input_name, "out_shape", [1, 1])
    nodes = shape_nodes + [helper.make_node("Expand", ["raw", "out_shape"], ["output"])]
    graph = helper.make_graph(
        nodes, "fake_yolox",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, 3, 640, 640])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 8400, 85])],
        initializer=[const] + shape_inits,
    )
    return _save(graph, path)


def make_constant_pose_model(path: Path, simcc_x: np.ndarray, simcc_y: np.ndarray,
                             input_name: str = "input", batch="batch") -> Path:
    from onnx import TensorProto, helper, numpy_helper

    cx = numpy_helper.from_array(np.asarray(simcc_x, dtype=np.float32).reshape(1, 133, 576), name="cx")
    cy = numpy_helper.from_array(np.asarray(simcc_y, dtype=np.float32).reshape(1, 133, 768), name="cy")
    shape_nodes, shape_inits = _batch_shape_nodes(input_name, "bshape", [1, 1])
    nodes = shape_nodes + [
        helper.make_node("Expand", ["cx", "bshape"], ["simcc_x"]),
        helper.make_node("Expand", ["cy", "bshape"], ["simcc_y"]),
    ]
    graph = helper.make_graph(
        nodes, "fake_dwpose_constant",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [batch, 3, 384, 288])],
        [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [batch, 133, 576]),
         helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [batch, 133, 768])],
        initializer=[cx, cy] + shape_inits,
    )
    return _save(graph, path)


def make_dot_pose_model(path: Path, input_name: str = "input") -> Path:
    from onnx import TensorProto, helper, numpy_helper

    inits = [
        numpy_helper.from_array(np.array(0, dtype=np.int64), name="ch0"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), name="ax2"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), name="ax1"),
        numpy_helper.from_array(np.array([0, 576], dtype=np.int64), name="shape_x"),
        numpy_helper.from_array(np.array([0, 768], dtype=np.int64), name="shape_y"),
        numpy_helper.from_array(np.array([1, 133, 1], dtype=np.int64), name="k133"),
    ]
    nodes = [
        helper.make_node("Gather", [input_name, "ch0"], ["c0"], axis=1),          # (N, 384, 288)
        helper.make_node("ReduceMax", ["c0"], ["colmax"], axes=[1], keepdims=0),  # (N, 288)
        helper.make_node("ReduceMax", ["c0"], ["rowmax"], axes=[2], keepdims=0),  # (N, 384)
    ]
    for prof, shape, out in (("colmax", "shape_x", "simcc_x"), ("rowmax", "shape_y", "simcc_y")):
        nodes += [
            helper.make_node("Unsqueeze", [prof, "ax2"], [f"{prof}_u"]),                    # (N, L, 1)
            helper.make_node("Concat", [f"{prof}_u", f"{prof}_u"], [f"{prof}_2"], axis=2),  # (N, L, 2)
            helper.make_node("Reshape", [f"{prof}_2", shape], [f"{prof}_r"]),               # (N, 2L)
            helper.make_node("Unsqueeze", [f"{prof}_r", "ax1"], [f"{prof}_k"]),             # (N, 1, 2L)
            helper.make_node("Expand", [f"{prof}_k", "k133"], [out]),                       # (N, 133, 2L)
        ]
    graph = helper.make_graph(
        nodes, "fake_dwpose_dot",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", 3, 384, 288])],
        [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, ["batch", 133, 576]),
         helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, ["batch", 133, 768])],
        initializer=inits,
    )
    return _save(graph, path)


def empty_raw() -> np.ndarray:
    """A YOLOX output with nothing in it: (8400, 85) zeros."""
    return np.zeros((8400, 85), dtype=np.float32)


def encode_box(raw: np.ndarray, box, ratio: float, *, objectness: float,
               class_scores: Dict[int, float], stride: int = 32) -> int:
    """Write ``box`` (x1, y1, x2, y2 in image pixels) into the anchor of ``stride``
    whose cell holds the box centre; returns the anchor index."""
    x1, y1, x2, y2 = (float(v) * ratio for v in box)
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    base = {8: 0, 16: 80 * 80, 32: 80 * 80 + 40 * 40}[stride]
    cells = 640 // stride
    gx, gy = int(cx // stride), int(cy // stride)
    idx = base + gy * cells + gx
    raw[idx, 0] = cx / stride - gx
    raw[idx, 1] = cy / stride - gy
    raw[idx, 2] = math.log(w / stride)
    raw[idx, 3] = math.log(h / stride)
    raw[idx, 4] = objectness
    for cls, score in class_scores.items():
        raw[idx, 5 + cls] = score
    return idx
