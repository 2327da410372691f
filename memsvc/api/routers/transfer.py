"""/v1/export and /v1/import: a scope or the caller's whole namespace as JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from memsvc.api.deps import (
    DatabaseDep,
    EmbedderDep,
    IndexesDep,
    NamespaceDep,
    SettingsDep,
)
from memsvc.errors import InvalidInput
from memsvc.schemas.common import ID_PATTERN
from memsvc.services import transfer
from memsvc.services.scope import Scope

router = APIRouter(prefix="/v1", tags=["export / import"])

OwnerQuery = Annotated[str | None, Query(min_length=1, max_length=255, pattern=ID_PATTERN)]
NDJSON = "application/x-ndjson"


@router.get(
    "/export",
    summary="Export a scope (or the whole namespace) as JSON Lines",
    response_class=StreamingResponse,
    responses={200: {"content": {NDJSON: {}}, "description": "one JSON record per line"}},
)
def export(
    db: DatabaseDep,
    ns: NamespaceDep,
    user_id: OwnerQuery = None,
    agent_id: OwnerQuery = None,
    session_id: OwnerQuery = None,
    embeddings: bool = Query(True, description="include vectors (else re-embedded on import)"),
) -> StreamingResponse:
    scope = Scope(ns, user_id, agent_id, session_id) if user_id or agent_id or session_id else None

    def lines() -> Iterator[str]:
        with db.read() as session:
            for record in transfer.export_records(
                session=session, namespace=ns, scope=scope, embeddings=embeddings
            ):
                yield json.dumps(record, ensure_ascii=False) + "\n"

    name = "memsvc-" + (scope.partition if scope else ns).replace("/", "-") + ".jsonl"
    # RFC 6266/5987: an ASCII fallback plus the UTF-8 name, so any owner id is a valid header.
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    return StreamingResponse(
        lines(), media_type=NDJSON, headers={"content-disposition": disposition}
    )


@router.post(
    "/import",
    response_model=transfer.ImportResult,
    summary="Import JSON Lines from /v1/export (or a mem0 export) into your namespace",
    openapi_extra={
        "requestBody": {"required": True, "content": {NDJSON: {"schema": {"type": "string"}}}}
    },
)
async def import_(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    indexes: IndexesDep,
    embedder: EmbedderDep,
    ns: NamespaceDep,
    reembed: bool = Query(False, description="embed again even when the file has vectors"),
    user_id: OwnerQuery = None,
) -> transfer.ImportResult:
    """Idempotent: rows already present are skipped. Bodies are limited like any request
    (`MEMSVC_API__MAX_BODY_BYTES`); send a large export in several requests, or use
    `memsvc import`. `user_id` owns mem0 items that name no owner."""
    raw = await request.body()
    if not raw.strip():
        raise InvalidInput("the import body is empty: send JSON Lines from /v1/export")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the import body is not UTF-8 (byte {exc.start})") from None
    records = list(transfer.parse_lines(body.splitlines()))

    def run() -> transfer.ImportResult:
        with db.session() as session:
            return transfer.import_records(
                session=session,
                ingest=settings.ingest,
                indexes=indexes,
                embedder=embedder,
                namespace=ns,
                records=records,
                reembed=reembed,
                user_id=user_id,
            )

    return await run_in_threadpool(run)
