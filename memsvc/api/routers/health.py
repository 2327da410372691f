"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from memsvc.api import metrics
from memsvc.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and the embedder is loaded")
def readyz(rt: RuntimeDep) -> JSONResponse:
    checks: dict[str, Any] = {"embedder": rt.embedder.model_name, "dim": rt.embedder.dim}
    try:
        with rt.db.read() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        ready = True
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
        ready = False
    return JSONResponse(
        status_code=200 if ready else 503,
        content={"status": "ok" if ready else "unavailable", **checks},
    )


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics: requests, latency, LLM usage, indexes, job queue",
)
def prometheus(request: Request, rt: RuntimeDep) -> PlainTextResponse:
    body = metrics.render(request.app.state.metrics, rt)
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")
