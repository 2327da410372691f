"""MCP over streamable HTTP at `/mcp`, inside the API app: the same API keys and namespaces.

Stateless mode with JSON responses: every MCP request stands alone, so any replica can answer
it (no session kept in one process's memory), as for the REST routes.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from mcp.server import MCPServer
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from memsvc.config import Settings
from memsvc.mcp.server import build_server

PATH = "/mcp"


class ApiKeyGate:
    """401 before the MCP transport when API keys are configured and none valid is sent
    (`Authorization: Bearer <key>` or `X-API-Key`), in the REST API's error format."""

    def __init__(self, app: ASGIApp, keys: dict[str, str]) -> None:
        self.app = app
        self.keys = [key.encode() for key in keys]

    def _allowed(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        token = token or headers.get("x-api-key", "")
        return bool(token) and any(hmac.compare_digest(token.encode(), k) for k in self.keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {"error": {"code": "unauthorized", "message": "missing or invalid API key"}}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, settings: Settings) -> MCPServer:
    """Route `/mcp` to a new MCP server; enter :func:`running` in the app's lifespan."""
    server = build_server(lambda: app.state.runtime)
    transport = server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        # DNS-rebinding protection (Host/Origin checks) when bound to localhost; a server
        # bound to a public address relies on API keys, like the rest of the API.
        host=settings.host,
    )
    (route,) = [r for r in transport.routes if isinstance(r, Route) and r.path == PATH]
    gate = ApiKeyGate(route.endpoint, settings.api.api_keys)
    app.router.routes.append(Route(PATH, endpoint=gate, include_in_schema=False))
    app.state.mcp = server
    return server


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    """The MCP transport's task group, for the app's lifespan."""
    server: MCPServer | None = getattr(app.state, "mcp", None)
    if server is None:
        yield
        return
    async with server.session_manager.run():
        yield
