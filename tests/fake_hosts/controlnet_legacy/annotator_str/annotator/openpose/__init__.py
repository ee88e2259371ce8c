"""Fake older ControlNet pose encoder: the callback gets a JSON string."""
import json


def encode_poses_as_json(poses, canvas_height, canvas_width):
    return json.dumps({"people": [], "canvas_height": canvas_height, "canvas_width": canvas_width})
