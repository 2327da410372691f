"""Liveness and readiness probes, and Prometheus metrics.

The probes never wait behind work: they are `async` (no worker thread needed, so a thread
pool full of slow requests cannot delay them), admission control exempts them, and
readiness reads the database on a thread of its own with a deadline instead of on the pool,
and never takes the write lock.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from memsvc.api import metrics
from memsvc.api.deps import RuntimeDep
from memsvc.db.queries import health as db_health
from memsvc.runtime import Runtime

router = APIRouter(tags=["health"])

# Longest a readiness probe waits for the database before it answers 503.
DB_CHECK_TIMEOUT_S = 2.0


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


class _DatabaseCheck:
    """`SELECT 1` on a read session, on a daemon thread per check. Concurrent probes share
    the check in flight, so a slow database never piles up probe threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Future[None] | None = None

    def start(self, rt: Runtime) -> Future[None]:
        with self._lock:
            if self._running is not None and not self._running.done():
                return self._running
            future: Future[None] = Future()
            self._running = future

        def run() -> None:
            try:
                with rt.db.read() as session:
                    db_health.ping(session=session)
                future.set_result(None)
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=run, name="memsvc-readyz", daemon=True).start()
        return future


@router.get("/readyz", summary="The database answers and the embedder is loaded")
async def readyz(request: Request) -> JSONResponse:
    # Not `RuntimeDep`: FastAPI runs a sync dependency on the thread pool, which is what a
    # probe must not wait for.
    rt: Runtime = request.app.state.runtime
    checks: dict[str, Any] = {"embedder": rt.embedder.model_name, "dim": rt.embedder.dim}
    state = request.app.state
    if not hasattr(state, "db_check"):
        state.db_check = _DatabaseCheck()
    try:
        check = asyncio.wrap_future(state.db_check.start(rt))
        await asyncio.wait_for(asyncio.shield(check), DB_CHECK_TIMEOUT_S)
        checks["database"] = "ok"
        ready = True
    except TimeoutError:
        checks["database"] = f"error: no answer within {DB_CHECK_TIMEOUT_S:g} s"
        ready = False
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
        ready = False
    # The document model may load after startup (embed.document_load): while it loads, adds
    # wait for it and the server is ready; if its load failed, adds cannot work: not ready.
    documents = str(getattr(rt.embedder, "documents_state", "loaded"))
    checks["documents"] = documents
    checks["queries"] = str(getattr(rt.embedder, "query_engine", "unknown"))
    if documents.startswith("error"):
        ready = False
    return JSONResponse(
        status_code=200 if ready else 503,
        content={"status": "ok" if ready else "unavailable", **checks},
    )


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics: requests, latency, LLM usage, indexes, job queue, GC pauses",
)
def prometheus(request: Request, rt: RuntimeDep) -> PlainTextResponse:
    body = metrics.render(request.app.state.metrics, rt, request.app.state.gc)
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")
