"""A tiny synchronous HTTP client for an ASGI app (httpx.ASGITransport).

Starlette's TestClient does not work in the A1111-like environment (starlette
0.26 with httpx 0.28), so the API tests use this in both environments.
"""
from __future__ import annotations

import asyncio
from typing import Any

import httpx


class Client:
    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


def api_routes(app) -> list:
    """Every ``APIRoute`` of an app, on any FastAPI: before 0.137 ``app.routes`` is flat; since 0.137
    an included router is one entry whose routes hang off ``original_router`` (0.137.2+ lists them
    with ``fastapi.routing.iter_route_contexts``, whose items carry ``original_route``)."""
    from fastapi.routing import APIRoute

    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:
        routes = [r for route in app.routes for r in getattr(getattr(route, "original_router", None), "routes",
                                                             [route])]
    else:
        routes = [getattr(c, "original_route", c) for c in iter_route_contexts(app.routes)]
    return [r for r in routes if isinstance(r, APIRoute)]
