"""/v1/thoughts: the agent's own conclusions (Think-in-Memory)."""

from __future__ import annotations

from fastapi import APIRouter

from memsvc.api.deps import IngestDep, NamespaceDep, SessionDep
from memsvc.schemas import AddResult, ThoughtCreate
from memsvc.schemas.thought import ReflectRequest
from memsvc.services import ingest, thoughts
from memsvc.services.scope import Scope

router = APIRouter(prefix="/v1/thoughts", tags=["thoughts"])


@router.post("", response_model=AddResult, summary="Store a thought linked to its sources")
def add_thought(
    body: ThoughtCreate, session: SessionDep, deps: IngestDep, ns: NamespaceDep
) -> AddResult:
    scope = Scope(ns, body.user_id, body.agent_id, body.session_id)
    return ingest.add_thought(session=session, deps=deps, scope=scope, req=body)


@router.post(
    "/reflect",
    response_model=AddResult,
    summary="Keep what an answer concluded (TiM post-thinking), linked to its sources",
)
def reflect(
    body: ReflectRequest, session: SessionDep, deps: IngestDep, ns: NamespaceDep
) -> AddResult:
    scope = Scope(ns, body.user_id, body.agent_id, body.session_id)
    return thoughts.reflect(session=session, deps=deps, scope=scope, req=body)
