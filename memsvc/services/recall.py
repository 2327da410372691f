"""Recall: a pipeline of small stages over one `Query` (memsvc.services.query), built once
per search. Candidates are gathered (`gather`: dense index, parts and full text, the
query's time range, links, the messages next to the best single-message hits:
`neighbours`), scored (`ranking`: fusion, feedback, neighbours, time, recency, decay, the
speaker boost), ordered, reranked when a reranker is configured (`rerank`) and
diversified; the top hits are reinforced, a newer value of the same subject moves first
(`freshness`) and the hits are loaded whole."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from memsvc.db.models import Note
from memsvc.deps import RecallDeps
from memsvc.errors import InvalidInput
from memsvc.schemas import SearchHit, SearchRequest, SearchResult
from memsvc.services import episodes, feedback, freshness, gather, history, neighbours
from memsvc.services.gather import Pool
from memsvc.services.lexical import spoken_by
from memsvc.services.query import Query, build, lexical_terms
from memsvc.services.ranking import Candidate, diversify, finish, fuse
from memsvc.services.rerank import rerank
from memsvc.services.scope import Scope
from memsvc.stores.reinforce import Reinforcer


def search(*, session: Session, deps: RecallDeps, scope: Scope, req: SearchRequest) -> SearchResult:
    started = time.perf_counter()  # `took_ms` counts the query embedding too
    limit = deps.settings.recall.max_top_k
    if req.top_k > limit:
        raise InvalidInput(f"top_k must be <= {limit}", details={"limit": limit})
    # The full-text stage needs only the query's words: it runs while the query is embedded.
    terms = lexical_terms(deps.settings, req.query)
    # The partition's size, from its key index (one vector a note), is a statistic of the
    # full-text ranking that SQLite would otherwise count (bench/README.md, "2026-12-07").
    lexical = deps.fulltext.start(
        scope.partition,
        terms,
        deps.settings.recall.lexical_candidates,
        notes=deps.indexes.count(scope.partition),
    )
    q = build(
        session=session,
        settings=deps.settings,
        embedder=deps.embedder,
        scope=scope,
        req=req,
        terms=terms,
    )
    pool = gather.dense(session, deps.indexes, q)
    gather.parts_and_lexical(session, deps.indexes, q, pool, lexical)
    gather.time_range(session, q, pool)
    # Links start from the best hits by relevance, so the pool is scored once before them
    # and again after (fusion's ranks and the feedback centroid depend on the whole pool).
    best = seeds(q, relevance(session, q, pool))
    gather.links(session, q, best, pool)
    near = neighbours.gather(session, q, best, pool)
    candidates = relevance(session, q, pool)
    neighbours.smooth(q, candidates, near)
    finish(q.settings, candidates, q.as_of, latest=q.latest)
    boost_speakers(session, q, candidates)
    top = diversified(q, rerank(session, deps.reranker, q, ordered(q, candidates)))
    reinforce(deps.reinforcer, q, top)
    full = _full_rows(session, [c.note.pk for c in top])
    top = freshness.newer_first(top, full)  # a newer value of the same subject first
    return SearchResult(
        results=to_hits(session, q, top, full),
        took_ms=round((time.perf_counter() - started) * 1000, 3),
    )


def relevance(session: Session, q: Query, pool: Pool) -> list[Candidate]:
    """The pool as a list, each candidate's `parts["relevance"]` set: fusion of dense and
    lexical evidence, then pseudo-relevance feedback (off at `feedback_weight` 0)."""
    candidates = list(pool.values())
    cfg = q.settings.recall
    fuse(q.settings, candidates)
    feedback.apply(
        session,
        q.partition,
        q.vector,
        candidates,
        seeds=cfg.feedback_seeds,
        weight=cfg.feedback_weight,
    )
    return candidates


def seeds(q: Query, candidates: list[Candidate]) -> list[Candidate]:
    """The `top_k` most relevant candidates: where link expansion starts."""
    return sorted(candidates, key=lambda c: -c.parts["relevance"])[: q.top_k]


def boost_speakers(session: Session, q: Query, candidates: list[Candidate]) -> None:
    """Name matching: a note said by someone the query names is worth more than one that
    only mentions them ("Thanks, Caroline!" said by Melanie)."""
    boost = q.settings.recall.speaker_boost
    if boost <= 0 or not q.names:
        return
    said = spoken_by(session, q.partition, [c.note.pk for c in candidates], list(q.names))
    for c in candidates:
        if c.note.pk in said:
            c.parts["speaker"] = boost
            c.score *= 1 + boost
            c.parts["score"] = c.score


def ordered(q: Query, candidates: list[Candidate]) -> list[Candidate]:
    """Best first, ties by pk (a stable order across runs); thoughts first on request."""
    if q.thoughts_first:
        return sorted(candidates, key=lambda c: (c.note.kind != "thought", -c.score, c.note.pk))
    return sorted(candidates, key=lambda c: (-c.score, c.note.pk))


def diversified(q: Query, candidates: list[Candidate]) -> list[Candidate]:
    """The top_k, spread over sessions (not when thoughts go first: their order is asked)."""
    penalty = 0.0 if q.thoughts_first else q.settings.recall.session_diversity
    return diversify(candidates, q.top_k, penalty)


def reinforce(reinforcer: Reinforcer, q: Query, top: list[Candidate]) -> None:
    """Recall strengthens what it returns, at the query's time base."""
    if q.reinforce and q.settings.recall.reinforce and top:
        reinforcer.record([c.note.pk for c in top], q.as_of)


def _full_rows(session: Session, pks: list[int]) -> dict[int, Note]:
    """The returned hits, loaded whole (candidates are plain rows: `candidates.NoteRow`)."""
    stmt = select(Note).where(Note.pk.in_(pks))
    return {n.pk: n for n in session.scalars(stmt)}


def to_hits(
    session: Session, q: Query, top: list[Candidate], full: dict[int, Note]
) -> list[SearchHit]:
    """The API's hits: each note whole, its score, provenance, and on request its score
    parts and its episodes inline (loaded in one query for all hits)."""
    inline = (
        episodes.by_ids(
            session, q.partition, (e for c in top for e in full[c.note.pk].episode_ids or [])
        )
        if q.include_episodes
        else None
    )
    return [
        SearchHit(
            **history.to_read(full[c.note.pk]).model_dump(),
            score=round(c.score, 6),
            via=c.via,
            explain={k: round(float(v), 6) for k, v in c.parts.items()} if q.explain else None,
            episodes=(
                [inline[e] for e in full[c.note.pk].episode_ids or [] if e in inline]
                if inline is not None
                else None
            ),
        )
        for c in top
    ]
