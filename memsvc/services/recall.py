"""Recall: gather candidates (dense index, lexical index, the query's time range, links),
filter them, rank them (`ranking`), reinforce what is returned.

Filters (scope narrowing, status, valid time `as_of`, transaction time `known_at`, metadata,
kinds) run on candidate rows. When they remove too many dense candidates, the pool widens
geometrically until `top_k` survive or the partition is exhausted, so a selective filter
costs more but is never wrong.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from memsvc.db.models import Note
from memsvc.errors import InvalidInput
from memsvc.runtime import Runtime
from memsvc.schemas import SearchHit, SearchRequest, SearchResult
from memsvc.services import episodes, feedback, freshness, history
from memsvc.services.candidates import NoteRow, by_pk, fetch
from memsvc.services.lexical import lexical_candidates, spoken_by
from memsvc.services.ranking import Candidate, diversify, finish, fuse
from memsvc.services.scope import Scope
from memsvc.stores import clock
from memsvc.text.names import named_people
from memsvc.text.timeexpr import TimeRange, parse_time_range, wants_latest

# People mention events a few days after they happen: a range from the query is widened
# by this much after its end when matched against event times.
TIME_SLACK_AFTER = timedelta(days=7)
TIME_SLACK_BEFORE = timedelta(days=1)
MAX_TIME_CANDIDATES = 200


def _full_rows(session: Session, pks: list[int]) -> dict[int, Note]:
    """The returned hits, loaded whole (candidates are plain rows: `candidates.NoteRow`)."""
    stmt = select(Note).where(Note.pk.in_(pks))
    return {n.pk: n for n in session.scalars(stmt)}


def passes(note: NoteRow, scope: Scope, req: SearchRequest, as_of: datetime) -> bool:
    """True when `note` is visible to this request (everything but the similarity)."""
    if note.partition != scope.partition:
        return False  # belt and braces: `by_pk` already filters on the partition
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
            # With feedback on, the rows bring their vectors: it reads them for every candidate.
            vector = rt.settings.recall.feedback_weight > 0
            kept += [
                Candidate(note=n, similarity=fresh[n.pk])
                for n in by_pk(session, fresh, partition=partition, vector=vector)
                if passes(n, scope, req, as_of)
            ]
            seen.update(fresh)
        if len(kept) >= want or k >= total:
            return kept
        k = min(k * 4, total)


def _similar(n: NoteRow, query: np.ndarray) -> float | None:
    """The key's similarity to the query, from the row's stored embedding."""
    if n.embedding is None:
        return None
    vec = np.frombuffer(n.embedding, dtype=np.float32)
    return float(vec @ query) if vec.shape == query.shape else None


def _with_similarity(
    rows: Iterable[NoteRow],
    query: np.ndarray,
    scope: Scope,
    req: SearchRequest,
    as_of: datetime,
    via: dict[int, str] | str,
) -> list[Candidate]:
    out = []
    for n in rows:
        sim = _similar(n, query)
        if sim is not None and passes(n, scope, req, as_of):
            label = via if isinstance(via, str) else via[n.pk]
            out.append(Candidate(note=n, similarity=sim, via=label))
    return out


def add_parts_and_lexical(
    session: Session,
    rt: Runtime,
    scope: Scope,
    req: SearchRequest,
    query: np.ndarray,
    as_of: datetime,
    pool: dict[int, Candidate],
) -> None:
    """Notes whose best sentence-level part is close to the query (see memsvc.text.parts),
    and full-text matches; those the key index did not find join the pool in one fetch,
    scored by their key."""
    cfg = rt.settings
    best: dict[int, tuple[float, int]] = {}
    if cfg.recall.part_weight > 0:
        k = max(req.top_k * cfg.index.oversample, cfg.index.min_candidates) * 2
        scores, pks, nums = rt.indexes.search_parts(scope.partition, query, k)
        for s, pk, j in zip(scores.tolist(), pks.tolist(), nums.tolist(), strict=True):
            best.setdefault(int(pk), (float(s), int(j)))  # best first: the first is the best
    hits: list[tuple[int, float]] = []
    if cfg.recall.lexical:
        hits = lexical_candidates(
            session, scope.partition, req.query, cfg.recall.lexical_candidates
        )
    via = dict.fromkeys(best, "part")
    for pk, _ in hits:
        via.setdefault(pk, "lexical")
    missing = [pk for pk in via if pk not in pool]
    rows = by_pk(session, missing, partition=scope.partition, vector=True)
    for c in _with_similarity(rows, query, scope, req, as_of, via):
        pool[c.note.pk] = c
    for pk, (s, j) in best.items():
        if pk in pool:
            pool[pk].part, pool[pk].part_index = s, j
    for pk, s in hits:
        if pk in pool:
            pool[pk].lexical = s


def add_time_range(
    session: Session,
    scope: Scope,
    req: SearchRequest,
    query: np.ndarray,
    as_of: datetime,
    pool: dict[int, Candidate],
    span: TimeRange,
) -> None:
    start, end = span.start - TIME_SLACK_BEFORE, span.end + TIME_SLACK_AFTER
    rows = fetch(
        session,
        Note.partition == scope.partition,
        Note.event_time >= start,
        Note.event_time < end,
        vector=True,
        order_by=Note.event_time.desc(),
        limit=MAX_TIME_CANDIDATES,
    )
    for c in _with_similarity(
        (n for n in rows if n.pk not in pool), query, scope, req, as_of, "time"
    ):
        pool[c.note.pk] = c
    for c in pool.values():
        c.in_time_range = start <= c.note.event_time < end


def expand_links(
    session: Session,
    rt: Runtime,
    scope: Scope,
    req: SearchRequest,
    seeds: list[Candidate],
    as_of: datetime,
    pool: dict[int, Candidate],
) -> None:
    """A-MEM recall: notes linked to the best hits join with a damped score."""
    cfg = rt.settings.recall
    if cfg.graph_hops <= 0 or not seeds:
        return
    graph = rt.graphs.get(scope.partition, session)
    reached = graph.expand(
        {c.note.pk: c.parts["relevance"] for c in seeds}, cfg.graph_hops, cfg.graph_damping
    )
    reached = {pk: v for pk, v in reached.items() if pk not in pool}
    if not reached:
        return
    for n in by_pk(session, reached, partition=scope.partition):
        if passes(n, scope, req, as_of):
            pool[n.pk] = Candidate(note=n, similarity=0.0, via="link", graph=reached[n.pk][0])


def boost_speakers(
    session: Session, scope: Scope, query: str, pool: list[Candidate], boost: float
) -> None:
    """Name matching: a note said by someone the query names is worth more than one that
    only mentions them ("Thanks, Caroline!" said by Melanie)."""
    names = named_people(query)
    if not names:
        return
    said = spoken_by(session, scope.partition, [c.note.pk for c in pool], names)
    for c in pool:
        if c.note.pk in said:
            c.parts["speaker"] = boost
            c.score *= 1 + boost
            c.parts["score"] = c.score


def search(*, session: Session, rt: Runtime, scope: Scope, req: SearchRequest) -> SearchResult:
    started = time.perf_counter()
    cfg = rt.settings.recall
    if req.top_k > cfg.max_top_k:
        raise InvalidInput(f"top_k must be <= {cfg.max_top_k}", details={"limit": cfg.max_top_k})
    # One time base (memsvc.stores.clock): without `as_of`, the partition's own clock.
    as_of = req.as_of or clock.now(session, scope.partition)
    query = rt.embedder.embed_query(req.query)
    pool = {c.note.pk: c for c in dense_candidates(session, rt, scope, req, query, as_of)}
    add_parts_and_lexical(session, rt, scope, req, query, as_of, pool)
    span = parse_time_range(req.query, as_of) if cfg.time_aware else None
    if span is not None:
        add_time_range(session, scope, req, query, as_of, pool, span)
    candidates = list(pool.values())
    fuse(rt.settings, candidates)
    fb_seeds, fb_weight = cfg.feedback_seeds, cfg.feedback_weight
    feedback.apply(session, scope.partition, query, candidates, seeds=fb_seeds, weight=fb_weight)
    seeds = sorted(candidates, key=lambda c: -c.parts["relevance"])[: req.top_k]
    expand_links(session, rt, scope, req, seeds, as_of, pool)
    candidates = list(pool.values())
    fuse(rt.settings, candidates)
    feedback.apply(session, scope.partition, query, candidates, seeds=fb_seeds, weight=fb_weight)
    finish(rt.settings, candidates, as_of, latest=cfg.time_aware and wants_latest(req.query))
    if cfg.speaker_boost > 0:
        boost_speakers(session, scope, req.query, candidates, cfg.speaker_boost)
    if req.thoughts_first:
        candidates.sort(key=lambda c: (c.note.kind != "thought", -c.score, c.note.pk))
    else:
        candidates.sort(key=lambda c: (-c.score, c.note.pk))
    top = diversify(candidates, req.top_k, 0.0 if req.thoughts_first else cfg.session_diversity)
    if req.reinforce and cfg.reinforce and top:
        rt.reinforcer.record([c.note.pk for c in top], as_of)
    full = _full_rows(session, [c.note.pk for c in top])
    top = freshness.newer_first(top, full)  # a newer value of the same subject first
    inline = (
        episodes.by_ids(
            session, scope.partition, (e for c in top for e in full[c.note.pk].episode_ids or [])
        )
        if req.include_episodes
        else None
    )
    hits = [
        SearchHit(
            **history.to_read(full[c.note.pk]).model_dump(),
            score=round(c.score, 6),
            via=c.via,
            explain={k: round(float(v), 6) for k, v in c.parts.items()} if req.explain else None,
            episodes=(
                [inline[e] for e in full[c.note.pk].episode_ids or [] if e in inline]
                if inline is not None
                else None
            ),
        )
        for c in top
    ]
    return SearchResult(results=hits, took_ms=round((time.perf_counter() - started) * 1000, 3))
