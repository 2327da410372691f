"""FastAPI dependencies as `Annotated` aliases: the runtime, sessions and the caller's namespace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from memsvc.auth import namespace_for
from memsvc.runtime import Runtime


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
    return namespace_for(request.headers, rt.settings.api.api_keys)


NamespaceDep = Annotated[str, Depends(get_namespace)]
