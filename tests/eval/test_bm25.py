"""The eval's Okapi BM25 (memsvc_eval.bm25): against a loop-by-loop reference, incremental
adds, top_k, speed, and seeded fuzz over arbitrary Unicode."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from memsvc_eval.bm25 import BM25

from memsvc.text.tokenize import terms
from tests.text.test_fuzz import random_text

DOCS = [
    "I adopted a cat named Luna last spring",
    "My dog Max loves fetch and squeaky toys",
    "The farmers market downtown sells fresh tomatoes",
    "I earned $420 at the Downtown Farmers Market",
    "Tomatoes and basil from my garden",
    "",
]


def _index() -> BM25:
    return BM25().fit([terms(d) for d in DOCS])


def _reference_score(docs: list[list[str]], query: list[str], k1: float, b: float) -> np.ndarray:
    """Textbook BM25 written out loop by loop, to check the vectorised one."""
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    out = np.zeros(n)
    for i, d in enumerate(docs):
        for q in query:
            tf = d.count(q)
            if tf == 0:
                continue
            df = sum(1 for x in docs if q in x)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            out[i] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avgdl))
    return out


@pytest.mark.parametrize(("k1", "b"), [(1.2, 0.75), (2.0, 0.0), (0.5, 1.0)])
def test_scores_match_the_reference_formula(k1: float, b: float) -> None:
    docs = [terms(d) for d in DOCS]
    bm = BM25(k1=k1, b=b).fit(docs)
    for query in ["farmers market tomatoes", "cat luna", "market market", "nothing here"]:
        q = terms(query)
        np.testing.assert_allclose(bm.scores(q), _reference_score(docs, q, k1, b), rtol=1e-5)


def test_top_k_ranks_the_matching_documents_first() -> None:
    bm = _index()
    hits = bm.top_k(terms("How much did I earn at the downtown farmers market?"), 3)
    assert [i for i, _ in hits][:2] == [3, 2]
    assert hits[0][1] > hits[1][1] > 0
    assert bm.top_k(terms("pet cat"), 5) == [(0, pytest.approx(bm.scores(["cat"])[0]))]


def test_top_k_edge_cases() -> None:
    bm = _index()
    assert bm.top_k(["zzz"], 5) == []
    assert bm.top_k([], 5) == []
    assert bm.top_k(terms("tomatoes"), 0) == []
    assert len(bm.top_k(terms("tomatoes market dog cat garden"), 100)) == 5  # only positives


def test_ties_are_broken_by_document_id() -> None:
    bm = BM25().fit([["a", "b"], ["c"], ["a", "b"], ["a", "b"]])
    assert [i for i, _ in bm.top_k(["a"], 2)] == [0, 2]
    assert [i for i, _ in bm.top_k(["a"], 3)] == [0, 2, 3]


def test_repeated_query_terms_count_per_occurrence() -> None:
    bm = _index()
    q = terms("tomatoes")
    np.testing.assert_allclose(bm.scores(q * 2), 2 * bm.scores(q), rtol=1e-6)


def test_incremental_add_equals_fit() -> None:
    docs = [terms(d) for d in DOCS]
    inc = BM25().fit(docs[:2])
    inc.top_k(["cat"], 1)  # query between adds
    for d in docs[2:]:
        inc.add(d)
    full = BM25().fit(docs)
    q = terms("farmers market tomatoes cat")
    np.testing.assert_allclose(inc.scores(q), full.scores(q), rtol=1e-6)
    assert inc.n_docs == len(DOCS)
    assert inc.add(terms("new doc about cats")) == len(DOCS)


def test_empty_index_and_validation() -> None:
    bm = BM25()
    assert bm.scores(["x"]).shape == (0,)
    assert bm.top_k(["x"], 3) == []
    assert bm.idf("x") == 0.0
    with pytest.raises(ValueError):
        BM25(k1=-1)
    with pytest.raises(ValueError):
        BM25(b=1.5)
    with pytest.raises(TypeError):
        bm.add("a string is not a token list")


def test_idf_is_positive_and_decreasing_in_df() -> None:
    bm = BM25().fit([["a", "b"], ["a"], ["a", "c"]])
    assert bm.idf("a") > 0
    assert bm.idf("b") > bm.idf("a")
    assert bm.scores(["a"]).dtype == np.float32


def test_fit_replaces_the_corpus() -> None:
    bm = _index()
    bm.fit([["only"], ["two"]])
    assert bm.n_docs == 2
    assert bm.top_k(terms("tomatoes"), 3) == []


def _random_corpus(n_docs: int, seed: int = 0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    ids = rng.zipf(1.3, size=(n_docs, 40)) % 5000
    return [[f"w{i}" for i in row] for row in ids.tolist()]


@pytest.mark.slow
def test_scores_50k_documents_in_a_few_ms() -> None:
    import time

    bm = BM25().fit(_random_corpus(50_000))
    q = ["w1", "w2", "w3", "w10", "w400"]
    bm.top_k(q, 10)
    t0 = time.perf_counter()
    for _ in range(20):
        bm.top_k(q, 10)
    per_query = (time.perf_counter() - t0) / 20
    assert per_query < 0.02  # measured ~1 ms; generous for 2 shared cores


def test_top_k_agrees_with_a_full_sort() -> None:
    bm = BM25().fit(_random_corpus(2_000, seed=1))
    for q in (["w1", "w7"], ["w3"], ["w42", "w1", "w1"]):
        s = bm.scores(q)
        order = sorted(range(len(s)), key=lambda i: (-s[i], i))
        expected = [(i, float(s[i])) for i in order[:10] if s[i] > 0]
        assert bm.top_k(q, 10) == expected


def test_random_text_fuzz() -> None:
    rng = random.Random(20240501)
    bm = BM25()
    for _ in range(400):
        bm.add(terms(random_text(rng)))
    assert bm.n_docs == 400
    assert (bm.scores(terms("Paris cat Luna")) >= 0).all()
