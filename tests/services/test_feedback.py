"""Pseudo-relevance feedback (memsvc.services.feedback): the blend on its own, and the stored
vectors it reads never leave the request's partition."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from memsvc import Memory
from memsvc.config import Settings
from memsvc.db.models import Note
from memsvc.db.queries.notes import NoteRow
from memsvc.embed import CachedEmbedder
from memsvc.services import feedback
from memsvc.services.ranking import Candidate

T = datetime(2024, 1, 1, tzinfo=UTC)


def _cand(pk: int, relevance: float) -> Candidate:
    row = NoteRow(pk, f"n{pk}", "p", "u", None, "s", "turn", "active", T, None, T, T, 1.0, T, {})
    c = Candidate(note=row, similarity=relevance)
    c.parts["relevance"] = relevance
    return c


def _unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / np.linalg.norm(a)


def test_a_candidate_near_the_best_hits_rises_past_an_equal_one_far_from_them() -> None:
    query = _unit([1, 0, 0])
    vecs = {0: _unit([0.9, 0.4, 0]), 1: _unit([0.2, 1, 0]), 2: _unit([0.2, 0, 1])}
    pool = [_cand(0, 0.6), _cand(1, 0.3), _cand(2, 0.3)]
    feedback.blend(query, pool, vecs, seeds=1, weight=0.5)
    rel = {c.note.pk: c.parts["relevance"] for c in pool}
    assert rel[1] > rel[2]  # 1 shares the best hit's direction, 2 does not
    assert rel[0] == max(rel.values())
    assert all("feedback" in c.parts for c in pool)


def test_weight_zero_and_missing_vectors_change_nothing() -> None:
    query = _unit([1, 0])
    pool = [_cand(0, 0.5), _cand(1, 0.4)]
    feedback.blend(query, pool, {0: _unit([1, 1])}, seeds=3, weight=0.0)
    assert [c.parts["relevance"] for c in pool] == [0.5, 0.4]
    feedback.blend(query, pool, {0: _unit([1, 1])}, seeds=3, weight=0.3)
    assert pool[1].parts["relevance"] == 0.4 and "feedback" not in pool[1].parts


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=2, max_size=12),
    st.integers(1, 5),
    st.floats(0.01, 2.0),
    st.integers(0, 2**31 - 1),
)
def test_the_blend_is_convex(rels: list[float], seeds: int, weight: float, seed: int) -> None:
    """relevance' lies between the old relevance and the feedback cosine (a convex mix), and
    a candidate's feedback is its cosine to a unit centroid, so it stays in [-1, 1]."""
    rng = np.random.default_rng(seed)
    vecs = {i: _unit(list(rng.normal(size=8) + 1e-3)) for i in range(len(rels))}
    pool = [_cand(i, r) for i, r in enumerate(rels)]
    feedback.blend(_unit(list(rng.normal(size=8) + 1e-3)), pool, vecs, seeds, weight)
    for c, r in zip(pool, rels, strict=True):
        fb = c.parts["feedback"]
        assert -1 - 1e-6 <= fb <= 1 + 1e-6
        lo, hi = min(r, fb), max(r, fb)
        assert lo - 1e-9 <= c.parts["relevance"] <= hi + 1e-9


def test_feedback_reads_only_the_partitions_own_vectors(
    tmp_path: Path, embedder: CachedEmbedder
) -> None:
    cfg = Settings(data_dir=tmp_path, background=False, recall={"feedback_weight": 0.4})
    with Memory(cfg, embedder=embedder) as mem:
        mem.add("I collect vintage stamps from Portugal.", user_id="ann", infer=False)
        mem.add("My stamp album has a Penny Black now.", user_id="ann", infer=False)
        mem.add("I collect stamps too, mostly from Japan.", user_id="bob", infer=False)
        rt = mem.runtime
        with rt.db.read() as session:
            rows = list(session.execute(select(Note.pk, Note.partition, Note.user_id)))
            ann = {pk for pk, _, user in rows if user == "ann"}
            part = next(p for _, p, user in rows if user == "ann")
            got = feedback.key_vectors(session, part, [pk for pk, _, _ in rows])
        assert set(got) == ann  # bob's pk was asked for and not read
        hits = mem.search("what do I collect?", user_id="ann", explain=True).results
        assert {h.memory for h in hits} <= {
            "I collect vintage stamps from Portugal.",
            "My stamp album has a Penny Black now.",
        }
        assert hits and all(h.explain and "feedback" in h.explain for h in hits)
