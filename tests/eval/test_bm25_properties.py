"""Property tests of the eval's BM25: scores shape and sign, ranked hits, no score without a
shared term."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # type: ignore[import-not-found, unused-ignore]
from hypothesis import strategies as st  # type: ignore[import-not-found, unused-ignore]
from memsvc_eval.bm25 import BM25

# More examples for a deeper run: MEMSVC_HYPOTHESIS_EXAMPLES=5000 pytest tests/eval
SETTINGS = settings(
    max_examples=int(os.environ.get("MEMSVC_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(
    st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=12), max_size=30),
    st.lists(st.sampled_from("abcdefghz"), max_size=5),
)
def test_bm25_invariants(docs: list[list[str]], query: list[str]) -> None:
    bm = BM25().fit(docs)
    s = bm.scores(query)
    assert s.shape == (len(docs),) and (s >= 0).all()
    hits = bm.top_k(query, 5)
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
    assert all(s[i] > 0 for i, _ in hits)
    for i, doc in enumerate(docs):
        if not set(query) & set(doc):
            assert s[i] == 0
