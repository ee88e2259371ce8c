"""``check-host --comfyui URL``: skelext's nodes inside a ComfyUI that already runs.

Talks to ComfyUI's HTTP API only (``GET /object_info/<node>``, ``POST /upload/image``,
``POST /prompt``, ``GET /history/<prompt_id>``, ``GET /view``; as in ComfyUI v0.3.64's
``server.py``): it queues API-format workflows, waits for their history entries and
checks what they wrote. It never installs, starts or stops ComfyUI.

Checks, one ``Check`` each:

* the six nodes are registered (category ``skelext``, tooltips, exact names);
* load -> complete -> save on one waist-up pose given in 0..1 units: legs completed,
  given points unchanged, the saved file and the node's JSON in pixels (no reader can
  take them for 0..1), the control image the canvas' size;
* image -> detect (BlazePose) -> save, on the astronaut photo uploaded through
  ``/upload/image`` and read by ComfyUI's own ``LoadImage``;
* a batch of 12 frames (mixed units) -> complete (canvas fit, alternative 1) -> save:
  12 frames back, 12 control images, every frame completed;
* malformed JSON, NaN, an empty batch, and a photo under a pose of another size: the run
  fails on our node with our one-line message in ``/history/<id>`` (``execution_error``),
  and ComfyUI still answers afterwards;
* a combo value outside the choices is refused by ``POST /prompt`` with ``node_errors``;
* with comfyui_controlnet_aux installed: its *Render Pose JSON (Human)* (which drops points with
  c < 1.0) on *Detect + Complete Pose*'s output (canvas expand) draws exactly skelext's control
  image, and *Render Pose* draws that pose over the detect node's placed photo.

HTTP goes through ``http.send``, as for the WebUI checks.

Over 300 lines on purpose: one function per printed check, in the printed order, sharing one
client and the workflows they queue; read top to bottom it is the check list.
"""
from __future__ import annotations

import io
import json
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .http import send
from .report import Check

NODES = ("SkelextCompletePose", "SkelextDetectPose", "SkelextRenderPose", "SkelextLoadPose", "SkelextSavePose",
         "SkelextRetargetPose")
#: OpenPose body indices of the knees and ankles (missing in the waist-up pose).
LEGS = (9, 10, 12, 13)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PHOTO = EXAMPLES / "skimage_astronaut.png"
POSE = EXAMPLES / "waist_up.json"


class HostError(Exception):
    """An HTTP exchange that went wrong (the message says which)."""


