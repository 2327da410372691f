"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

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
