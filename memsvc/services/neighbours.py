"""Recall's neighbour stage: the turns next to the best hits.

What a question needs is often said across two adjacent turns (a question and its answer,
a statement and its follow-up), and the second one alone shares few words with the query.
The notes just before and after each of the best hits that is a single message (a "turn"
note: a round already holds its reply) join the pool, and every candidate next to one of
them gains a share of that hit's relevance. The seek for the neighbours is
`memsvc.db.queries.conversations.adjacent` (one plain statement for all seeds)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from memsvc.db.queries import conversations, notes
from memsvc.services.gather import Pool, with_similarity
from memsvc.services.query import Query
from memsvc.services.ranking import Candidate

# pk -> the seeds (best hits) it is next to
Adjacency = dict[int, list[int]]


def gather(session: Session, q: Query, seeds: list[Candidate], pool: Pool) -> Adjacency:
    """Adds the seeds' neighbours (same session, next in event time either way) to the pool,
    scored by their own key, and returns which seeds each note is next to."""
    # Only a single message needs its neighbours: a round already holds its reply.
    seeds = [c for c in seeds if c.note.kind == "turn" and c.note.session_id]
    if q.settings.recall.neighbour_weight <= 0 or not seeds:
        return {}
    units = [(c.note.pk, c.note.session_id, c.note.event_time) for c in seeds]
    near: Adjacency = defaultdict(list)
    for seed, before, after in conversations.adjacent(session, partition=q.partition, seeds=units):
        for pk in (before, after):
            if pk is not None:
                near[pk].append(seed)
    missing = [pk for pk in near if pk not in pool]
    rows = notes.rows_by_pk(session, pks=missing, partition=q.partition, vector=True)
    for c in with_similarity(rows, q, "neighbour"):
        pool[c.note.pk] = c
    return dict(near)


def smooth(q: Query, candidates: list[Candidate], near: Adjacency) -> None:
    """Each candidate next to a seed gains `neighbour_weight` x that seed's relevance."""
    w = q.settings.recall.neighbour_weight
    if w <= 0 or not near:
        return
    rel = {c.note.pk: c.parts["relevance"] for c in candidates}
    for c in candidates:
        seeds = near.get(c.note.pk)
        if not seeds:
            continue
        bonus = w * max(rel.get(s, 0.0) for s in seeds)
        c.parts["neighbour"] = bonus
        c.parts["relevance"] += bonus
