"""Recall's pseudo-relevance feedback stage (Rocchio, 1971, on embeddings): the first hits
say what the question is about better than the question alone, so every candidate also
scores by its similarity to their centroid.

Why: questions that need several memories ("What items does John collect?", "How many
doctors did I visit?") are phrased more generally than any one of the memories; the best
hit is found, the others sit below unrelated notes that share the question's words. The
centroid of the best few hits moves towards the topic they share, and the candidates that
talk about it rise. Off when `recall.feedback_weight` is 0.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from memsvc.db.models import Note
from memsvc.services.ranking import Candidate


def key_vectors(session: Session, partition: str, pks: list[int]) -> dict[int, np.ndarray]:
    """The stored key embeddings of `pks` (restricted to `partition`)."""
    if not pks:
        return {}
    stmt = select(Note.pk, Note.embedding).where(
        Note.pk.in_(pks), Note.partition == partition, Note.embedding.is_not(None)
    )
    rows = session.execute(stmt)
    return {pk: np.frombuffer(blob, dtype=np.float32) for pk, blob in rows if blob is not None}


def apply(
    session: Session,
    partition: str,
    query: np.ndarray,
    pool: list[Candidate],
    *,
    seeds: int,
    weight: float,
) -> None:
    """Feedback over the pool's stored key vectors (see `blend`): those its rows carry
    already (recall fetches candidates with their vectors when feedback is on), the rest (notes
    reached over links) in one query."""
    if weight <= 0 or seeds <= 0 or len(pool) <= 1:
        return
    vecs: dict[int, np.ndarray] = {}
    for c in pool:
        if c.note.embedding is not None:
            vecs[c.note.pk] = np.frombuffer(c.note.embedding, dtype=np.float32)
    missing = [c.note.pk for c in pool if c.note.pk not in vecs]
    vecs.update(key_vectors(session, partition, missing))
    blend(query, pool, vecs, seeds, weight)


def blend(
    query: np.ndarray,
    pool: list[Candidate],
    vecs: dict[int, np.ndarray],
    seeds: int,
    weight: float,
) -> None:
    """Blend each candidate's relevance with its cosine to the centroid of the query and the
    `seeds` most relevant candidates: relevance' = (relevance + w * feedback) / (1 + w).
    Candidates without a vector keep their relevance."""
    ranked = sorted(pool, key=lambda c: -c.parts["relevance"])
    top = [vecs[c.note.pk] for c in ranked if c.note.pk in vecs][:seeds]
    if weight <= 0 or not top:
        return
    centroid = np.mean(np.vstack([query, *top]), axis=0)
    norm = float(np.linalg.norm(centroid))
    if norm == 0:
        return
    centroid /= norm
    for c in pool:
        vec = vecs.get(c.note.pk)
        if vec is None or vec.shape != centroid.shape:
            continue
        fb = float(vec @ centroid)
        c.parts["feedback"] = fb
        c.parts["relevance"] = (c.parts["relevance"] + weight * fb) / (1 + weight)
