"""A fake ComfyUI HTTP server for the ``check-host --comfyui`` tests (CI cannot install ComfyUI).

Built from ComfyUI v0.3.64's interfaces (``server.py`` routes, ``execution.py`` validation and
error reporting, ``nodes.py`` LoadImage/PreviewImage), not from skelext's code:

* ``GET /system_stats`` -> ``{"system": {"comfyui_version": ...}}``;
* ``GET /object_info`` and ``/object_info/<class>`` -> ``node_info`` dicts (input, input_order,
  output, output_name, name, display_name, description, category, output_node, output_tooltips);
* ``POST /upload/image`` (multipart: ``image``, ``type``, ``overwrite``) -> ``{name, subfolder, type}``;
* ``POST /prompt`` ``{"prompt": {id: {"class_type", "inputs"}}}``: validated like
  ``execution.validate_prompt`` (unknown class -> 400 ``invalid_prompt``; no output node ->
  400 ``prompt_no_outputs``; a combo value outside its list -> 400
  ``prompt_outputs_failed_validation`` with ``node_errors[id].errors[].type ==
  "value_not_in_list"``), else queued -> ``{"prompt_id", "number", "node_errors": {}}``;
* a worker thread runs each prompt: inputs linked as ``[node_id, output_index]``, the node's
  ``FUNCTION`` called with keyword arguments, ``{"ui", "result"}`` dicts or tuples accepted.
  An exception ends the run: the history entry gets ``status_str "error"`` and an
  ``("execution_error", {prompt_id, node_id, node_type, executed, exception_message:
  f"{ex}\\n", exception_type: module.qualname, traceback, current_inputs, current_outputs})``
  message; success gives ``status_str "success"``, ``completed: true`` and the outputs' ``ui``;
* ``GET /history/<id>`` -> ``{id: entry}`` once finished, ``{}`` before;
* ``GET /view?filename&subfolder&type`` -> the file (no ``..``, no leaving the folder).

``swallow_errors=True`` makes a broken host that reports failed runs as successes (for
testing that the checks notice).
"""
from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import os
import queue
import threading
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional, Tuple

import numpy as np


class LoadImage:
    """ComfyUI's LoadImage: a file of the input folder -> (IMAGE 1xHxWx3 float32 0..1, MASK)."""

    folder_paths: Any = None
    CATEGORY = "image"
    RETURN_TYPES = ("IMAGE", "MASK")
    FUNCTION = "load_image"

    @classmethod
    def INPUT_TYPES(cls):
        input_dir = cls.folder_paths.get_input_directory()
        files = [f for f in os.listdir(input_dir) if os.path.isfile(os.path.join(input_dir, f))]
        return {"required": {"image": (sorted(files), {"image_upload": True})}}

    def load_image(self, image):
        import torch
        from PIL import Image

        with Image.open(os.path.join(self.folder_paths.get_input_directory(), image)) as img:
            rgb = np.array(img.convert("RGB")).astype(np.float32) / 255.0
        tensor = torch.from_numpy(rgb)[None,]
        return (tensor, torch.zeros((1, rgb.shape[0], rgb.shape[1])))


class PreviewImage:
    """ComfyUI's PreviewImage: IMAGE batch -> PNGs in the temp folder, listed in ``ui.images``."""

    folder_paths: Any = None
    CATEGORY = "image"
    RETURN_TYPES = ()
    FUNCTION = "save_images"
    OUTPUT_NODE = True
    _counter = itertools.count(1)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"images": ("IMAGE",)}}

    def save_images(self, images):
        from PIL import Image

        results = []
        for image in images:
            array = np.clip(255.0 * image.cpu().numpy(), 0, 255).astype(np.uint8)
            name = f"ComfyUI_temp_fake_{next(self._counter):05}_.png"
            Image.fromarray(array).save(os.path.join(self.folder_paths.get_temp_directory(), name))
            results.append({"filename": name, "subfolder": "", "type": "temp"})
        return {"ui": {"images": results}}


class RenderPeopleKps:
    """comfyui_controlnet_aux v1.1.5's *Render Pose JSON (Human)* (node_wrappers/pose_keypoint_postprocess.py):
    POSE_KEYPOINT -> IMAGE of its first frame, drawn by aux's own reader and drawing (re-implemented in
    ``tests/host_readers.py``: points with c < 1.0 are missing)."""

    CATEGORY = "ControlNet Preprocessors/Pose Keypoint Postprocess"
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "render"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"kps": ("POSE_KEYPOINT",), "render_body": ("BOOLEAN", {"default": True}),
                             "render_hand": ("BOOLEAN", {"default": True}),
                             "render_face": ("BOOLEAN", {"default": True})}}

    def render(self, kps, render_body, render_hand, render_face):
        import torch
        from host_readers import aux_render

        image = aux_render(kps, render_body=render_body, render_hand=render_hand, render_face=render_face)
        return (torch.from_numpy(image.astype(np.float32) / 255).unsqueeze(0),)


