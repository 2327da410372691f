"""Recall's rerank stage: the configured `Reranker` (memsvc.rerank) reads the query with
each of the best candidates' text and reorders them. Off (returns its input) without one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from memsvc.db.models import Note
from memsvc.rerank import Reranker
from memsvc.services.query import Query
from memsvc.services.ranking import Candidate


def rerank(
    session: Session, reranker: Reranker | None, q: Query, ranked: list[Candidate]
) -> list[Candidate]:
    """The best `max(rerank.candidates, top_k)` of `ranked` (sorted best first) reordered by
    `(1 - weight) x recall score + weight x reranker score`, the reranker's min-max mapped onto
    the range recall's scores span over them, so the result stays on recall's scale; the rest
    follow unchanged (all score at most the head's lowest). Keeping the scale and the tail
    matters to what comes after: session diversity discounts a score by a share of itself and
    picks from the whole list. Each reranked candidate shows the reranker's raw score as
    `explain`'s `rerank` part."""
    if reranker is None or len(ranked) <= 1:
        return ranked
    cfg = q.settings.rerank
    n = max(cfg.candidates, q.top_k)
    head, tail = ranked[:n], ranked[n:]
    text = _contents(session, q.partition, [c.note.pk for c in head])
    raw = reranker.score(q.text, [text.get(c.note.pk, "") for c in head])
    if len(raw) != len(head):
        raise RuntimeError(f"{reranker.name} gave {len(raw)} scores for {len(head)} texts")
    lo = min(c.score for c in head)
    # A head of equal scores spans nothing: the reranker's order then still decides it (a
    # unit span; the tail scores at most `lo`, so it stays behind).
    span = (max(c.score for c in head) - lo) or 1.0
    w = cfg.weight
    for c, a, r in zip(head, _minmax(raw), raw, strict=True):
        c.parts["rerank"] = r
        c.score = (1 - w) * c.score + w * (lo + a * span)
        c.parts["score"] = c.score
    if q.thoughts_first:  # their order is asked for: thoughts stay first
        return sorted(head + tail, key=lambda c: (c.note.kind != "thought", -c.score, c.note.pk))
    return sorted(head, key=lambda c: (-c.score, c.note.pk)) + tail


def _minmax(values: Sequence[float]) -> list[float]:
    """0..1 over `values` (all equal: all 1), -inf (a score the model could not give) as 0."""
    finite = [v for v in values if v != float("-inf")]
    lo, hi = min(finite, default=0.0), max(finite, default=0.0)
    span = hi - lo
    return [0.0 if v == float("-inf") else ((v - lo) / span if span > 0 else 1.0) for v in values]


def _contents(session: Session, partition: str, pks: list[int]) -> dict[int, str]:
    """The candidates' texts, in one query (candidate rows carry no content)."""
    stmt = select(Note.pk, Note.content).where(Note.pk.in_(pks), Note.partition == partition)
    return {pk: content for pk, content in session.execute(stmt)}
