"""HTTP basic auth as the WebUI's own API does it (``--api-auth``), and the guarded route class.

``auth="user:pass,user2:pass2"``: every route asks for HTTP basic auth (401 with
``WWW-Authenticate: Basic``, passwords compared with ``secrets.compare_digest``).
The route class checks auth, then reads the body with a size cap (413), before
FastAPI parses anything.
"""
from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any, Callable, Dict, Optional

from ..errors import SkelextError


def parse_credentials(auth: Optional[str]) -> Dict[str, str]:
    """``"user:pass,user2:pass2"`` -> {user: pass}, split as the WebUI splits ``--api-auth``."""
    credentials: Dict[str, str] = {}
    for item in (auth or "").split(","):
        if not item.strip():
            continue
        if ":" not in item:
            raise SkelextError("auth must be user:password pairs separated by commas")
        user, password = item.split(":", 1)
        credentials[user] = password
    return credentials


def check_basic_auth(header: Optional[str], credentials: Dict[str, str]) -> Optional[str]:
    """None when allowed, else the 401 detail (the WebUI's own wording)."""
    if not credentials:
        return None
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "basic" or not token:
        return "Not authenticated"
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return "Invalid authentication credentials"
    if not sep:
        return "Invalid authentication credentials"
    expected = credentials.get(user)
    if expected is not None and secrets.compare_digest(password.encode("utf-8"), expected.encode("utf-8")):
        return None
    return "Incorrect username or password"


def guarded_route_class(credentials: Dict[str, str], max_body_bytes: int):
    """An APIRoute that checks auth, then reads the body with a size cap, before FastAPI parses it."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.routing import APIRoute
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    def too_large() -> JSONResponse:
        return JSONResponse({"detail": f"request body too large (at most {max_body_bytes} bytes)"}, status_code=413)

    class SkelextRoute(APIRoute):
        def get_route_handler(self) -> Callable:
            handler = super().get_route_handler()

            async def guarded(request: Request):
                denied = check_basic_auth(request.headers.get("authorization"), credentials)
                if denied is not None:
                    return JSONResponse({"detail": denied}, status_code=401, headers={"WWW-Authenticate": "Basic"})
                if request.method in ("POST", "PUT", "PATCH"):
                    length = request.headers.get("content-length")
                    if length is not None:
                        if not length.strip().isdigit():
                            return JSONResponse({"detail": "bad Content-Length"}, status_code=400)
                        if int(length) > max_body_bytes:
                            return too_large()
                    body = bytearray()
                    async for chunk in request.stream():
                        body += chunk
                        if len(body) > max_body_bytes:
                            return too_large()
                    request = _replay(request, bytes(body))
                try:
                    return await handler(request)
                except RequestValidationError as exc:  # 422 without echoing the input (NaN breaks JSON)
                    return JSONResponse({"detail": _plain_errors(exc.errors())}, status_code=422)

            return guarded

    return SkelextRoute


def _plain_errors(errors: Any) -> list:
    """Validation errors as location, message and type only: pydantic 2 echoes the input, and a NaN
    there cannot be written as JSON (the WebUI would answer 500)."""
    return [{"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))} for e in errors]


def _replay(request: Any, body: bytes) -> Any:
    """A new Request whose body is ``body`` (the original stream was consumed)."""
    from starlette.requests import Request

    sent = False
    original = request.receive

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return Request(request.scope, receive)
