"""`create_app(settings)`: the FastAPI application, its lifespan and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

import memsvc
from memsvc import background
from memsvc.api import docs, errors, openapi
from memsvc.api.heap import GcPauses, HeapFreezer
from memsvc.api.limits import BodyLimitMiddleware
from memsvc.api.metrics import MetricsMiddleware, RequestMetrics
from memsvc.api.overload import AdmissionMiddleware
from memsvc.api.routers import episodes, health, memories, thoughts, transfer, ui, users
from memsvc.config import Settings, get_settings
from memsvc.embed import Embedder
from memsvc.mcp import http as mcp_http
from memsvc.runtime import Runtime

DESCRIPTION = """\
Long-term memory for AI agents. **Ingest** what happened (conversation turns with timestamps,
facts, the agent's thoughts) and **recall** what matters for the next step.

Every memory belongs to a scope: `user_id`, else `agent_id`, else `session_id` owns it, within
your API key's namespace; scopes never see each other's memories. Errors are JSON:
`{"error": {"code": ..., "message": ..., "details": ...}}`.
"""


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the app. `embedder` lets tests share one loaded model across apps."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Loading the model and migrating take seconds: keep them off the event loop.
        runtime = await run_in_threadpool(Runtime, settings, embedder=embedder)
        background.start(runtime)
        app.state.runtime = runtime
        app.state.gc.install()
        freezer = HeapFreezer(runtime.embedder) if settings.api.gc_freeze else None
        if freezer is not None:
            freezer.start()
        try:
            async with mcp_http.running(app):
                yield
        finally:
            if freezer is not None:
                freezer.close()
            app.state.gc.uninstall()
            await run_in_threadpool(runtime.close)

    app = FastAPI(
        title="memsvc",
        version=memsvc.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by memsvc.api.docs, without a CDN
        redoc_url=None,
    )
    app.state.metrics = RequestMetrics()
    app.state.gc = GcPauses()
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.api.max_body_bytes)
    # Outside the body limit: an overloaded server answers 429 before reading anything.
    app.add_middleware(AdmissionMiddleware, settings=settings.admission, llm=settings.llm.enabled)
    errors.install(app)
    openapi.install(app, settings)
    # Outermost, so rejected bodies and 500s are counted too.
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.include_router(memories.router)
    app.include_router(episodes.router)
    app.include_router(thoughts.router)
    app.include_router(users.router)
    app.include_router(transfer.router)
    mcp_http.install(app, settings)
    app.include_router(health.router)
    docs.install(app)
    ui.install(app)
    return app