class ComfyClient:
    """ComfyUI's API over ``http.send`` (the WebUI checks' transport): JSON, multipart upload,
    queue and wait."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None) -> Tuple[int, bytes]:
        reply = send(urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {}),
                     self.timeout)
        if reply.status == 0:
            raise HostError(f"{method} {path}: {reply.error}")
        return reply.status, reply.body

    def get_json(self, path: str) -> Any:
        status, data = self.request("GET", path)
        if status != 200:
            raise HostError(f"GET {path}: HTTP {status}")
        return json.loads(data)

    def post_json(self, path: str, doc: Any) -> Tuple[int, Any]:
        status, data = self.request("POST", path, json.dumps(doc).encode("utf-8"),
                                    {"Content-Type": "application/json"})
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data.decode("utf-8", "replace")

    def upload_image(self, name: str, content: bytes) -> str:
        """``POST /upload/image`` (multipart, as the page sends it) -> the name ComfyUI stored."""
        boundary = "skelext" + uuid.uuid4().hex
        parts = []
        for field, value in (("type", "input"), ("overwrite", "true")):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
                     f"Content-Type: image/png\r\n\r\n".encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        status, data = self.request("POST", "/upload/image", b"".join(parts),
                                    {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        if status != 200:
            raise HostError(f"POST /upload/image: HTTP {status}")
        doc = json.loads(data)
        return doc["name"] if not doc.get("subfolder") else f"{doc['subfolder']}/{doc['name']}"

    def queue(self, prompt: Dict[str, Any]) -> str:
        """POST /prompt -> prompt_id (HostError with ComfyUI's node_errors when refused)."""
        status, doc = self.post_json("/prompt", {"prompt": prompt, "client_id": "skelext-check-host"})
        if status != 200 or not isinstance(doc, dict) or "prompt_id" not in doc:
            raise HostError(f"POST /prompt refused (HTTP {status}): {json.dumps(doc)[:600]}")
        return str(doc["prompt_id"])

    def wait(self, prompt_id: str, deadline_s: float) -> Dict[str, Any]:
        """Poll /history/<id> until the run finished -> its history entry."""
        end = time.monotonic() + deadline_s
        while True:
            doc = self.get_json(f"/history/{urllib.parse.quote(prompt_id)}")
            entry = doc.get(prompt_id) if isinstance(doc, dict) else None
            status = (entry or {}).get("status") or {}
            if entry is not None and (status.get("completed") or status.get("status_str") in ("success", "error")):
                return entry
            if time.monotonic() > end:
                raise HostError(f"prompt {prompt_id} not finished after {deadline_s:.0f} s")
            time.sleep(0.25)

    def view(self, item: Dict[str, Any]) -> bytes:
        query = urllib.parse.urlencode({"filename": item["filename"], "subfolder": item.get("subfolder", ""),
                                        "type": item.get("type", "output")})
        status, data = self.request("GET", "/view?" + query)
        if status != 200:
            raise HostError(f"GET /view {item['filename']}: HTTP {status}")
        return data


# ------------------------------------------------------------------ inputs
def waist_up_normalized() -> Dict[str, Any]:
    """The bundled waist-up pose (a skier cut at the hips) in 0..1 units, body only."""
    doc = json.loads(POSE.read_text(encoding="utf-8"))
    w, h = doc["canvas_width"], doc["canvas_height"]
    body = doc["people"][0]["pose_keypoints_2d"]
    norm = []
    for i in range(0, len(body), 3):
        x, y, c = body[i:i + 3]
        norm += [x / w, y / h, c] if c > 0 else [0.0, 0.0, 0.0]
    return {"people": [{"pose_keypoints_2d": norm, "face_keypoints_2d": None, "hand_left_keypoints_2d": None,
                        "hand_right_keypoints_2d": None}], "canvas_width": w, "canvas_height": h}


def batch_of_frames(n: int = 12) -> List[Dict[str, Any]]:
    """n frames of the waist-up pose drifting right; odd frames in pixels, even ones in 0..1."""
    base = waist_up_normalized()
    w, h = base["canvas_width"], base["canvas_height"]
    frames = []
    for k in range(n):
        body = list(base["people"][0]["pose_keypoints_2d"])
        for i in range(0, len(body), 3):
            if body[i + 2] > 0:
                body[i] += 0.004 * k
                if k % 2:
                    body[i], body[i + 1] = body[i] * w, body[i + 1] * h
        frames.append({"people": [{"pose_keypoints_2d": body}], "canvas_width": w, "canvas_height": h})
    return frames


def _png_size(data: bytes) -> Tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size


def _points(doc: Dict[str, Any]) -> List[Tuple[float, float, float]]:
    body = doc["people"][0]["pose_keypoints_2d"]
    return [tuple(body[i:i + 3]) for i in range(0, len(body), 3)]


def is_normalized_by_controlnet_aux(doc: Dict[str, Any]) -> bool:
    """comfyui_controlnet_aux's reading of a pose: points with c >= 1 only; 0..1 if every |x|, |y| <= 1."""
    present = [(x, y) for x, y, c in _points(doc) if c >= 1.0]
    return bool(present) and all(abs(x) <= 1 and abs(y) <= 1 for x, y in present)


# ------------------------------------------------------------------ checks
class _Skip(Exception):
    """A check that does not apply to this host (the message says why)."""


def _check(name: str, fn: Callable[[], str]) -> Check:
    try:
        return Check(name, True, fn())
    except _Skip as exc:
        return Check(name, False, str(exc), skipped=True)
    except (HostError, AssertionError, KeyError, ValueError, TypeError, IndexError) as exc:
        return Check(name, False, f"{type(exc).__name__}: {exc}" if not isinstance(exc, (HostError, AssertionError))
                     else str(exc))


def _outputs(entry: Dict[str, Any]) -> Dict[str, Any]:
    status = entry.get("status") or {}
    if status.get("status_str") != "success":
        errors = [m[1] for m in status.get("messages", []) if m and m[0] == "execution_error"]
        detail = errors[0].get("exception_message", "").strip() if errors else json.dumps(status)[:300]
        raise HostError(f"the run failed: {detail}")
    return entry.get("outputs") or {}


def _saved(client: ComfyClient, outputs: Dict[str, Any], node: str) -> Any:
    files = outputs[node]["skelext_files"]
    assert len(files) == 1, f"SavePose wrote {len(files)} files, expected 1"
    return json.loads(client.view(files[0]))


def check_nodes(client: ComfyClient) -> str:
    missing, untipped = [], []
    for name in NODES:
        status, data = client.request("GET", f"/object_info/{name}")
        info = json.loads(data).get(name) if status == 200 else None
        if not info:
            missing.append(name)
            continue
        assert info["category"] == "skelext", f"{name} has category {info['category']!r}"
        for section in info["input"].values():
            untipped += [f"{name}.{k}" for k, spec in section.items()
                         if len(spec) < 2 or not spec[1].get("tooltip")]
    assert not missing, f"not registered: {', '.join(missing)} (is skelext in custom_nodes/ and did it import?)"
    assert not untipped, f"inputs without a tooltip: {', '.join(untipped)}"
    return f"{len(NODES)} nodes in category skelext, every input with a tooltip"


def load_complete_save(json_text: str, prefix: str, *, canvas: str = "keep", alternative: int = 0,
                       draw: bool = True, preview: bool = True, output_coords: str = "px") -> Dict[str, Any]:
    """The API-format workflow: Load Pose JSON (pasted text) -> Complete Pose -> Save Pose JSON
    (-> Preview Image of the control images)."""
    prompt: Dict[str, Any] = {
        "1": {"class_type": "SkelextLoadPose", "inputs": {"path": "", "json_text": json_text}},
        "2": {"class_type": "SkelextCompletePose", "inputs": {"pose_keypoint": ["1", 0], "canvas": canvas,
                                                              "alternative": alternative, "draw_hands": draw,
                                                              "draw_face": draw}},
        "3": {"class_type": "SkelextSavePose", "inputs": {"pose_keypoint": ["2", 0], "filename_prefix": prefix,
                                                          "layout": "one file (list of frames)",
                                                          "output_coords": output_coords}},
    }
    if preview:
        prompt["4"] = {"class_type": "PreviewImage", "inputs": {"images": ["2", 1]}}
    return prompt


def check_load_complete_save(client: ComfyClient, deadline: float) -> str:
    given = waist_up_normalized()
    given["skelext_check"] = uuid.uuid4().hex  # kept by the round trip; defeats ComfyUI's cache
    w, h = given["canvas_width"], given["canvas_height"]
    prompt = load_complete_save(json.dumps(given), "skelext_check/load_complete")
    outputs = _outputs(client.wait(client.queue(prompt), deadline))
    saved = _saved(client, outputs, "3")
    assert isinstance(saved, list) and len(saved) == 1, "expected a list holding 1 frame"
    frame = saved[0]
    assert (frame["canvas_width"], frame["canvas_height"]) == (w, h), "canvas changed in keep mode"
    out = _points(frame)
    for i, (x, y, c) in enumerate(_points(given)):
        if c > 0:
            assert abs(out[i][0] - x * w) < 1e-6 and abs(out[i][1] - y * h) < 1e-6, f"given point {i} moved"
    assert all(out[i][2] >= 1.0 for i in LEGS), "knees/ankles not completed"
    assert sorted(frame["people"][0]["skelext"]["completed"]) == list(LEGS), "unexpected completed points"
    assert not is_normalized_by_controlnet_aux(frame), "output would be read as 0..1"
    below = sum(1 for i in LEGS if out[i][1] > h)
    shown = json.loads(outputs["2"]["openpose_json"][0])
    assert shown == saved, "the node's openpose_json differs from the saved file"
    images = outputs["4"]["images"]
    assert len(images) == 1 and _png_size(client.view(images[0])) == (w, h), "control image size"
    return (f"legs completed ({below} of 4 below the {w}x{h} frame), 0..1 in -> pixels out, "
            f"{len(images)} control image {w}x{h}")


def check_detect_blazepose(client: ComfyClient, deadline: float) -> str:
    name = client.upload_image(f"skelext_check_{uuid.uuid4().hex[:8]}.png", PHOTO.read_bytes())
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "SkelextDetectPose", "inputs": {
            "image": ["1", 0], "detector": "blazepose", "resolution": 512, "canvas": "keep",
            "detection_threshold": 0.3, "complete": True, "draw_hands": True, "draw_face": True}},
        "3": {"class_type": "SkelextSavePose", "inputs": {"pose_keypoint": ["2", 1],
                                                          "filename_prefix": "skelext_check/detect",
                                                          "layout": "one file (list of frames)", "output_coords": "px"}},
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
    }
    outputs = _outputs(client.wait(client.queue(prompt), deadline))
    saved = _saved(client, outputs, "3")
    assert len(saved) == 1 and len(saved[0]["people"]) == 1, "expected one frame with one person"
    person = saved[0]["people"][0]
    completed = person.get("skelext", {}).get("completed", [])
    assert any(i in completed for i in LEGS), f"no leg completed (completed: {completed})"
    size = _png_size(client.view(outputs["4"]["images"][0]))
    assert size == (saved[0]["canvas_width"], saved[0]["canvas_height"]), "control image != pose canvas"
    return f"uploaded {name}; 1 person, completed points {completed}; control image {size[0]}x{size[1]}"


