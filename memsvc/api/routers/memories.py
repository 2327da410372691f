"""/v1/memories: add, search, list, get, update, delete, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from memsvc.api.deps import (
    IndexesDep,
    IngestDep,
    MemoryDep,
    NamespaceDep,
    ReadSessionDep,
    RecallDep,
    SessionDep,
    SettingsDep,
)
from memsvc.schemas import (
    AddBatchResult,
    AddResult,
    DeleteResult,
    HistoryEntry,
    LinkRead,
    MemoryBatchCreate,
    MemoryCreate,
    MemoryPage,
    MemoryRead,
    MemoryUpdate,
    SearchRequest,
    SearchResult,
)
from memsvc.schemas.common import ID_PATTERN
from memsvc.services import ingest, ingest_batch, memories, recall
from memsvc.services.scope import Scope

router = APIRouter(prefix="/v1/memories", tags=["memories"])

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retries with the same key and body get the first answer back; the "
        "messages are stored once. Keys are kept for `api.idempotency_ttl_s` (24 h).",
    ),
]
ScopeQuery = Annotated[str | None, Query(min_length=1, max_length=255, pattern=ID_PATTERN)]


async def owner_scope(
    ns: NamespaceDep,
    user_id: ScopeQuery = None,
    agent_id: ScopeQuery = None,
    session_id: ScopeQuery = None,
) -> Scope:
    """The caller's scope from the query string: the owner (user_id, else agent_id, else
    session_id) and the ids that narrow it. Id routes need it too, so another owner's id in
    the same namespace is a 404 like any unknown id."""
    return Scope(ns, user_id, agent_id, session_id)


OwnerDep = Annotated[Scope, Depends(owner_scope)]


@router.post("", response_model=AddResult, summary="Add memories from messages or text")
def add_memories(
    body: MemoryCreate,
    session: SessionDep,
    deps: IngestDep,
    ns: NamespaceDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AddResult:
    scope = Scope(ns, body.user_id, body.agent_id, body.session_id)
    return ingest.add(
        session=session, deps=deps, scope=scope, req=body, idempotency_key=idempotency_key
    )


@router.post(
    "/batch", response_model=AddBatchResult, summary="Several adds in one call (a backlog)"
)
def add_memories_batch(
    body: MemoryBatchCreate,
    session: SessionDep,
    deps: IngestDep,
    ns: NamespaceDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AddBatchResult:
    return ingest_batch.add_many(
        session=session, deps=deps, namespace=ns, req=body, idempotency_key=idempotency_key
    )


@router.post("/search", response_model=SearchResult, summary="Recall memories for a query")
def search_memories(
    body: SearchRequest, session: ReadSessionDep, deps: RecallDep, ns: NamespaceDep
) -> SearchResult:
    scope = Scope(ns, body.user_id, body.agent_id, body.session_id)
    return recall.search(session=session, deps=deps, scope=scope, req=body)


@router.get("", response_model=MemoryPage, summary="List memories in a scope (cursor pages)")
def list_memories(
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: OwnerDep,
    limit: Annotated[int | None, Query(ge=1, le=500, description="Page size (default 50).")] = None,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
    include_forgotten: bool = False,
) -> MemoryPage:
    size = memories.page_size(settings.api, limit)
    return memories.list_page(
        session=session, scope=scope, limit=size, cursor=cursor, include_forgotten=include_forgotten
    )


@router.delete("", response_model=DeleteResult, summary="Delete every memory in a scope")
def delete_memories(session: SessionDep, indexes: IndexesDep, scope: OwnerDep) -> DeleteResult:
    return memories.delete_scope(session=session, indexes=indexes, scope=scope)


@router.get("/{memory_id}", response_model=MemoryRead, summary="Get one memory of a scope")
def get_memory(memory_id: str, session: ReadSessionDep, scope: OwnerDep) -> MemoryRead:
    return memories.get(session=session, scope=scope, memory_id=memory_id)


@router.patch("/{memory_id}", response_model=MemoryRead, summary="Update text, metadata or status")
def update_memory(
    memory_id: str, body: MemoryUpdate, session: SessionDep, deps: MemoryDep, scope: OwnerDep
) -> MemoryRead:
    return memories.update(session=session, deps=deps, scope=scope, memory_id=memory_id, req=body)


@router.delete("/{memory_id}", response_model=DeleteResult, summary="Delete one memory")
def delete_memory(
    memory_id: str, session: SessionDep, deps: MemoryDep, scope: OwnerDep
) -> DeleteResult:
    return memories.delete_one(session=session, deps=deps, scope=scope, memory_id=memory_id)


@router.get(
    "/{memory_id}/history", response_model=list[HistoryEntry], summary="Every change of a memory"
)
def memory_history(memory_id: str, session: ReadSessionDep, scope: OwnerDep) -> list[HistoryEntry]:
    return memories.history_of(session=session, scope=scope, memory_id=memory_id)


@router.get("/{memory_id}/links", response_model=list[LinkRead], summary="A memory's links")
def memory_links(memory_id: str, session: ReadSessionDep, scope: OwnerDep) -> list[LinkRead]:
    return memories.links_of(session=session, scope=scope, memory_id=memory_id)
