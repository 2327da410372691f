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
from memsvc.decay import retention
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


def expand_links(
    session: Session,
    rt: Runtime,
    scope: Scope,
    req: SearchRequest,
    seeds: list[Candidate],
    as_of: datetime,
) -> list[Candidate]:
    """A-MEM recall: notes linked to the best hits join with a damped score."""
    cfg = rt.settings.recall
    if cfg.graph_hops <= 0 or not seeds:
        return []
    graph = rt.graphs.get(scope.partition)
    known = {c.note.pk for c in seeds}
    reached = graph.expand(
        {c.note.pk: c.similarity for c in seeds}, cfg.graph_hops, cfg.graph_damping
    )
    reached = {pk: v for pk, v in reached.items() if pk not in known}
    if not reached:
        return []
    rows = session.scalars(
        select(Note).options(defer(Note.embedding)).where(Note.pk.in_(list(reached)))
    )
    return [
        Candidate(note=n, similarity=reached[n.pk][0], via="link")
        for n in rows
        if passes(n, scope, req, as_of)
    ]


def score(rt: Runtime, c: Candidate, as_of: datetime) -> dict[str, float]:
    """The ranking score and its parts: relevance blended with MemoryBank retention."""
    cfg = rt.settings.decay
    parts = {"similarity" if c.via != "link" else "graph": c.similarity}
    relevance = c.similarity
    if cfg.enabled and cfg.weight > 0:
        r = retention(c.note.strength, c.note.last_recalled_at, as_of, cfg.time_scale_days)
        parts["retention"] = r
        relevance = (1 - cfg.weight) * relevance + cfg.weight * r
    parts["score"] = relevance
    return parts


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
    candidates.sort(key=lambda c: (-c.similarity, c.note.pk))
    candidates += expand_links(session, rt, scope, req, candidates[: req.top_k], as_of)
    explained: dict[int, dict[str, float]] = {}
    for c in candidates:
        explained[c.note.pk] = score(rt, c, as_of)
        c.score = explained[c.note.pk]["score"]
    if req.thoughts_first:
        candidates.sort(key=lambda c: (c.note.kind != "thought", -c.score, c.note.pk))
    else:
        candidates.sort(key=lambda c: (-c.score, c.note.pk))
    top = candidates[: req.top_k]
    if req.reinforce and rt.settings.recall.reinforce and top:
        rt.reinforcer.record([c.note.pk for c in top], as_of)
    hits = [
        SearchHit(
            **history.to_read(c.note).model_dump(),
            score=round(c.score, 6),
            via=c.via,
            explain={k: round(v, 6) for k, v in explained[c.note.pk].items()}
            if req.explain
            else None,
        )
        for c in top
    ]
    took = (time.perf_counter() - started) * 1000
    return SearchResult(results=hits, took_ms=round(took, 3))