def _lit(png: bytes) -> Tuple[Any, int]:
    """(RGB array, pixels that are not black) of a PNG."""
    import numpy as np
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return image, int((image.max(axis=2) > 0).sum())


def check_aux_render(client: ComfyClient, deadline: float) -> str:
    """comfyui_controlnet_aux's *Render Pose JSON (Human)* (its own reader: c < 1.0 is missing) on
    *Detect + Complete Pose*'s output (canvas expand) draws what skelext drew, and *Render Pose* draws
    the same poses over the detect node's placed photo."""
    status, _ = client.request("GET", "/object_info/RenderPeopleKps")
    if status != 200 or not json.loads(_ or b"{}"):
        raise _Skip("comfyui_controlnet_aux is not installed (no RenderPeopleKps node)")
    name = client.upload_image(f"skelext_check_{uuid.uuid4().hex[:8]}.png", PHOTO.read_bytes())
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "SkelextDetectPose", "inputs": {
            "image": ["1", 0], "detector": "blazepose", "resolution": 512, "canvas": "expand",
            "detection_threshold": 0.3, "complete": True, "draw_hands": True, "draw_face": True}},
        "3": {"class_type": "RenderPeopleKps", "inputs": {"kps": ["2", 1], "render_body": True,
                                                           "render_hand": True, "render_face": True}},
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
        "5": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}},
        "6": {"class_type": "SkelextRenderPose", "inputs": {"pose_keypoint": ["2", 1], "draw_body": True,
                                                            "draw_hands": True, "draw_face": True,
                                                            "image": ["2", 2]}},
        "7": {"class_type": "PreviewImage", "inputs": {"images": ["6", 0]}},
    }
    outputs = _outputs(client.wait(client.queue(prompt), deadline))
    ours, ours_lit = _lit(client.view(outputs["4"]["images"][0]))
    theirs, theirs_lit = _lit(client.view(outputs["5"]["images"][0]))
    overlay, _ = _lit(client.view(outputs["7"]["images"][0]))
    assert ours_lit > 0, "skelext's control image is black"
    assert theirs.shape == ours.shape, f"aux drew {theirs.shape[1]}x{theirs.shape[0]}, skelext {ours.shape[1]}x{ours.shape[0]}"
    differ = int((theirs != ours).any(axis=2).sum())
    assert differ == 0, f"aux's drawing differs from skelext's in {differ} pixels (aux lit {theirs_lit}, skelext {ours_lit})"
    assert overlay.shape == ours.shape, "Render Pose over the placed photo: size differs"
    return (f"canvas expand {ours.shape[1]}x{ours.shape[0]}: aux's Render Pose JSON lights {theirs_lit} px, "
            f"skelext's control image {ours_lit} px, 0 pixels differ; Render Pose over the detect node's photo works")


