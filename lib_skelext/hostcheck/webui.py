"""Checks against a running AUTOMATIC1111 WebUI (+ sd-webui-controlnet) or Forge.

``run_checks(url, auth, browser, screenshots, timeout, photo=None) -> list[Check]``:

* ControlNet's routes: ``/controlnet/version`` (Forge has none: SKIP),
  ``/controlnet/module_list`` (our module by name and by label, its sliders),
  ``/controlnet/detect`` with ``dwpose_full (openpose completed)`` on a real photo
  (``poses`` with legs), side by side with ControlNet's own ``dw_openpose_full``
  (the detected body points must agree), and whether ``/controlnet/detect`` answers
  without credentials (ControlNet's routes ignore ``--api-auth``: reported, not failed);
* skelext's routes ``/skelext/v1/{info,complete,detect,render}`` with the given
  credentials, and all four without (and with wrong) credentials when the host
  uses ``--api-auth`` (401 with ``WWW-Authenticate: Basic``);
* with ``browser=True`` the page in headless Chromium (``browser.run_page_checks``).

Only HTTP to a host that already runs: nothing is installed, started or built.

Over 300 lines on purpose: ``WebUIChecks`` is one method per printed check, in the printed
order, sharing one client, the photo and the results of earlier checks.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..errors import SkelextError
from .http import HostClient, Reply, parse_auth
from .report import Check

NAME = "dwpose_full"
LABEL = "dwpose_full (openpose completed)"
CONTROLNET_DWPOSE = "dw_openpose_full"
PREFIX = "/skelext/v1"
#: knees and ankles (OpenPose body order): what a waist-up photo lacks and completion adds
LEGS = (9, 10, 12, 13)
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PHOTO = REPO_ROOT / "examples" / "skimage_astronaut.png"
#: Detected points of ours and of dw_openpose_full may differ by this much (pixels).
MATCH_TOLERANCE_PX = 1.0

#: A waist-up person (pixels, 512x512 canvas, OpenPose body order): the probe for /complete.
PROBE_POSE: Dict[str, Any] = {
    "people": [{"pose_keypoints_2d": [
        256, 110, 1, 256, 170, 1, 206, 172, 1, 190, 240, 1, 186, 300, 1, 306, 172, 1, 322, 240, 1,
        326, 300, 1, 226, 320, 1, 0, 0, 0, 0, 0, 0, 286, 320, 1, 0, 0, 0, 0, 0, 0, 246, 100, 1, 266, 100, 1,
        236, 108, 1, 276, 108, 1]}],
    "canvas_width": 512, "canvas_height": 512,
}


def load_photo(photo: Optional[str] = None) -> Tuple[Path, str]:
    """(path, base64 PNG/JPEG bytes) of the photo for the detect checks. SkelextError if unreadable."""
    path = Path(photo) if photo else DEFAULT_PHOTO
    try:
        data = path.read_bytes()
    except OSError as exc:
        hint = "" if photo else " (it ships in the repository's examples/; pass --photo PHOTO otherwise)"
        raise SkelextError(f"cannot read the photo {path}: {exc.strerror or exc}{hint}") from exc
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            im.verify()
    except Exception as exc:
        raise SkelextError(f"{path} is not an image PIL can read ({exc})") from exc
    return path, base64.b64encode(data).decode("ascii")


def _people(pose: Any) -> List[dict]:
    people = pose.get("people") if isinstance(pose, dict) else None
    return people if isinstance(people, list) else []


def _body(person: dict) -> List[Tuple[float, float, float]]:
    flat = person.get("pose_keypoints_2d") or []
    return [tuple(float(v) for v in flat[i:i + 3]) for i in range(0, min(len(flat), 54), 3)]


def _pixels(pose: dict) -> List[List[Tuple[float, float, float]]]:
    """Body points of every person in pixels (0..1 poses, as ControlNet's DWPose writes, scaled)."""
    width, height = float(pose.get("canvas_width") or 0), float(pose.get("canvas_height") or 0)
    bodies = [_body(p) for p in _people(pose)]
    present = [c for b in bodies for pt in b if pt[2] > 0 for c in pt[:2]]
    normalized = bool(present) and all(0.0 <= c <= 1.0 for c in present)
    if normalized:
        bodies = [[(x * width, y * height, c) for x, y, c in b] for b in bodies]
    return bodies


def _legs_present(person: dict) -> bool:
    body = _body(person)
    return len(body) == 18 and all(body[i][2] > 0 for i in LEGS)


def _completed(person: dict) -> List[int]:
    extra = person.get("skelext") if isinstance(person, dict) else None
    completed = extra.get("completed") if isinstance(extra, dict) else None
    return [int(i) for i in completed] if isinstance(completed, list) else []


def _decode_png(text: Any) -> Optional[Tuple[int, int]]:
    """(width, height) of a base64 image, or None."""
    if not isinstance(text, str):
        return None
    try:
        from PIL import Image

        raw = base64.b64decode(text.split(",", 1)[1] if text.startswith("data:") else text)
        with Image.open(io.BytesIO(raw)) as im:
            return im.size
    except Exception:
        return None


def _decode_rgb(text: Any) -> Any:
    """A base64 image as an (H, W, 3) uint8 array, or None."""
    if not isinstance(text, str):
        return None
    try:
        import numpy as np
        from PIL import Image

        raw = base64.b64decode(text.split(",", 1)[1] if text.startswith("data:") else text)
        with Image.open(io.BytesIO(raw)) as im:
            return np.asarray(im.convert("RGB"))
    except Exception:
        return None


def _detect_body(module: str, photo_b64: str) -> Dict[str, Any]:
    # canvas keep (slider 1 = 0) and ControlNet's threshold (0.3): the detected points stay where
    # dw_openpose_full puts them
    return {"controlnet_module": module, "controlnet_input_images": [photo_b64], "controlnet_processor_res": 512,
            "controlnet_threshold_a": 0, "controlnet_threshold_b": 0.3}


class WebUIChecks:
    def __init__(self, client: HostClient, photo: Tuple[Path, str]) -> None:
        self.client = client
        self.photo_path, self.photo_b64 = photo
        self.checks: List[Check] = []
        self.forge = False
        self.no_controlnet = False
        self.auth_on: Optional[bool] = None
        self.ours: Optional[dict] = None
        self.our_image: Optional[str] = None

    def add(self, name: str, passed: bool, detail: str = "", skipped: bool = False) -> Check:
        check = Check(name, passed, detail, skipped)
        self.checks.append(check)
        return check

    # ------------------------------------------------------------- ControlNet
    def controlnet_version(self) -> bool:
        r = self.client.get("/controlnet/version")
        if r.status == 0:
            self.add("host reachable", False, r.why())
            return False
        if r.status == 404 and self.client.get("/controlnet/module_list").status == 404:
            self.no_controlnet = True
            self.add("controlnet", False, "no /controlnet/* routes: sd-webui-controlnet is not installed or did "
                     "not load (started with --api?); the ControlNet checks are skipped")
        elif r.status == 404:
            self.forge = True
            self.add("controlnet/version", False, "404: no such route (Forge's built-in ControlNet has none)",
                     skipped=True)
        elif r.status == 200 and isinstance(r.json(), dict) and "version" in r.json():
            self.add("controlnet/version", True, f"ControlNet API version {r.json()['version']}")
        else:
            self.add("controlnet/version", False, r.why())
        return True

    def module_list(self) -> None:
        r = self.client.get("/controlnet/module_list?alias_names=false")
        data = r.json() if r.status == 200 else None
        if not isinstance(data, dict) or not isinstance(data.get("module_list"), list):
            self.add("controlnet/module_list", False, r.why() if r.status != 200 else "no module_list in the reply")
            return
        names = data["module_list"]
        aliased = self.client.get("/controlnet/module_list?alias_names=true").json() or {}
        labels = aliased.get("module_list") if isinstance(aliased, dict) else None
        labels = labels if isinstance(labels, list) else []
        if self.forge or "module_detail" not in data:  # Forge: names only (our name is the label)
            ok = LABEL in names
            self.add("controlnet/module_list", ok, f"{LABEL!r} {'listed' if ok else 'missing'} "
                     f"among {len(names)} preprocessors (Forge lists names only, no sliders)")
            return
        detail = (aliased.get("module_detail") or {}).get(LABEL) or (data.get("module_detail") or {}).get(NAME)
        sliders = detail.get("sliders", []) if isinstance(detail, dict) else []
        slider_names = [s.get("name", "") for s in sliders if isinstance(s, dict)]
        problems = []
        if NAME not in names:
            problems.append(f"{NAME!r} not in module_list")
        if LABEL not in labels:
            problems.append(f"{LABEL!r} not in module_list?alias_names=true")
        if len(slider_names) != 3 or not any("anvas" in s for s in slider_names) \
                or not any("hreshold" in s for s in slider_names):
            problems.append(f"sliders {slider_names} (expected resolution, canvas, threshold)")
        self.add("controlnet/module_list", not problems, "; ".join(problems) or
                 f"{NAME!r} and alias {LABEL!r} listed; sliders: {', '.join(slider_names)}")

    def controlnet_detect(self) -> None:
        name = "controlnet/detect dwpose_full"
        r = self.client.post("/controlnet/detect", _detect_body(LABEL, self.photo_b64))
        data = r.json() if r.status == 200 else None
        if not isinstance(data, dict):
            self.add(name, False, r.why())
            return
        poses = data.get("poses")
        if not isinstance(poses, list) or not poses:
            self.add(name, False, "no 'poses' in the reply (the module string must contain 'openpose')")
            return
        people = _people(poses[0])
        images = data.get("images") or []
        size = _decode_png(images[0]) if images else None
        if not people:
            self.add(name, False, f"nobody found in {self.photo_path.name}")
            return
        self.ours = poses[0]
        self.our_image = images[0] if images else None
        legs = sum(_legs_present(p) for p in people)
        completed = sum(len(_completed(p)) for p in people)
        ok = legs == len(people) and size is not None
        self.add(name, ok, f"{len(people)} people, legs on {legs}, {completed} points completed, control image "
                 f"{size[0]}x{size[1]}" if size else "no control image in the reply")

    def side_by_side(self) -> None:
        name = f"controlnet/detect matches {CONTROLNET_DWPOSE}"
        if self.ours is None:
            self.add(name, False, "dwpose_full gave no pose to compare", skipped=True)
            return
        r = self.client.post("/controlnet/detect", _detect_body(CONTROLNET_DWPOSE, self.photo_b64))
        data = r.json() if r.status == 200 else None
        if r.status == 422:
            self.add(name, False, f"{CONTROLNET_DWPOSE} not available on this host", skipped=True)
            return
        if not isinstance(data, dict) or not data.get("poses"):
            self.add(name, False, f"{CONTROLNET_DWPOSE} itself failed ({r.why(120)})", skipped=True)
            return
        theirs, ours = _pixels(data["poses"][0]), _pixels(self.ours)
        completed = [set(_completed(p)) for p in _people(self.ours)]
        if len(theirs) != len(ours):
            self.add(name, False, f"{len(ours)} people vs {len(theirs)} from {CONTROLNET_DWPOSE}")
            return
        worst, compared, extra = 0.0, 0, []
        for person, (mine, cn, done) in enumerate(zip(ours, theirs, completed)):
            for i, (a, b) in enumerate(zip(mine, cn)):
                if b[2] > 0:
                    if i in done or a[2] <= 0:
                        extra.append(f"person {person} point {i} detected by {CONTROLNET_DWPOSE} but not kept")
                        continue
                    worst = max(worst, abs(a[0] - b[0]), abs(a[1] - b[1]))
                    compared += 1
                elif a[2] > 0 and i not in done:
                    extra.append(f"person {person} point {i} detected only by dwpose_full")
        ok = not extra and worst <= MATCH_TOLERANCE_PX
        self.add(name, ok, "; ".join(extra[:3]) if extra else
                 f"{compared} detected body points of {len(ours)} people agree (max difference {worst:.2f} px)")

    def render_openpose_json(self) -> None:
        """ControlNet's own reader and drawing (``decode_json_as_poses``: c < 1.0 is missing) on the
        pose dwpose_full handed over: it must draw the control image dwpose_full drew."""
        name = "controlnet/render_openpose_json of our pose"
        if self.ours is None or self.our_image is None:
            self.add(name, False, "dwpose_full gave no pose to render", skipped=True)
            return
        r = self.client.post("/controlnet/render_openpose_json", [self.ours])
        if r.status == 404:
            self.add(name, False, "404: no such route (Forge's built-in ControlNet has none)", skipped=True)
            return
        data = r.json() if r.status == 200 else None
        images = data.get("images") if isinstance(data, dict) else None
        theirs, ours = (_decode_rgb(images[0]) if images else None), _decode_rgb(self.our_image)
        if theirs is None or ours is None:
            self.add(name, False, r.why() if r.status != 200 else "no image in the reply")
            return
        lit = [int((im.max(axis=2) > 0).sum()) for im in (theirs, ours)]
        differ = int((theirs != ours).any(axis=2).sum()) if theirs.shape == ours.shape else -1
        ok = lit[1] > 0 and differ == 0
        self.add(name, ok, f"ControlNet's drawing lights {lit[0]} px, dwpose_full's control image {lit[1]} px, "
                 + (f"{differ} pixels differ" if differ >= 0 else
                    f"sizes differ ({theirs.shape[1]}x{theirs.shape[0]} vs {ours.shape[1]}x{ours.shape[0]})"))

    def controlnet_open(self) -> None:
        if not self.auth_on:
            return
        r = self.client.post("/controlnet/detect", _detect_body(LABEL, self.photo_b64), auth=None)
        if r.status in (401, 403):
            self.add("controlnet/detect without credentials", True, f"refused ({r.status})")
        else:
            self.add("controlnet/detect without credentials", True,
                     f"answers {r.status} without credentials: ControlNet's own routes ignore --api-auth "
                     "(ControlNet's behaviour, documented in docs/webui-and-api.md)")

    # ---------------------------------------------------------------- skelext
    def info(self) -> bool:
        r = self.client.get(f"{PREFIX}/info")
        data = r.json() if r.status == 200 else None
        if r.status == 401:
            self.auth_on = True
            self.add(f"{PREFIX[1:]}/info", False, "401: the host uses --api-auth; pass --auth USER:PASS"
                     if self.client.auth is None else "401: the host refused these credentials")
            return False
        if not isinstance(data, dict) or "version" not in data:
            self.add(f"{PREFIX[1:]}/info", False, r.why())
            return False
        self.auth_on = bool(data.get("auth"))
        weights = data.get("dwpose_weights") or {}
        model = data.get("completion_model") or {}
        self.add(f"{PREFIX[1:]}/info", bool(model.get("found", True)),
                 f"skelext {data['version']}, completion model {'found' if model.get('found') else 'MISSING'}, "
                 f"DWPose weights {'found' if weights.get('found') else 'not found'}, "
                 f"api-auth {'on' if self.auth_on else 'off'}")
        return True

    def complete(self) -> None:
        r = self.client.post(f"{PREFIX}/complete", {"pose": PROBE_POSE, "canvas": "expand", "render": True})
        data = r.json() if r.status == 200 else None
        if not isinstance(data, dict):
            self.add(f"{PREFIX[1:]}/complete", False, r.why())
            return
        people = _people(data.get("pose"))
        ok = len(people) == 1 and _legs_present(people[0]) and data.get("completed_points", 0) >= len(LEGS) \
            and _decode_png(data.get("image")) is not None
        self.add(f"{PREFIX[1:]}/complete", ok, f"{data.get('completed_points')} points completed on a waist-up "
                 f"pose, legs {'present' if people and _legs_present(people[0]) else 'MISSING'}")

    def detect(self) -> None:
        r = self.client.post(f"{PREFIX}/detect", {"image": self.photo_b64, "detector": "dwpose", "resolution": 512})
        data = r.json() if r.status == 200 else None
        if not isinstance(data, dict):
            self.add(f"{PREFIX[1:]}/detect", False, r.why())
            return
        people = _people(data.get("pose"))
        size = _decode_png(data.get("image"))
        ok = bool(people) and all(_legs_present(p) for p in people) and size is not None
        self.add(f"{PREFIX[1:]}/detect", ok, f"{len(people)} people in {self.photo_path.name}, "
                 f"{data.get('completed_points')} points completed, control image "
                 + (f"{size[0]}x{size[1]}" if size else "missing"))

    def render(self) -> None:
        r = self.client.post(f"{PREFIX}/render", {"pose": PROBE_POSE})
        data = r.json() if r.status == 200 else None
        size = _decode_png(data.get("image")) if isinstance(data, dict) else None
        ok = size == (512, 512) and data.get("width") == 512 and data.get("height") == 512
        self.add(f"{PREFIX[1:]}/render", ok, f"PNG {size[0]}x{size[1]}" if size else r.why())

    def without_credentials(self) -> None:
        name = f"{PREFIX[1:]}/* without credentials"
        if not self.auth_on:
            self.add(name, False, "the host runs without --api-auth", skipped=True)
            return
        bad: List[str] = []
        calls = (("GET", "info", None), ("POST", "complete", {"pose": PROBE_POSE}),
                 ("POST", "detect", {"image": "AAAA"}), ("POST", "render", {"pose": PROBE_POSE}))  # auth first
        wrong = ("skelext-check", "not-the-password")
        for method, route, body in calls:
            for label, credentials in (("none", None), ("wrong", wrong)):
                r: Reply = self.client.request(method, f"{PREFIX}/{route}", body, auth=credentials)
                basic = "basic" in (r.headers.get("WWW-Authenticate") or r.headers.get("www-authenticate") or
                                    "").lower()
                if r.status != 401 or not basic:
                    bad.append(f"{route} ({label} credentials): {r.status}")
        self.add(name, not bad, "; ".join(bad) or
                 "info, complete, detect, render: 401 with WWW-Authenticate: Basic (no or wrong credentials)")


def run_checks(url: str, auth: Optional[str] = None, browser: bool = False,
               screenshots: Optional[str] = None, timeout: float = 120.0,
               photo: Optional[str] = None) -> List[Check]:
    """Every WebUI check, in order; one ``Check`` each. SkelextError only for bad arguments."""
    client = HostClient(url, auth=parse_auth(auth), timeout=timeout)
    run = WebUIChecks(client, load_photo(photo))
    if not run.controlnet_version():
        return run.checks
    if not run.no_controlnet:
        run.module_list()
    run.info()
    if not run.no_controlnet:
        run.controlnet_detect()
        run.side_by_side()
        run.render_openpose_json()
        run.controlnet_open()
    run.complete()
    run.detect()
    run.render()
    run.without_credentials()
    if browser:
        from .browser import run_page_checks

        run.checks += run_page_checks(client.base_url, auth=client.auth, screenshots=screenshots,
                                      timeout=timeout, photo=run.photo_path, forge=run.forge)
    return run.checks
