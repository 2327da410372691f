"""Several adds in one call: stored in order exactly as one add after another, embedded together.

Why: an add's embedding call holds only its own units (a session: tens of texts). On a GPU
the forward pass costs about the same for a few hundred texts as for a few dozen, so a backlog
loaded one add at a time leaves most of the GPU idle while each add waits for its own small
call (bench/README.md, "GPU ingest": 16 processes × 32 texts a call embed 2,205 texts/s on an
H100, × 256 texts 9,063). Here the part of an add that depends only on its own text (offline
attributes, sentence parts, the key's and parts' vectors: `ingest.prepare_units`) runs for
many adds at once; the part that reads the store (candidates, TiM decisions, links,
evolution) and the write run per add, in order, so an item sees every item before it exactly
as a later add would (`tests/services/test_ingest_batch.py` checks the stored memories equal
those of the same adds sent one by one).

Bad input changes nothing: every item is checked (limits, a reused idempotency key) before
the first is written. Each item commits on its own, so a server failure part-way leaves the
items before it stored; with an idempotency key the batch's retry replays those and stores
the rest (item i is remembered under a key derived from the batch's key and i).
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy.orm import Session

from memsvc.deps import IngestDeps
from memsvc.errors import InvalidInput
from memsvc.schemas import AddBatchResult, AddResult, MemoryBatchCreate
from memsvc.services import ingest
from memsvc.services.ingest import Pending
from memsvc.services.scope import Scope

# Units prepared (embedded) together at most: bounds the vectors held at once for a large
# batch, and is already past where a larger GPU call stops paying.
PREPARE_UNITS = 2048


def item_key(key: str, index: int) -> str:
    """Item `index`'s idempotency key under the batch's `key` (fits the 255-character key
    column whatever the batch's key is)."""
    return f"batch:{hashlib.sha256(key.encode()).hexdigest()[:40]}:{index}"


def add_many(
    *,
    session: Session,
    deps: IngestDeps,
    namespace: str,
    req: MemoryBatchCreate,
    idempotency_key: str | None = None,
) -> AddBatchResult:
    limit = deps.settings.api.max_batch_items
    if len(req.items) > limit:
        raise InvalidInput(f"too many items: {len(req.items)} > {limit}", details={"limit": limit})
    begun: list[AddResult | Pending] = []
    for i, item in enumerate(req.items):
        scope = Scope(namespace, item.user_id, item.agent_id, item.session_id)
        key = item_key(idempotency_key, i) if idempotency_key else None
        try:
            begun.append(ingest.begin(deps=deps, scope=scope, req=item, idempotency_key=key))
        except InvalidInput as exc:
            raise _at_item(exc, i) from exc
    results: list[AddResult] = []
    for chunk in _chunks(begun):
        pending = [p for p in chunk if isinstance(p, Pending)]
        for infer in (True, False):
            units = [u for p in pending if p.req.infer is infer for u in p.units]
            if units:
                ingest.prepare_units(units, deps=deps, infer=infer)
        for p in chunk:
            # Each item's LLM decision (wait=true) gets the whole `llm.wait_bound_s`, as a
            # single add would: the bound counts from the start of its own decisions.
            done = (
                p
                if isinstance(p, AddResult)
                else ingest.finish(session=session, deps=deps, add=p, started=time.monotonic())
            )
            results.append(done)
    return AddBatchResult(results=results)


def _chunks(begun: list[AddResult | Pending]) -> list[list[AddResult | Pending]]:
    """Consecutive items holding about PREPARE_UNITS units each (an item is never split)."""
    chunks: list[list[AddResult | Pending]] = [[]]
    size = 0
    for p in begun:
        n = len(p.units) if isinstance(p, Pending) else 0
        if chunks[-1] and size + n > PREPARE_UNITS:
            chunks.append([])
            size = 0
        chunks[-1].append(p)
        size += n
    return chunks


def _at_item(exc: InvalidInput, index: int) -> InvalidInput:
    details = exc.details if isinstance(exc.details, dict) else {"details": exc.details}
    return type(exc)(f"items.{index}: {exc.message}", details={**details, "item": index})
