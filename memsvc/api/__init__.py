"""HTTP API (FastAPI): thin routers that parse, call one service, and map errors."""

from memsvc.api.app import create_app

__all__ = ["create_app"]
