"""A small HTTP client for the host checks (stdlib only: the check runs where skelext runs).

``HostClient(base_url, auth="user:pass", timeout=s).get(path)`` / ``.post(path, json)`` ->
``Reply(status, headers, body)``; connection problems come back as status 0 with the reason
in ``error``, so every check can print one line instead of a traceback.
"""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

from ..errors import SkelextError


@dataclass
class Reply:
    status: int
    headers: Dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def why(self, limit: int = 200) -> str:
        """One-line reason for a failed request: status and the host's ``detail`` or body."""
        if self.status == 0:
            return self.error or "no answer"
        data = self.json()
        detail = data.get("detail") if isinstance(data, dict) else None
        text = detail if detail is not None else self.body.decode("utf-8", "replace")
        text = " ".join(str(text).split())
        if not text and self.status >= 500:
            text = "no detail in the reply; the host's console has the error"
        return f"HTTP {self.status}" + (f": {text[:limit]}" if text else "")


def send(req: urllib.request.Request, timeout: float) -> Reply:
    """Send one request -> Reply; HTTP errors are replies, a host that does not answer is status 0."""
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read() if hasattr(exc, "read") else b""
        return Reply(exc.code, dict(exc.headers.items()) if exc.headers else {}, body or b"")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        host = urllib.parse.urlsplit(req.full_url)
        return Reply(0, error=f"no answer from {host.scheme}://{host.netloc} ({reason})")


def parse_auth(value: Optional[str]) -> Optional[Tuple[str, str]]:
    """"user:pass" -> (user, pass); None/"" -> None. SkelextError for anything else."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise SkelextError(f"--auth must be USER:PASS (as the WebUI's --api-auth), got {value!r}")
    return user, password


class HostClient:
    def __init__(self, base_url: str, auth: Optional[Tuple[str, str]] = None, timeout: float = 120.0) -> None:
        url = (base_url or "").strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise SkelextError(f"the host URL must start with http:// or https://, got {base_url!r}")
        self.base_url = url
        self.auth = auth
        self.timeout = timeout

    def request(self, method: str, path: str, payload: Any = None, *, auth: Any = "default") -> Reply:
        """auth: "default" (the client's credentials), None (none) or (user, password)."""
        credentials = self.auth if auth == "default" else auth
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if credentials:
            token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode("utf-8")).decode("ascii")
            req.add_header("Authorization", f"Basic {token}")
        return send(req, self.timeout)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, payload: Any, **kw: Any) -> Reply:
        return self.request("POST", path, payload, **kw)
