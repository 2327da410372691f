"""Baselines: deterministic rankings over the haystack's turns."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from memsvc_eval.baselines import (
    BM25Baseline,
    DenseBaseline,
    Haystack,
    run_baseline,
    top_k_indices,
)
from memsvc_eval.data import Record

from .conftest import make_record, make_session

VOCAB = ["bike", "soup", "paris", "guitar"]


def keyword_embed(texts: list[str]) -> np.ndarray:
    """Unit bag-of-keywords vectors: a transparent embedder whose rankings we can predict."""
    out = np.zeros((len(texts), len(VOCAB) + 1), dtype=np.float32)
    for i, t in enumerate(texts):
        for j, w in enumerate(VOCAB):
            out[i, j] = t.lower().count(w)
        out[i, -1] = 0.1  # keeps every row non-zero
        out[i] /= np.linalg.norm(out[i])
    return out


def _record() -> Record:
    d = datetime(2023, 5, 1)
    return make_record(
        "b",
        sessions=[
            make_session("s1", d, ["I love soup", "Soup is warm"]),
            make_session("s2", d, ["My bike is red", "A red bike, nice", "Paris trip soon"]),
        ],
        evidence=("s2",),
    )


def test_haystack_lists_turns_in_order() -> None:
    h = Haystack.of(_record())
    assert h.turn_ids == [("s1", 0), ("s1", 1), ("s2", 0), ("s2", 1), ("s2", 2)]
    assert h.texts[2] == "My bike is red"


def test_top_k_ties_keep_haystack_order() -> None:
    assert top_k_indices(np.array([0.5, 0.9, 0.5, 0.9, 0.1]), 4) == [1, 3, 0, 2]
    assert top_k_indices(np.array([1.0, 2.0]), 10) == [1, 0]
    assert top_k_indices(np.zeros(0), 3) == []


def test_dense_ranks_by_cosine() -> None:
    h = Haystack.of(_record())
    hits, lat, stats = run_baseline(DenseBaseline(keyword_embed), h, ["bike?", "soup"], k=3)
    assert hits[0][:2] == [[("s2", 0)], [("s2", 1)]]
    assert hits[1][:2] == [[("s1", 0)], [("s1", 1)]]
    assert all(len(hit) == 1 for q in hits for hit in q)
    assert len(lat) == 2 and all(v >= 0 for v in lat)
    assert stats.turns == 5


def test_bm25_ranks_term_matches_first_and_skips_non_matches() -> None:
    h = Haystack.of(_record())
    hits, _, _ = run_baseline(BM25Baseline(), h, ["When is the Paris trip?", "zzz"], k=10)
    assert hits[0][0] == [("s2", 2)]
    assert len(hits[0]) == 1  # only one turn mentions Paris or trip
    assert hits[1] == []
