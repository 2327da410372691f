"""Recall's candidate stages: each adds to the pool (note pk -> `Candidate`) the notes one
source finds for a `Query` — the dense key index, sentence-level parts and full text, the
time range the query names, links from the best hits — and keeps only those the query may
see (`Query.passes`).

Filters run on candidate rows. When they remove too many dense candidates, the pool widens
geometrically until `top_k` survive or the partition is exhausted, so a selective filter
costs more but is never wrong."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import numpy as np
from sqlalchemy.orm import Session

from memsvc.db.queries import notes
from memsvc.db.queries.notes import NoteRow
from memsvc.index.threads import faiss_single_thread
from memsvc.services.query import Query
from memsvc.services.ranking import Candidate
from memsvc.stores import graphs
from memsvc.stores.fulltext import PendingHits
from memsvc.stores.indexes import IndexRegistry

Pool = dict[int, Candidate]


# People mention events a few days after they happen: a range from the query is widened
# by this much after its end when matched against event times.
TIME_SLACK_AFTER = timedelta(days=7)
TIME_SLACK_BEFORE = timedelta(days=1)
MAX_TIME_CANDIDATES = 200


def dense(session: Session, indexes: IndexRegistry, q: Query) -> Pool:
    """The pool's first candidates: the key index's nearest notes that pass the filters."""
    total = indexes.count(q.partition)
    if total == 0:
        return {}
    cfg = q.settings.index
    want = max(q.top_k * cfg.oversample, cfg.min_candidates)
    # With feedback on, the rows bring their vectors: it reads them for every candidate.
    vector = q.settings.recall.feedback_weight > 0
    seen: set[int] = set()
    kept: list[Candidate] = []
    k = min(want, total)
    while True:
        with faiss_single_thread():
            scores, ids = indexes.search(q.partition, q.vector, k)
        fresh = {
            int(i): float(s)
            for i, s in zip(ids[0], scores[0], strict=True)
            if i >= 0 and int(i) not in seen
        }
        if fresh:
            kept += [
                Candidate(note=n, similarity=fresh[n.pk])
                for n in notes.rows_by_pk(session, pks=fresh, partition=q.partition, vector=vector)
                if q.passes(n)
            ]
            seen.update(fresh)
        if len(kept) >= want or k >= total:
            return {c.note.pk: c for c in kept}
        k = min(k * 4, total)


def _similar(n: NoteRow, query: np.ndarray) -> float | None:
    """The key's similarity to the query, from the row's stored embedding."""
    if n.embedding is None:
        return None
    vec = np.frombuffer(n.embedding, dtype=np.float32)
    return float(vec @ query) if vec.shape == query.shape else None


def with_similarity(
    rows: Iterable[NoteRow], q: Query, via: dict[int, str] | str
) -> list[Candidate]:
    out = []
    for n in rows:
        sim = _similar(n, q.vector)
        if sim is not None and q.passes(n):
            label = via if isinstance(via, str) else via[n.pk]
            out.append(Candidate(note=n, similarity=sim, via=label))
    return out


def parts_and_lexical(
    session: Session, indexes: IndexRegistry, q: Query, pool: Pool, lexical: PendingHits
) -> None:
    """Notes whose best sentence-level part is close to the query (see memsvc.text.parts),
    and full-text matches (`lexical`, started with the search); those the key index did not
    find join the pool in one fetch, scored by their key."""
    cfg = q.settings
    best: dict[int, tuple[float, int]] = {}
    if cfg.recall.part_weight > 0:
        k = max(q.top_k * cfg.index.oversample, cfg.index.min_candidates) * 2
        with faiss_single_thread():
            scores, pks, nums = indexes.search_parts(q.partition, q.vector, k)
        for s, pk, j in zip(scores.tolist(), pks.tolist(), nums.tolist(), strict=True):
            best.setdefault(int(pk), (float(s), int(j)))  # best first: the first is the best
    hits: list[tuple[int, float]] = []
    if cfg.recall.lexical:
        hits = lexical.result(session)
    via = dict.fromkeys(best, "part")
    for pk, _ in hits:
        via.setdefault(pk, "lexical")
    missing = [pk for pk in via if pk not in pool]
    rows = notes.rows_by_pk(session, pks=missing, partition=q.partition, vector=True)
    for c in with_similarity(rows, q, via):
        pool[c.note.pk] = c
    for pk, (s, j) in best.items():
        if pk in pool:
            pool[pk].part, pool[pk].part_index = s, j
    for pk, s in hits:
        if pk in pool:
            pool[pk].lexical = s


def time_range(session: Session, q: Query, pool: Pool) -> None:
    """Notes from the time range the query names join the pool, and every candidate learns
    whether it lies in that range (the ranking's time boost). No range, nothing to do."""
    if q.span is None:
        return
    start, end = q.span.start - TIME_SLACK_BEFORE, q.span.end + TIME_SLACK_AFTER
    rows = notes.rows_in_time_range(
        session,
        partition=q.partition,
        start=start,
        end=end,
        limit=MAX_TIME_CANDIDATES,
        vector=True,
        skip=pool.keys(),  # already candidates: their rows are not needed again
    )
    for c in with_similarity(rows, q, "time"):
        pool[c.note.pk] = c
    for c in pool.values():
        c.in_time_range = start <= c.note.event_time < end


def links(session: Session, q: Query, seeds: list[Candidate], pool: Pool) -> None:
    """A-MEM recall: notes linked to the best hits join with a damped score."""
    cfg = q.settings.recall
    if cfg.graph_hops <= 0 or not seeds:
        return
    reached = graphs.expand(
        session,
        q.partition,
        {c.note.pk: c.parts["relevance"] for c in seeds},
        cfg.graph_hops,
        cfg.graph_damping,
    )
    reached = {pk: v for pk, v in reached.items() if pk not in pool}
    if not reached:
        return
    for n in notes.rows_by_pk(session, pks=reached, partition=q.partition):
        if q.passes(n):
            pool[n.pk] = Candidate(note=n, similarity=0.0, via="link", graph=reached[n.pk][0])
