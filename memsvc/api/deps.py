"""FastAPI dependencies as `Annotated` aliases: the runtime, sessions and the caller's namespace."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from memsvc.errors import Unauthorized
from memsvc.runtime import Runtime

DEFAULT_NAMESPACE = "default"


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(rt: RuntimeDep) -> Iterator[Session]:
    """A write-capable session (SQLite: BEGIN IMMEDIATE); services commit explicitly."""
    with rt.db.session() as session:
        yield session


def get_read_session(rt: RuntimeDep) -> Iterator[Session]:
    with rt.db.read() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]


def get_namespace(request: Request, rt: RuntimeDep) -> str:
    """The API key's namespace; with no keys configured, everyone shares 'default'."""
    keys = rt.settings.api.api_keys
    if not keys:
        return DEFAULT_NAMESPACE
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    token = token or request.headers.get("x-api-key", "")
    for key, namespace in keys.items():
        if token and hmac.compare_digest(token.encode(), key.encode()):
            return namespace
    raise Unauthorized("missing or invalid API key (send 'Authorization: Bearer <key>')")


NamespaceDep = Annotated[str, Depends(get_namespace)]
