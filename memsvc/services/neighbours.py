"""Recall's neighbour stage: the turns next to the best hits.

What a question needs is often said across two adjacent turns (a question and its answer,
a statement and its follow-up), and the second one alone shares few words with the query.
The notes just before and after each of the best hits that is a single message (a "turn"
note: a round already holds its reply) join the pool, and every candidate next to one of
them gains a share of that hit's relevance."""

from __future__ import annotations

import functools
from collections import defaultdict

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.orm import Session

from memsvc.db.base import UTCDateTime
from memsvc.services.candidates import by_pk
from memsvc.services.gather import Pool, with_similarity
from memsvc.services.query import Query
from memsvc.services.ranking import Candidate

# pk -> the seeds (best hits) it is next to
Adjacency = dict[int, list[int]]
# The units of a conversation, in the order they were said.
CONVERSATION = ("turn", "round")


def gather(session: Session, q: Query, seeds: list[Candidate], pool: Pool) -> Adjacency:
    """Adds the seeds' neighbours (same session, next in event time either way) to the pool,
    scored by their own key, and returns which seeds each note is next to."""
    # Only a single message needs its neighbours: a round already holds its reply.
    seeds = [c for c in seeds if c.note.kind == "turn" and c.note.session_id]
    if q.settings.recall.neighbour_weight <= 0 or not seeds:
        return {}
    params: dict[str, object] = {"p": q.partition}
    for i, c in enumerate(seeds):
        params |= {f"s{i}": c.note.pk, f"sid{i}": c.note.session_id, f"t{i}": c.note.event_time}
    near: Adjacency = defaultdict(list)
    for seed, before, after in session.execute(_adjacent(len(seeds)), params):
        for pk in (before, after):
            if pk is not None:
                near[pk].append(seed)
    missing = [pk for pk in near if pk not in pool]
    rows = by_pk(session, missing, partition=q.partition, vector=True)
    for c in with_similarity(rows, q, "neighbour"):
        pool[c.note.pk] = c
    return dict(near)


@functools.lru_cache(maxsize=64)
def _adjacent(n: int) -> TextClause:
    """For `n` seeds (:s<i> pk, :sid<i> session, :t<i> event time) in partition :p, the
    conversation units said just before and just after each in its session, in the order
    (event time, pk): two seeks per seed on ix_notes_partition_session, whatever the length
    of the conversation (a long-running thread can hold thousands of messages), in one
    statement. Plain SQL, built once per seed count: the same two seeks written as
    SQLAlchemy expressions cost 16 ms a search to construct."""
    rows = ", ".join(f"(:s{i}, :sid{i}, :t{i})" for i in range(n))
    near = (
        "SELECT n.pk FROM notes n WHERE n.partition = :p AND n.session_id = seeds.sid "
        "AND n.kind IN ('turn', 'round') AND (n.event_time, n.pk) {op} (seeds.t, seeds.seed) "
        "ORDER BY n.event_time {dir}, n.pk {dir} LIMIT 1"
    )
    stmt = text(
        f"WITH seeds(seed, sid, t) AS (VALUES {rows}) SELECT seeds.seed, "
        f"({near.format(op='<', dir='DESC')}), ({near.format(op='>', dir='ASC')}) FROM seeds"
    )
    return stmt.bindparams(*(bindparam(f"t{i}", type_=UTCDateTime()) for i in range(n)))


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
