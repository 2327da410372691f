"""Recall's neighbour stage: the turns next to the best hits.

What a question needs is often said across two adjacent turns (a question and its answer,
a statement and its follow-up), and the second one alone shares few words with the query.
The notes just before and after each of the best hits that is a single message (a "turn"
note: a round already holds its reply) join the pool, and every candidate next to one of
them gains a share of that hit's relevance."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from memsvc.db.models import Note
from memsvc.services.candidates import NoteRow, by_pk
from memsvc.services.gather import Pool
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
    near: Adjacency = defaultdict(list)
    for c in seeds:
        for pk in _adjacent(session, q.partition, c.note):
            near[pk].append(c.note.pk)
    missing = [pk for pk in near if pk not in pool]
    for n in by_pk(session, missing, partition=q.partition, vector=True):
        if n.embedding is None or not q.passes(n):
            continue
        sim = float(np.frombuffer(n.embedding, dtype=np.float32) @ q.vector)
        pool[n.pk] = Candidate(note=n, similarity=sim, via="neighbour")
    return dict(near)


def _adjacent(session: Session, partition: str, note: NoteRow) -> list[int]:
    """The conversation units said just before and just after `note` in its session, in the
    order (event time, pk). Two seeks on ix_notes_partition_session, whatever the length of
    the conversation (a long-running thread can hold thousands of messages)."""
    same = select(Note.pk).where(
        Note.partition == partition,
        Note.session_id == note.session_id,
        Note.kind.in_(CONVERSATION),
    )
    key = tuple_(Note.event_time, Note.pk)
    at = (note.event_time, note.pk)
    before = session.scalar(
        same.where(key < at).order_by(Note.event_time.desc(), Note.pk.desc()).limit(1)
    )
    after = session.scalar(same.where(key > at).order_by(Note.event_time, Note.pk).limit(1))
    return [pk for pk in (before, after) if pk is not None]


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
