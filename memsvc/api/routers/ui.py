"""/ui: the web UI's static files (shipped in the package) and the few settings it draws with."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from memsvc.api.deps import RuntimeDep
from memsvc.ui import STATIC_DIR

router = APIRouter(include_in_schema=False)


@router.get("/ui/config.json")
def ui_config(rt: RuntimeDep) -> dict[str, Any]:
    """What the retention chart needs: MemoryBank's time scale and forgetting threshold."""
    decay = rt.settings.decay
    return {"decay": {"time_scale_days": decay.time_scale_days, "threshold": decay.threshold}}


def install(app: FastAPI) -> None:
    """The config route first: the static mount would otherwise answer for it."""
    app.include_router(router)
    app.mount("/ui", StaticFiles(directory=STATIC_DIR, html=True), name="ui")
