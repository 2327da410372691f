"""Recall: embed the query, fetch candidates from the partition's index, filter, rank.

Filters (scope narrowing, status, valid time `as_of`, transaction time `known_at`, metadata,
kinds) run on candidate rows. When they remove too many, the candidate pool is widened
geometrically until `top_k` survive or the partition is exhausted, so a selective filter
costs more but is never wrong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from memsvc.db.models import Note
from memsvc.errors import InvalidInput
from memsvc.runtime import Runtime
from memsvc.schemas import SearchHit, SearchRequest, SearchResult
from memsvc.services import history
from memsvc.services.scope import Scope


@dataclass
class Candidate:
    note: Note
    similarity: float
    score: float = 0.0
    via: str = "index"


def passes(note: Note, scope: Scope, req: SearchRequest, as_of: datetime) -> bool:
    """True when `note` is visible to this request (everything but the similarity)."""
    if not req.include_forgotten and note.status != "active":
        return False
    if note.valid_from > as_of or (note.valid_to is not None and note.valid_to <= as_of):
        return False
    if req.known_at is not None and note.created_at > req.known_at:
        return False
    for column, value in scope.narrows().items():
        if getattr(note, column) != value:
            return False
    if req.kinds and note.kind not in req.kinds:
        return False
    meta = note.meta or {}
    return all(meta.get(key) == value for key, value in req.filters.items())


def dense_candidates(
    session: Session,
    rt: Runtime,
    scope: Scope,
    req: SearchRequest,
    query: np.ndarray,
    as_of: datetime,
) -> list[Candidate]:
    partition = scope.partition
    total = rt.indexes.count(partition)
    if total == 0:
        return []
    cfg = rt.settings.index
    want = max(req.top_k * cfg.oversample, cfg.min_candidates)
    seen: set[int] = set()
    kept: list[Candidate] = []
    k = min(want, total)
    while True:
        scores, ids = rt.indexes.search(partition, query, k)
        fresh = {
            int(i): float(s)
            for i, s in zip(ids[0], scores[0], strict=True)
            if i >= 0 and int(i) not in seen
        }
        if fresh:
            rows = session.scalars(
                select(Note).options(defer(Note.embedding)).where(Note.pk.in_(list(fresh)))
            ).all()
            for note in rows:
                if passes(note, scope, req, as_of):
                    kept.append(Candidate(note=note, similarity=fresh[note.pk]))
            seen.update(fresh)
        if len(kept) >= want or k >= total:
            return kept
        k = min(k * 4, total)


def search(*, session: Session, rt: Runtime, scope: Scope, req: SearchRequest) -> SearchResult:
    started = time.perf_counter()
    if req.top_k > rt.settings.recall.max_top_k:
        raise InvalidInput(
            f"top_k must be <= {rt.settings.recall.max_top_k}",
            details={"limit": rt.settings.recall.max_top_k},
        )
    as_of = req.as_of or datetime.now(UTC)
    query = rt.embedder.embed_query(req.query)
    candidates = dense_candidates(session, rt, scope, req, query, as_of)
    for c in candidates:
        c.score = c.similarity
    candidates.sort(key=lambda c: (-c.score, c.note.pk))
    hits = [
        SearchHit(
            **history.to_read(c.note).model_dump(),
            score=round(c.score, 6),
            via="index",
            explain={"similarity": round(c.similarity, 6)} if req.explain else None,
        )
        for c in candidates[: req.top_k]
    ]
    took = (time.perf_counter() - started) * 1000
    return SearchResult(results=hits, took_ms=round(took, 3))
