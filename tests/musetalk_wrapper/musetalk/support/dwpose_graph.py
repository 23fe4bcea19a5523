"""Tiny ONNX graphs with DWPose's signature (input [1,3,384,288]; SimCC outputs simcc_x [1,133,576] and
simcc_y [1,133,768]), for testing the dwpose-onnx backend's pre- and post-processing without the 134 MB model.

``bright_spot``: every keypoint's SimCC logits are the input's column / row maxima (upsampled x2 as SimCC
bins are half pixels), so all 133 keypoints land on the brightest spot of the warped input: a white square
drawn at a known place in a frame must come back at that place in frame pixels.
``wrong_bins``: same input, outputs with the wrong bin counts (a model that is not DWPose).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
N_KEYPOINTS = 133


def _axis_profile(
    name: str, reduce_axes: list[int], length: int, bins_per_px: int, out_name: str
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """input -> max over ``reduce_axes`` -> [1, length] -> each value repeated ``bins_per_px`` times ->
    expanded to [1, 133, length * bins_per_px]."""
    nodes = [
        helper.make_node("ReduceMax", ["input"], [f"{name}_max"], axes=reduce_axes, keepdims=0),
        helper.make_node("Unsqueeze", [f"{name}_max", f"{name}_ax2"], [f"{name}_col"]),
        helper.make_node("Concat", [f"{name}_col"] * bins_per_px, [f"{name}_rep"], axis=2),
        helper.make_node("Reshape", [f"{name}_rep", f"{name}_shape"], [f"{name}_flat"]),
        helper.make_node("Expand", [f"{name}_flat", f"{name}_expand"], [out_name]),
    ]
    inits = [
        numpy_helper.from_array(np.array([2], dtype=np.int64), f"{name}_ax2"),
        numpy_helper.from_array(np.array([1, 1, length * bins_per_px], dtype=np.int64), f"{name}_shape"),
        numpy_helper.from_array(np.array([1, N_KEYPOINTS, length * bins_per_px], dtype=np.int64), f"{name}_expand"),
    ]
    return nodes, inits


def build(path: Path, kind: str = "bright_spot") -> Path:
    bins = 2 if kind == "bright_spot" else 3
    x_nodes, x_inits = _axis_profile("x", [1, 2], 288, bins, "simcc_x")
    y_nodes, y_inits = _axis_profile("y", [1, 3], 384, bins, "simcc_y")
    graph = helper.make_graph(
        x_nodes + y_nodes,
        f"dwpose_{kind}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 384, 288])],
        [
            helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [1, N_KEYPOINTS, 288 * bins]),
            helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [1, N_KEYPOINTS, 384 * bins]),
        ],
        initializer=x_inits + y_inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
