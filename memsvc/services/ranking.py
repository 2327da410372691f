"""Ranking: fuse dense and lexical evidence, add time awareness, blend MemoryBank retention.

Every part of the score is kept so `explain=true` can show it. Relevance lives on a 0..1-ish
scale whatever the fusion, so the time, recency, graph and decay terms mean the same thing
under both fusions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from memsvc.config import Settings
from memsvc.db.queries.notes import NoteRow
from memsvc.decay import retention


@dataclass
class Candidate:
    note: NoteRow
    similarity: float
    via: str = "index"
    lexical: float | None = None
    in_time_range: bool = False
    graph: float | None = None  # damped score when reached over a link
    part: float | None = None  # similarity of the note's best-matching sentence-level part
    part_index: int | None = None
    score: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)

    def dense(self, part_weight: float) -> float:
        """Dense evidence: the whole key's similarity, raised towards the best part's."""
        if self.part is None or self.part <= self.similarity:
            return self.similarity
        return self.similarity + part_weight * (self.part - self.similarity)


def _ranks(values: dict[int, float]) -> dict[int, int]:
    order = sorted(values, key=lambda pk: (-values[pk], pk))
    return {pk: i + 1 for i, pk in enumerate(order)}


def fuse(settings: Settings, pool: list[Candidate]) -> None:
    """Set `parts["relevance"]` on every candidate from similarity and lexical score."""
    cfg = settings.recall
    pw = cfg.part_weight
    dense = {c.note.pk: c.dense(pw) for c in pool if c.graph is None}
    lex = {c.note.pk: c.lexical for c in pool if c.lexical is not None}
    d_rank, l_rank = _ranks(dense), _ranks(lex)
    top_lex = max(lex.values(), default=0.0) or 1.0
    w = cfg.lexical_weight if cfg.lexical else 0.0
    if cfg.fusion == "minmax" and dense:
        # Per-query normalisation: the pool's best cosine maps to 1 and its worst to 0, like
        # the lexical scores (divided by the best), so the two are weighed on one 0..1 scale
        # whatever band this model's cosines sit in for this query.
        lo, hi = min(dense.values()), max(dense.values())
        span = hi - lo
        dense = {pk: (v - lo) / span if span > 0 else 1.0 for pk, v in dense.items()}
    for c in pool:
        pk = c.note.pk
        if c.graph is not None:
            c.parts["graph"] = c.graph
            c.parts["relevance"] = c.graph
            continue
        c.parts["similarity"] = c.similarity
        if c.part is not None and c.part_index is not None:
            c.parts["part"] = c.part
            c.parts["part_index"] = c.part_index
        if cfg.fusion == "rrf":
            k = cfg.rrf_k
            rrf = 1.0 / (k + d_rank[pk])
            if pk in l_rank and w:
                rrf += w / (k + l_rank[pk])
                c.parts["lexical_rank"] = l_rank[pk]
            c.parts["dense_rank"] = d_rank[pk]
            c.parts["relevance"] = rrf * (k + 1) / (1 + w)  # 1.0 = first in both lists
        else:
            lexn = (lex.get(pk) or 0.0) / top_lex
            if pk in lex:
                c.parts["lexical"] = lexn
            c.parts["relevance"] = (dense[pk] + w * lexn) / (1 + w)


def finish(settings: Settings, pool: list[Candidate], as_of: datetime, *, latest: bool) -> None:
    """Time boost, recency preference, decay blend: sets `score` and the remaining parts."""
    recall, decay = settings.recall, settings.decay
    times = [c.note.event_time.timestamp() for c in pool]
    lo, hi = min(times, default=0.0), max(times, default=0.0)
    for c in pool:
        rel = c.parts["relevance"]
        # Boosts multiply: they reorder comparably relevant memories, never lift an
        # irrelevant one over a relevant one.
        if c.in_time_range and recall.time_boost:
            c.parts["time"] = recall.time_boost
            rel *= 1 + recall.time_boost
        if latest and recall.latest_weight and hi > lo:
            recency = (c.note.event_time.timestamp() - lo) / (hi - lo)
            c.parts["recency"] = recall.latest_weight * recency
            rel *= 1 + c.parts["recency"]
        if decay.enabled and decay.weight > 0:
            r = retention(c.note.strength, c.note.last_recalled_at, as_of, decay.time_scale_days)
            c.parts["retention"] = r
            rel = (1 - decay.weight) * rel + decay.weight * r
        c.score = rel
        c.parts["score"] = rel


def diversify(pool: list[Candidate], top_k: int, penalty: float) -> list[Candidate]:
    """Greedy top-k where each hit already taken from a session discounts that session's
    remaining candidates by `penalty` (multiplicatively). Five rounds of one conversation
    tell an agent less than the best round of five conversations, and questions that span
    sessions ("how many ... in total?") need all of them in the window. Notes without a
    session id are never discounted. `pool` must be sorted best first."""
    if penalty <= 0 or len(pool) <= 1:
        return pool[:top_k]
    keep = 1.0 - min(penalty, 1.0)
    taken: dict[str, int] = {}
    rest = list(pool)
    out: list[Candidate] = []
    while rest and len(out) < top_k:
        best_i, best = 0, -math.inf
        for i, c in enumerate(rest):
            if c.score <= best:  # sorted best first, discounts only lower: none later wins
                break
            n = taken.get(c.note.session_id or "", 0) if c.note.session_id else 0
            # Lower by a share of |score|, so a negative score is lowered too, not raised.
            adjusted = c.score - abs(c.score) * (1.0 - keep**n)
            if adjusted > best:
                best_i, best = i, adjusted
        c = rest.pop(best_i)
        sid = c.note.session_id
        if sid:
            if taken.get(sid):
                c.parts["diversity"] = keep ** taken[sid]
            taken[sid] = taken.get(sid, 0) + 1
        out.append(c)
    return out
