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
    """The best `max(rerank.candidates, top_k)` of `ranked` (sorted best first), reordered by
    `(1 - weight) x recall score + weight x reranker score`, both min-max normalised over
    them; the rest are dropped, since only the top_k are returned. Each reranked candidate
    shows the reranker's raw score as `explain`'s `rerank` part."""
    if reranker is None or len(ranked) <= 1:
        return ranked
    cfg = q.settings.rerank
    head = ranked[: max(cfg.candidates, q.top_k)]
    text = _contents(session, q.partition, [c.note.pk for c in head])
    raw = reranker.score(q.text, [text.get(c.note.pk, "") for c in head])
    if len(raw) != len(head):
        raise RuntimeError(f"{reranker.name} gave {len(raw)} scores for {len(head)} texts")
    before, after = _minmax([c.score for c in head]), _minmax(raw)
    w = cfg.weight
    for c, b, a, r in zip(head, before, after, raw, strict=True):
        c.parts["rerank"] = r
        c.score = (1 - w) * b + w * a
        c.parts["score"] = c.score
    if q.thoughts_first:  # their order is asked for: thoughts stay first
        return sorted(head, key=lambda c: (c.note.kind != "thought", -c.score, c.note.pk))
    return sorted(head, key=lambda c: (-c.score, c.note.pk))


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
