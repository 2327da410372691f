"""The reranker protocol: a second opinion on recall's best candidates.

A bi-encoder (the embedder) compares a query and a memory through two vectors computed
apart; a reranker reads the two texts together and scores the pair, which catches what a
single vector misses (negation, who did what, which of two similar events) at a cost per
candidate. Recall therefore asks it only about the head of its ranking
(`memsvc.config.RerankSettings.candidates`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class Reranker(Protocol):
    """Scores (query, text) pairs: higher means more relevant.

    Contract (tests/rerank/test_rerank.py runs it against every implementation): one finite
    float per text, in the order given; a pair's score does not depend on the other texts of
    the call or on their order; the same call gives the same scores."""

    name: str

    def score(self, query: str, texts: Sequence[str]) -> list[float]: ...
