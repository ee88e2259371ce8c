"""Serving the router on its own: ``create_app``, ``serve`` and ``python -m lib_skelext serve``."""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from .. import __version__
from ..errors import SkelextError
from .auth import parse_credentials
from .limits import PREFIX
from .router import build_router

logger = logging.getLogger(__name__)


def create_app(**router_kwargs: Any):
    """A FastAPI app serving only the skelext router (``python -m lib_skelext serve``)."""
    from fastapi import FastAPI

    app = FastAPI(title="skelext", version=__version__,
                  description="Complete partial OpenPose skeletons (DWPose + completion network).")
    app.include_router(build_router(**router_kwargs))
    return app


def serve(host: str = "127.0.0.1", port: int = 7870, auth: Optional[str] = None, **router_kwargs: Any) -> None:
    """Run the router standalone with uvicorn (blocks until stopped)."""
    try:
        import uvicorn
    except ImportError:
        raise SkelextError("serving needs fastapi and uvicorn: pip install 'skelext[api]'") from None
    if not auth and host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving on %s without --auth: anyone who can reach this port can use it", host)
    uvicorn.run(create_app(auth=auth, **router_kwargs), host=host, port=port, log_level="info")


ENV_AUTH = "SKELEXT_API_AUTH"


def add_serve_command(sub: Any) -> None:
    """``python -m lib_skelext serve``: registered by ``cli.py``."""
    p = sub.add_parser(
        "serve", help="run the REST API (/skelext/v1/) on its own",
        description=f"Serve {PREFIX}/ (complete, detect, render, info) with uvicorn. Binds 127.0.0.1 "
                    f"unless told otherwise; give --auth (or set {ENV_AUTH}) before listening on other "
                    "addresses.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7870, help="port (default 7870)")
    p.add_argument("--auth", default=None, metavar="USER:PASS[,USER:PASS]",
                   help=f"require HTTP basic auth, as the WebUI's --api-auth (default: ${ENV_AUTH})")
    p.add_argument("--weights-dir", default=None, metavar="DIR",
                   help="folder with yolox_l.onnx and dw-ll_ucoco_384.onnx (default: the usual places)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: Any) -> int:
    import os

    if not 0 < int(args.port) < 65536:
        raise SkelextError(f"--port must be 1..65535, got {args.port}")
    auth = args.auth if args.auth is not None else os.environ.get(ENV_AUTH) or None
    parse_credentials(auth)  # fail early on a malformed value
    kwargs: Dict[str, Any] = {}
    if args.weights_dir:
        from ..dwpose import DWPoseDetector

        detector = DWPoseDetector(weights_dir=args.weights_dir)
        kwargs["dwpose_detector"] = lambda: detector
    serve(args.host, int(args.port), auth, **kwargs)
    return 0
