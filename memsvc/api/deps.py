"""FastAPI dependencies as `Annotated` aliases: the runtime, sessions, the caller's namespace,
and the parts of the runtime a route's use case takes (it is handed those, never the
runtime: `memsvc.services` name what they use)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from memsvc.auth import namespace_for
from memsvc.config import Settings
from memsvc.db.engine import Database
from memsvc.deps import IngestDeps, MemoryDeps, RecallDeps
from memsvc.embed import Embedder
from memsvc.runtime import Runtime
from memsvc.stores.indexes import IndexRegistry


async def get_runtime(request: Request) -> Runtime:
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


async def get_namespace(request: Request, rt: RuntimeDep) -> str:
    """The API key's namespace; with no keys configured, everyone shares 'default'."""
    return namespace_for(request.headers, rt.settings.api.api_keys)


NamespaceDep = Annotated[str, Depends(get_namespace)]


async def get_settings(rt: RuntimeDep) -> Settings:
    return rt.settings


async def get_database(rt: RuntimeDep) -> Database:
    return rt.db


async def get_indexes(rt: RuntimeDep) -> IndexRegistry:
    return rt.indexes


async def get_embedder(rt: RuntimeDep) -> Embedder:
    return rt.embedder


async def get_ingest_deps(rt: RuntimeDep) -> IngestDeps:
    return rt.ingest_deps()


async def get_recall_deps(rt: RuntimeDep) -> RecallDeps:
    return rt.recall_deps()


async def get_memory_deps(rt: RuntimeDep) -> MemoryDeps:
    return rt.memory_deps()


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
IndexesDep = Annotated[IndexRegistry, Depends(get_indexes)]
EmbedderDep = Annotated[Embedder, Depends(get_embedder)]
IngestDep = Annotated[IngestDeps, Depends(get_ingest_deps)]
RecallDep = Annotated[RecallDeps, Depends(get_recall_deps)]
MemoryDep = Annotated[MemoryDeps, Depends(get_memory_deps)]
