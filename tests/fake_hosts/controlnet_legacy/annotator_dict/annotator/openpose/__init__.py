"""Fake newer ControlNet pose encoder (animal pose era): the callback gets a dict."""


def encode_poses_as_json(poses, animals, canvas_height, canvas_width):
    return {"people": [], "animals": [], "canvas_height": canvas_height, "canvas_width": canvas_width}
