"""Serving the router on its own: ``create_app``, ``serve`` and ``python -m lib_skelext serve``."""
from __future__ import annotations

import logging
from typing import Any, Optional

from .. import __version__
from ..errors import SkelextError
from .router import build_router

logger = logging.getLogger(__name__)


def create_app(**router_kwargs: Any):
    """A FastAPI app serving only the skelext router (``python -m lib_skelext serve``)."""
    from fastapi import FastAPI

    app = FastAPI(title="skelext", version=__version__,
                  description="Complete partial OpenPose skeletons (DWPose + completion network).")
    app.include_router(build_router(**router_kwargs))
    return app


def serve(host: str = "127.0.0.1", port: int = 7870, auth: Optional[str] = None,
          dwpose_weights_dir: Optional[str] = None, **router_kwargs: Any) -> None:
    """Run the router standalone with uvicorn (blocks until stopped)."""
    try:
        import uvicorn
    except ImportError:
        raise SkelextError("serving needs fastapi and uvicorn: pip install 'skelext[api]'") from None
    if not auth and host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving on %s without --auth: anyone who can reach this port can use it", host)
    if dwpose_weights_dir:
        from ..detectors import DetectorLocation

        location = DetectorLocation(weights_dir=str(dwpose_weights_dir))
        router_kwargs.setdefault("detector_location", lambda: location)
    uvicorn.run(create_app(auth=auth, **router_kwargs), host=host, port=port, log_level="info")


ENV_AUTH = "SKELEXT_API_AUTH"