def check_batch(client: ComfyClient, deadline: float, n: int = 12) -> str:
    frames = batch_of_frames(n)
    frames[0]["skelext_check"] = uuid.uuid4().hex
    prompt = load_complete_save(json.dumps(frames), "skelext_check/batch", canvas="fit", alternative=1, draw=False)
    outputs = _outputs(client.wait(client.queue(prompt), deadline))
    saved = _saved(client, outputs, "3")
    assert isinstance(saved, list) and len(saved) == n, f"expected {n} frames back, got {len(saved)}"
    w, h = frames[0]["canvas_width"], frames[0]["canvas_height"]
    for k, frame in enumerate(saved):
        pts = [p for p in _points(frame) if p[2] > 0]
        assert len(pts) == 18, f"frame {k}: {len(pts)} of 18 body points"
        assert all(0 <= x <= w and 0 <= y <= h for x, y, _ in pts), f"frame {k}: a point outside (fit mode)"
        assert not is_normalized_by_controlnet_aux(frame), f"frame {k} would be read as 0..1"
    images = outputs["4"]["images"]
    assert len(images) == n, f"{len(images)} control images for {n} frames"
    return f"{n} frames (mixed px/0..1) -> {n} completed frames + {n} control images (fit, alternative 1)"


def _expect_error(client: ComfyClient, deadline: float, prompt: Dict[str, Any], node_type: str,
                  expect: str) -> str:
    """Queue a prompt that must fail on node_type with one SkelextError line holding ``expect``."""
    entry = client.wait(client.queue(prompt), deadline)
    status = entry.get("status") or {}
    assert status.get("status_str") == "error", f"status {status.get('status_str')!r}, expected 'error'"
    errors = [m[1] for m in status.get("messages", []) if m and m[0] == "execution_error"]
    assert errors, "no execution_error message in the history"
    error = errors[0]
    message = error.get("exception_message", "").strip()
    assert error.get("node_type") == node_type, f"error on {error.get('node_type')}"
    assert error.get("exception_type", "").endswith("SkelextError"), f"raised {error.get('exception_type')}"
    assert expect in message and "\n" not in message, f"message {message!r}"
    return f"{error['node_type']}: {message!r}"


