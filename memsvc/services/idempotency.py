"""Idempotent adds: a retried request with the same `Idempotency-Key` gets the first answer.

The answer is stored in the add's own transaction (`ingest.write_plan` calls `remember`
before its commit), so a key is recorded exactly when its memories are: a crash before the
commit leaves neither, and a retry then stores the messages once. Keys are scoped to the API
key's namespace and bound to the request (scope and body): the same key with another request
is a client bug and answers 422, as the IETF Idempotency-Key draft recommends.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.orm import Session

from memsvc.db.models import IdempotencyKey
from memsvc.errors import InvalidInput
from memsvc.schemas import AddResult
from memsvc.services.scope import Scope


class Replayed(Exception):
    """Raised inside the add's transaction when the key was committed meanwhile: the caller
    rolls back and answers with the stored result."""

    def __init__(self, result: AddResult) -> None:
        super().__init__("idempotent replay")
        self.result = result


def digest(scope: Scope, request: BaseModel) -> str:
    """A stable hash of who asked and what they sent."""
    body = request.model_dump(mode="json", exclude_none=True)
    ids = [scope.user_id, scope.agent_id, scope.session_id]
    blob = json.dumps([ids, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def replay(
    session: Session, namespace: str, key: str, request_hash: str, ttl: timedelta
) -> AddResult | None:
    """The stored answer for `key`, or None when the key is new or expired."""
    row = session.get(IdempotencyKey, (namespace, key))
    if row is None or row.created_at < datetime.now(UTC) - ttl:
        return None
    if row.request_hash != request_hash:
        raise InvalidInput(
            "Idempotency-Key was already used with a different request",
            details={"idempotency_key": key},
        )
    return AddResult.model_validate(row.response)


def remember(
    session: Session, namespace: str, key: str, request_hash: str, result: AddResult
) -> None:
    """Record the answer in the caller's transaction (an expired row is replaced)."""
    row = session.get(IdempotencyKey, (namespace, key))
    if row is not None:
        session.delete(row)
        session.flush()
    session.add(
        IdempotencyKey(
            namespace=namespace,
            key=key,
            request_hash=request_hash,
            response=result.model_dump(mode="json"),
            created_at=datetime.now(UTC),
        )
    )


def purge_expired(session: Session, ttl: timedelta) -> int:
    """Delete expired keys; returns how many (run by the decay sweep's schedule)."""
    cutoff = datetime.now(UTC) - ttl
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
