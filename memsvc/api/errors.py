"""Every error leaves the API as JSON `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memsvc.embed.sentence import EmbedderError
from memsvc.errors import MemsvcError
from memsvc.schemas.requests import validation_details, validation_message

log = logging.getLogger(__name__)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# Codes of errors raised by the framework itself (routing, body parsing, the size limit).
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}
    return JSONResponse(status_code=status, content=body, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(MemsvcError)
    async def _domain(_: Request, exc: MemsvcError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(EmbedderError)
    async def _embedder(_: Request, exc: EmbedderError) -> JSONResponse:
        # The document model failed to load (it loads after startup when queries can run
        # without it): the server cannot store now, nothing was stored, a retry may work.
        log.error("embedding model unavailable: %s", exc)
        return error_response(503, "embedder_unavailable", str(exc), headers={"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(exc.errors())
        if details and all(d["type"] == "json_invalid" for d in details):
            # Not JSON at all is a malformed request (400), like a body that cannot be read.
            where = {"position": details[0]["loc"][-1]} if details[0]["loc"] else None
            return error_response(400, "bad_request", "the body is not valid JSON", where)
        return error_response(422, "invalid_input", validation_message(details), details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(app, request.scope)
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

    app.add_middleware(URLCheckMiddleware)
    app.add_middleware(CatchAllMiddleware)


def allowed_methods(app: FastAPI, scope: Scope) -> str:
    """`Allow` for a 405: the methods the OpenAPI document gives the path (the most specific
    template that matches), else those of any route that takes it. Starlette alone names only
    the first route matching the path, but GET and POST /v1/memories are two routes."""
    path = scope.get("path", "")
    best: tuple[int, list[str]] | None = None
    for template, item in app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and (best is None or template.count("{") < best[0]):
            best = (template.count("{"), [m.upper() for m in item if m.upper() in _METHODS])
    if best is not None:
        return ", ".join(sorted(best[1]))
    return ", ".join(
        method
        for method in _METHODS
        if any(r.matches({**scope, "method": method})[0] == Match.FULL for r in app.router.routes)
    )


def url_problem(scope: Scope) -> tuple[str, dict[str, Any]] | None:
    """Why a request's path or query string cannot be used, or None. Servers decode invalid
    UTF-8 into U+FFFD without a word, and NUL reaches PostgreSQL as an error: both are
    refused here, before routing, for every route and every parameter alike."""
    raw_path = scope.get("raw_path")
    parts: list[tuple[str, bytes]] = [("path", raw_path if raw_path is not None else b"")]
    for pair in scope.get("query_string", b"").split(b"&"):
        name, _, value = pair.partition(b"=")
        parts += [("query", name), ("query", value)]
    for where, raw in parts:
        try:
            text = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return f"the {where} is not valid UTF-8 once percent-decoded", {"loc": [where]}
        if "\x00" in text:
            return f"the {where} contains a NUL (%00) character", {"loc": [where]}
    if raw_path is None and "\x00" in scope.get("path", ""):
        return "the path contains a NUL (%00) character", {"loc": ["path"]}
    return None


class URLCheckMiddleware:
    """400 for a URL that is not valid UTF-8 or carries NUL (see `url_problem`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = url_problem(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        message, details = problem
        await error_response(400, "bad_request", message, details)(scope, receive, send)


class CatchAllMiddleware:
    """A bug answers 500 JSON and the connection stays usable. (A FastAPI handler for
    `Exception` runs in Starlette's outermost middleware, which re-raises after responding;
    uvicorn then drops the keep-alive connection and the client's next call fails too.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            log.exception("unhandled error")
            if started:  # half a response is out: nothing valid can follow
                raise
            response = error_response(500, "internal_error", "internal server error")
            await response(scope, receive, send)