def _error_run(client: ComfyClient, deadline: float, json_text: str, expect: str) -> str:
    prompt = load_complete_save(json_text, "skelext_check/never", preview=False)
    return _expect_error(client, deadline, prompt, "SkelextLoadPose", expect)


def check_size_mismatch(client: ComfyClient, deadline: float) -> str:
    """The 512x512 photo under the 270x205 waist-up pose: Render Pose refuses with our message."""
    name = client.upload_image("skelext_check_photo.png", PHOTO.read_bytes())
    pose = waist_up_normalized()
    pose["skelext_check"] = uuid.uuid4().hex
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "SkelextLoadPose", "inputs": {"path": "", "json_text": json.dumps(pose)}},
        "3": {"class_type": "SkelextRenderPose", "inputs": {"pose_keypoint": ["2", 0], "draw_body": True,
                                                            "draw_hands": True, "draw_face": True,
                                                            "image": ["1", 0]}},
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}},
    }
    return _expect_error(client, deadline, prompt, "SkelextRenderPose", "image is 512x512 but pose frame 0 has a")


def check_units_rule(client: ComfyClient, deadline: float) -> str:
    """Save Pose JSON asked for 0..1 while the completed legs lie below the frame (canvas keep): refused,
    since comfyui_controlnet_aux would read such a file as pixels."""
    pose = waist_up_normalized()
    pose["skelext_check"] = uuid.uuid4().hex
    prompt = load_complete_save(json.dumps(pose), "skelext_check/never", preview=False, output_coords="norm")
    return _expect_error(client, deadline, prompt, "SkelextSavePose", "points outside the")


