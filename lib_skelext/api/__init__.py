"""REST API: a FastAPI ``APIRouter`` under ``/skelext/v1/``.

Routes (all JSON; images are base64 PNG):

* ``POST complete``: OpenPose JSON in, completed OpenPose JSON out
  (options: canvas, alternatives, coords, render).
* ``POST detect``: a base64 image in, completed poses and the control image out
  (options: resolution, canvas, detector, threshold, alternatives, complete, draw_*).
* ``POST render``: OpenPose JSON in, the ControlNet-style drawing out.
* ``GET info``: versions, the completion model, where DWPose's weights were looked
  for and found.

Mounted by the WebUI in ``on_app_started`` (``lib_skelext.host.mount_api``) and
by ``python -m lib_skelext serve``. Access control follows the WebUI's own API:
``auth="user:pass,user2:pass2"`` (the WebUI's ``--api-auth``) makes every route
ask for HTTP basic auth (401 + ``WWW-Authenticate: Basic``; passwords compared
with ``secrets.compare_digest``). Bodies over ``max_body_bytes`` get 413 before
they are read in full, images over ``max_image_pixels`` get 413, every bad input
a 4xx with a message (``SkelextError`` -> 400, schema errors -> 422).

Detectors are a documented hook: ``detectors={"dwpose": factory, ...}`` maps a
detector name to a zero-argument factory returning an object with
``detect_people(image, threshold) -> PoseFrame`` (tests pass a tiny fake one).
The routes are plain ``def``: FastAPI runs them in its thread pool, off the
event loop. fastapi and pydantic are imported only when a router is built.

Modules: ``limits`` (prefix, sizes), ``auth`` (basic auth, guarded routes),
``payloads`` (images, pose JSON, info), ``models`` (pydantic), ``router``,
``server`` (standalone app, CLI).
"""
from __future__ import annotations

from .auth import check_basic_auth, parse_credentials
from .limits import MAX_BODY_BYTES, MAX_IMAGE_PIXELS, PREFIX, TooLarge
from .payloads import decode_image, encode_png
from .router import build_router
from .server import ENV_AUTH, create_app, serve

__all__ = ["PREFIX", "MAX_BODY_BYTES", "MAX_IMAGE_PIXELS", "TooLarge", "build_router", "create_app", "serve",
           "decode_image", "encode_png", "parse_credentials", "check_basic_auth", "ENV_AUTH"]