def _full_type_name(klass: type) -> str:
    module = klass.__module__
    return klass.__qualname__ if module == "builtins" else f"{module}.{klass.__qualname__}"


class FakeComfyUI:
    """Serve ``node_classes`` (plus LoadImage, PreviewImage and, with ``aux``, comfyui_controlnet_aux's
    RenderPeopleKps) on 127.0.0.1 at a free port."""

    def __init__(self, folder_paths: Any, node_classes: Dict[str, type],
                 display_names: Optional[Dict[str, str]] = None, *, swallow_errors: bool = False,
                 aux: bool = True) -> None:
        self.folder_paths = folder_paths
        LoadImage.folder_paths = PreviewImage.folder_paths = folder_paths
        self.nodes: Dict[str, type] = {**node_classes, "LoadImage": LoadImage, "PreviewImage": PreviewImage}
        if aux:  # comfyui_controlnet_aux installed beside skelext
            self.nodes["RenderPeopleKps"] = RenderPeopleKps
        self.display_names = display_names or {}
        self.swallow_errors = swallow_errors
        self.history: Dict[str, Dict[str, Any]] = {}
        self.queue: "queue.Queue[Optional[Tuple[str, Dict[str, Any]]]]" = queue.Queue()
        self.number = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._threads = [threading.Thread(target=self.httpd.serve_forever, daemon=True),
                         threading.Thread(target=self._work, daemon=True)]

    def __enter__(self) -> "FakeComfyUI":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.queue.put(None)
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    # ------------------------------------------------------------------ nodes
    def node_info(self, name: str) -> Dict[str, Any]:
        cls = self.nodes[name]
        inputs = cls.INPUT_TYPES()
        info = {"input": inputs, "input_order": {k: list(v.keys()) for k, v in inputs.items()},
                "output": cls.RETURN_TYPES, "output_is_list": [False] * len(cls.RETURN_TYPES),
                "output_name": getattr(cls, "RETURN_NAMES", cls.RETURN_TYPES), "name": name,
                "display_name": self.display_names.get(name, name), "description": getattr(cls, "DESCRIPTION", ""),
                "python_module": "custom_nodes.skelext", "category": getattr(cls, "CATEGORY", "sd"),
                "output_node": bool(getattr(cls, "OUTPUT_NODE", False))}
        if hasattr(cls, "OUTPUT_TOOLTIPS"):
            info["output_tooltips"] = cls.OUTPUT_TOOLTIPS
        return info

    def validate(self, prompt: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        for node_id, node in prompt.items():
            if not isinstance(node, dict) or node.get("class_type") not in self.nodes:
                return 400, {"error": {"type": "invalid_prompt", "message": "Cannot execute because node "
                                       f"{node.get('class_type') if isinstance(node, dict) else node} does not exist.",
                                       "details": f"Node ID '#{node_id}'", "extra_info": {}}, "node_errors": {}}
        outputs = [i for i, n in prompt.items() if getattr(self.nodes[n["class_type"]], "OUTPUT_NODE", False)]
        if not outputs:
            return 400, {"error": {"type": "prompt_no_outputs", "message": "Prompt has no outputs",
                                   "details": "", "extra_info": {}}, "node_errors": {}}
        node_errors: Dict[str, Any] = {}
        for node_id, node in prompt.items():
            required = self.nodes[node["class_type"]].INPUT_TYPES().get("required", {})
            errors = []
            for name, spec in required.items():
                value = node.get("inputs", {}).get(name)
                if value is None:
                    errors.append({"type": "required_input_missing", "message": "Required input is missing",
                                   "details": name, "extra_info": {"input_name": name}})
                elif isinstance(spec[0], list) and not isinstance(value, list) and value not in spec[0]:
                    errors.append({"type": "value_not_in_list", "message": "Value not in list",
                                   "details": f"{name}: '{value}' not in {spec[0]}",
                                   "extra_info": {"input_name": name, "input_config": spec, "received_value": value}})
            if errors:
                node_errors[node_id] = {"errors": errors, "dependent_outputs": outputs,
                                        "class_type": node["class_type"]}
        if node_errors:
            return 400, {"error": {"type": "prompt_outputs_failed_validation",
                                   "message": "Prompt outputs failed validation", "details": "", "extra_info": {}},
                         "node_errors": node_errors}
        self.number += 1
        prompt_id = str(uuid.uuid4())
        self.queue.put((prompt_id, prompt))
        return 200, {"prompt_id": prompt_id, "number": self.number, "node_errors": {}}

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            self.history[item[0]] = self._execute(*item)

    def _execute(self, prompt_id: str, prompt: Dict[str, Any]) -> Dict[str, Any]:
        results: Dict[str, Tuple[Any, ...]] = {}
        outputs: Dict[str, Any] = {}
        executed = []
        messages: list = [["execution_start", {"prompt_id": prompt_id}]]

        def run(node_id: str) -> Tuple[Any, ...]:
            if node_id in results:
                return results[node_id]
            node = prompt[node_id]
            kwargs = {}
            for name, value in node.get("inputs", {}).items():
                kwargs[name] = run(str(value[0]))[value[1]] if isinstance(value, list) else value
            cls = self.nodes[node["class_type"]]
            try:
                out = getattr(cls(), cls.FUNCTION)(**kwargs)
            except Exception as ex:  # as execution.py: the run stops, the server goes on
                ex.skelext_fake_node = node_id  # type: ignore[attr-defined]
                raise
            if isinstance(out, dict):
                if "ui" in out:
                    outputs[node_id] = out["ui"]
                out = out.get("result", ())
            results[node_id] = tuple(out)
            executed.append(node_id)
            return results[node_id]

        try:
            for node_id, node in prompt.items():
                if getattr(self.nodes[node["class_type"]], "OUTPUT_NODE", False):
                    run(node_id)
        except Exception as ex:
            if self.swallow_errors:
                messages.append(["execution_success", {"prompt_id": prompt_id}])
                return {"prompt": [0, prompt_id, prompt, {}, []], "outputs": outputs,
                        "status": {"status_str": "success", "completed": True, "messages": messages}}
            node_id = getattr(ex, "skelext_fake_node", "?")
            messages.append(["execution_error", {
                "prompt_id": prompt_id, "node_id": node_id, "node_type": prompt.get(node_id, {}).get("class_type"),
                "executed": list(executed), "exception_message": f"{ex}\n", "exception_type": _full_type_name(type(ex)),
                "traceback": traceback.format_tb(ex.__traceback__), "current_inputs": {}, "current_outputs": []}])
            return {"prompt": [0, prompt_id, prompt, {}, []], "outputs": outputs,
                    "status": {"status_str": "error", "completed": False, "messages": messages}}
        messages.append(["execution_success", {"prompt_id": prompt_id}])
        return {"prompt": [0, prompt_id, prompt, {}, []], "outputs": outputs,
                "status": {"status_str": "success", "completed": True, "messages": messages}}

    # ------------------------------------------------------------------ HTTP
    def _handler(self) -> type:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                parts = [urllib.parse.unquote(p) for p in url.path.split("/") if p]
                if parts == ["system_stats"]:
                    return self._send(200, {"system": {"comfyui_version": "0.3.64-fake"}, "devices": []})
                if parts == ["object_info"]:
                    return self._send(200, {n: fake.node_info(n) for n in fake.nodes})
                if len(parts) == 2 and parts[0] == "object_info":
                    return self._send(200, {parts[1]: fake.node_info(parts[1])} if parts[1] in fake.nodes else {})
                if len(parts) == 2 and parts[0] == "history":
                    entry = fake.history.get(parts[1])
                    return self._send(200, {parts[1]: entry} if entry is not None else {})
                if parts == ["view"]:
                    query = dict(urllib.parse.parse_qsl(url.query))
                    name = query.get("filename", "")
                    base = fake.folder_paths.get_directory_by_type(query.get("type", "output"))
                    if not name or name[0] == "/" or ".." in name or base is None:
                        return self._send(400, b"", "text/plain")
                    folder = os.path.abspath(os.path.join(base, query.get("subfolder", "")))
                    if os.path.commonpath((folder, base)) != base:
                        return self._send(403, b"", "text/plain")
                    path = os.path.join(folder, os.path.basename(name))
                    if not os.path.isfile(path):
                        return self._send(404, b"", "text/plain")
                    with open(path, "rb") as f:
                        return self._send(200, f.read(), "application/octet-stream")
                return self._send(404, b"404: Not Found", "text/plain")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.path == "/prompt":
                    try:
                        doc = json.loads(body)
                    except ValueError:
                        return self._send(400, {"error": "bad json"})
                    if "prompt" not in doc:
                        return self._send(400, {"error": {"type": "no_prompt", "message": "No prompt provided",
                                                          "details": "No prompt provided", "extra_info": {}},
                                                "node_errors": {}})
                    return self._send(*fake.validate(doc["prompt"]))
                if self.path == "/upload/image":
                    head = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
                    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
                    fields, image, filename = {}, None, None
                    for part in message.iter_parts():
                        name = part.get_param("name", header="content-disposition")
                        if name == "image":
                            image, filename = part.get_payload(decode=True), part.get_filename()
                        else:
                            fields[name] = part.get_content().strip()
                    if image is None or not filename:
                        return self._send(400, b"", "text/plain")
                    upload_dir = fake.folder_paths.get_directory_by_type(fields.get("type") or "input")
                    with open(os.path.join(upload_dir, os.path.basename(filename)), "wb") as f:
                        f.write(image)
                    return self._send(200, {"name": os.path.basename(filename), "subfolder": "",
                                            "type": fields.get("type") or "input"})
                return self._send(404, b"404: Not Found", "text/plain")

        return Handler
