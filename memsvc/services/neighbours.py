"""Recall's neighbour stage: the turns next to the best hits.

What a question needs is often said across two adjacent turns (a question and its answer,
a statement and its follow-up), and the second one alone shares few words with the query.
The notes just before and after each of the best hits that is a single message (a "turn"
note: a round already holds its reply) join the pool, and every candidate next to one of
them gains a share of that hit's relevance. The message right after a hit that asks
something gains a larger share (`answer_weight`): a question and its answer are the
commonest adjacent pair in conversation, and the answer ("5 years already!") is the turn a
question about it needs while sharing none of its words. The seeks are
`memsvc.db.queries.conversations.adjacent` (one plain statement for all seeds) and
`asking`."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from memsvc.db.queries import conversations, notes
from memsvc.services.gather import Pool, with_similarity
from memsvc.services.query import Query
from memsvc.services.ranking import Candidate

# pk -> the seeds (best hits) it is next to, each with the share of the seed's relevance it
# gains (`neighbour_weight`, or `answer_weight` right after a seed that asks something)
Adjacency = dict[int, list[tuple[int, float]]]


def gather(session: Session, q: Query, seeds: list[Candidate], pool: Pool) -> Adjacency:
    """Adds the seeds' neighbours (same session, next in event time either way) to the pool,
    scored by their own key, and returns which seeds each note is next to and its share."""
    cfg = q.settings.recall
    # Only a single message needs its neighbours: a round already holds its reply.
    seeds = [c for c in seeds if c.note.kind == "turn" and c.note.session_id]
    if cfg.neighbour_weight <= 0 or not seeds:  # the stage is off
        return {}
    units = [(c.note.pk, c.note.session_id, c.note.event_time) for c in seeds]
    asks = (
        conversations.asking(session, partition=q.partition, pks=[c.note.pk for c in seeds])
        if cfg.answer_weight > 0
        else set()
    )
    near: Adjacency = defaultdict(list)
    for seed, before, after in conversations.adjacent(session, partition=q.partition, seeds=units):
        if before is not None:
            near[before].append((seed, cfg.neighbour_weight))
        if after is not None:
            share = cfg.answer_weight if seed in asks else 0.0
            near[after].append((seed, max(cfg.neighbour_weight, share)))
    missing = [pk for pk in near if pk not in pool]
    rows = notes.rows_by_pk(session, pks=missing, partition=q.partition, vector=True)
    for c in with_similarity(rows, q, "neighbour"):
        pool[c.note.pk] = c
    return dict(near)


def smooth(q: Query, candidates: list[Candidate], near: Adjacency) -> None:
    """Each candidate next to a seed gains its share of that seed's relevance (the best one
    when it is next to several)."""
    if not near:
        return
    rel = {c.note.pk: c.parts["relevance"] for c in candidates}
    for c in candidates:
        seeds = near.get(c.note.pk)
        if not seeds:
            continue
        bonus = max(share * rel.get(s, 0.0) for s, share in seeds)
        c.parts["neighbour"] = bonus
        c.parts["relevance"] += bonus