def check_still_running(client: ComfyClient) -> str:
    stats = client.get_json("/system_stats")
    version = stats.get("system", {}).get("comfyui_version", "?")
    return f"ComfyUI {version} still answers after the failed runs"


def check_bad_combo(client: ComfyClient) -> str:
    prompt = {
        "1": {"class_type": "SkelextLoadPose", "inputs": {"path": "", "json_text": json.dumps(waist_up_normalized())}},
        "2": {"class_type": "SkelextCompletePose", "inputs": {"pose_keypoint": ["1", 0], "canvas": "sideways",
                                                              "alternative": 0, "draw_hands": True,
                                                              "draw_face": True}},
        "3": {"class_type": "SkelextSavePose", "inputs": {"pose_keypoint": ["2", 0], "filename_prefix": "x",
                                                          "layout": "one file (list of frames)", "output_coords": "px"}},
    }
    status, doc = client.post_json("/prompt", {"prompt": prompt})
    assert status == 400, f"HTTP {status}, expected 400"
    errors = (doc or {}).get("node_errors", {}).get("2", {}).get("errors", [])
    assert any(e.get("type") == "value_not_in_list" for e in errors), f"node_errors: {json.dumps(doc)[:300]}"
    return "canvas='sideways' refused at POST /prompt (400, value_not_in_list)"


def run_checks(url: str, timeout: float = 120.0) -> List[Check]:
    """Every check against the ComfyUI at ``url``; a host that does not answer is one failed check."""
    client = ComfyClient(url, timeout=min(timeout, 60.0))
    try:
        client.get_json("/system_stats")
    except (HostError, ValueError) as exc:
        return [Check("comfyui: reachable", False, f"{url}: {exc}")]
    checks = [_check("comfyui: nodes registered", lambda: check_nodes(client))]
    if not checks[0].passed:
        return checks
    missing = [p for p in (POSE, PHOTO) if not p.is_file()]
    if missing:  # an installed wheel has no examples/: the workflows need the bundled pose and photo
        why = f"{', '.join(str(p) for p in missing)} not found: run from a checkout of skelext"
        checks += [Check(name, False, why, skipped=True) for name in (
            "comfyui: load -> complete -> save", "comfyui: image -> detect (blazepose) -> save",
            "comfyui: batch of frames", "comfyui: image/pose size mismatch -> our error in /history",
            "comfyui: 0..1 output with points outside -> our error in /history")]
    else:
        checks += [
            _check("comfyui: load -> complete -> save", lambda: check_load_complete_save(client, timeout)),
            _check("comfyui: image -> detect (blazepose) -> save", lambda: check_detect_blazepose(client, timeout)),
            _check("comfyui: batch of frames", lambda: check_batch(client, timeout)),
            _check("comfyui: comfyui_controlnet_aux draws skelext's pose",
                   lambda: check_aux_render(client, timeout)),
            _check("comfyui: image/pose size mismatch -> our error in /history",
                   lambda: check_size_mismatch(client, timeout)),
            _check("comfyui: 0..1 output with points outside -> our error in /history",
                   lambda: check_units_rule(client, timeout)),
        ]
    checks += [
        _check("comfyui: malformed JSON -> our error in /history",
               lambda: _error_run(client, timeout, '{"people": [', "invalid JSON")),
        _check("comfyui: NaN -> our error in /history",
               lambda: _error_run(client, timeout, '{"people": [{"pose_keypoints_2d": [NaN]}], "canvas_width": 9, '
                                                  '"canvas_height": 9}', "NaN")),
        _check("comfyui: empty batch -> our error in /history",
               lambda: _error_run(client, timeout, "[]", "empty batch")),
        _check("comfyui: still running", lambda: check_still_running(client)),
        _check("comfyui: invalid option refused by /prompt", lambda: check_bad_combo(client)),
    ]
    return checks
