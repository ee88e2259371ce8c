"""REST API: a FastAPI ``APIRouter`` under ``/skelext/v1/``.

Routes (JSON; images sent are base64 PNG/JPEG/WebP or data: URLs, images returned are base64
PNG). "Fields" are each request's keys (``models.schema()``; option ranges and choices come
from ``settings.OPTIONS`` and are bounds and enums in ``/openapi.json``):

* ``POST complete``: OpenPose JSON in (an object, a list of frames, or a string holding
  either), completed OpenPose JSON out, with ``completion_failed``. Fields: pose, coords,
  output_coords, render, sequence, fps, canvas, alternatives, fit_margin, sequence_mode,
  smooth_detected, rewrite_scores, bridge_gap, draw_body, draw_hands, draw_face.
* ``POST detect``: a photo in; the completed and the detected poses, the control image,
  ``completion_failed`` and timings out. Fields: image, resolution, canvas, detector,
  detection_threshold, threshold, alternatives, complete, fit_margin, output_coords,
  draw_body, draw_hands, draw_face.
* ``POST render``: OpenPose JSON in, the ControlNet-style drawing out (``images``: one per
  frame for a list). Fields: pose, coords, canvas, fit_margin, draw_body, draw_hands,
  draw_face.
* ``POST retarget``: a driving motion in, out with a reference character's body (given
  as a pose or as a photo), with ``completion_failed``. Fields: driving, reference,
  reference_image, coords, output_coords, render, fps, canvas, fit_margin, sequence_mode,
  detector, resolution, retarget_position, retarget_scale, retarget_mode, bridge_gap,
  draw_body, draw_hands, draw_face.

Every option field has the option's name (``settings.OPTIONS``; the CLI flag and the ComfyUI
input, modulo ``-``/``_``); older names still work: ``threshold`` (= detection_threshold),
``sequence: true`` (= sequence_mode, default causal). Units: ``coords`` says how the input is
read, ``output_coords`` how the output is written (same | px | norm); 0..1 is never written
with a point outside the canvas (same then writes pixels, norm is a 400). Completion failures:
the route answers 200 with the poses as given and ``completion_failed: true`` (a model file
missing on the server is a 503 before anything runs).
* ``GET info``: the version, the completion model, where DWPose's weights were looked
  for and found, the detector names, the limits, whether auth is on.

``build_router(auth=None, max_body_bytes=MAX_BODY_BYTES, max_image_pixels=MAX_IMAGE_PIXELS,
detector_location=None)`` returns the router (the names written with ``=`` in this docstring
are its keyword parameters); ``create_app(**kwargs)`` an app serving only it. The WebUI mounts
it in ``on_app_started`` (``lib_skelext.host.mount_api``, once per app);
``python -m lib_skelext serve`` serves it alone.

Access control follows the WebUI's own API: ``auth="user:pass,user2:pass2"`` (the WebUI's
``--api-auth``) makes every route ask for HTTP basic auth (401 + ``WWW-Authenticate:
Basic``; passwords compared with ``secrets.compare_digest``), checked before the body is
read. Bodies over ``max_body_bytes=`` get 413 before they are read in full, images over
``max_image_pixels=`` get 413, every bad input a 4xx with a message (``SkelextError`` ->
400, schema errors -> 422); a model file missing on the server -> 503.

Detectors: the routes take theirs from the process-wide registry
(``detectors.get_detector(name, location)``) by the request's ``detector`` field; the
router has no detector parameter. ``detector_location=`` is a zero-argument callable
returning the ``detectors.DetectorLocation`` (weights folder, folders searched, device)
to take them at: the WebUI passes its settings', the default is the standalone folders.
``detectors.register_factory(name, factory)`` adds or replaces a detector for every
surface at once: ``factory(weights_dir, search_dirs, device)`` returns an object with
``detect_people(image, threshold) -> PoseFrame`` (``load()`` and ``unload()`` are called
when it has them). The ``detector`` field accepts only ``settings.DETECTORS``, so over
REST a factory takes effect by replacing one of those names (tests replace ``dwpose``
with a tiny fake this way).
The routes are plain ``def``: FastAPI runs them in its thread pool, off the event loop.
fastapi and pydantic are imported only when a router is built.

Modules: ``limits`` (prefix, sizes), ``auth`` (basic auth, guarded routes), ``routes`` (each route's work),
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
