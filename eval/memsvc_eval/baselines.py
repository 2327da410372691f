"""Turn-level baselines on the same haystacks: BM25 and exact dense search.

Each haystack turn is one document (its content, user and assistant turns alike; a named
speaker's turn reads "Name: content", as memsvc stores it), so a baseline hit is exactly
one turn. Ties are broken by haystack order, which makes every
ranking deterministic.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from .bm25 import BM25
from .data import Record, TurnId

EmbedFn = Callable[[list[str]], npt.NDArray[np.float32]]
# A ranked answer: hits best first, each hit the turns it came from.
Hits = list[list[TurnId]]


@dataclass(frozen=True)
class Haystack:
    """The documents of one record: turn ids and texts in haystack order."""

    turn_ids: list[TurnId]
    texts: list[str]

    @staticmethod
    def of(record: Record) -> Haystack:
        ids: list[TurnId] = []
        texts: list[str] = []
        for s in record.sessions:
            for i, t in enumerate(s.turns):
                ids.append((s.session_id, i))
                texts.append(f"{t.name}: {t.content}" if t.name else t.content)
        return Haystack(ids, texts)


@dataclass
class IndexStats:
    turns: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Baseline(Protocol):
    name: str

    def index(self, haystack: Haystack) -> object:
        """Build the per-haystack state that :meth:`search` uses."""
        ...

    def search(self, state: object, query: str, k: int) -> list[int]:
        """Indices into ``haystack.turn_ids``, best first, at most ``k``."""
        ...


def top_k_indices(scores: npt.NDArray[np.float64] | npt.NDArray[np.float32], k: int) -> list[int]:
    """Indices of the k highest scores; equal scores keep their original order."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return [int(i) for i in order[:k]]


class DenseBaseline:
    """Exact inner-product search over unit-normalised turn embeddings."""

    name = "dense"

    def __init__(self, embed: EmbedFn, embed_query: Callable[[str], np.ndarray] | None = None):
        self._embed = embed
        self._embed_query = embed_query or (lambda q: embed([q])[0])

    def index(self, haystack: Haystack) -> object:
        vecs = np.asarray(self._embed(haystack.texts), dtype=np.float32)
        if vecs.shape[0] != len(haystack.texts):
            raise ValueError(f"embedder returned {vecs.shape[0]} rows for {len(haystack.texts)}")
        return vecs

    def search(self, state: object, query: str, k: int) -> list[int]:
        vecs = state
        assert isinstance(vecs, np.ndarray)
        if vecs.shape[0] == 0:
            return []
        q = np.asarray(self._embed_query(query), dtype=np.float32).reshape(-1)
        return top_k_indices(vecs @ q, k)


class BM25Baseline:
    """Okapi BM25 over the project's own tokenizer (memsvc.text)."""

    name = "bm25"

    def __init__(self) -> None:
        from memsvc.text.tokenize import terms

        self._terms = terms

    def index(self, haystack: Haystack) -> object:
        bm25 = BM25()
        bm25.fit([self._terms(t) for t in haystack.texts])
        return bm25

    def search(self, state: object, query: str, k: int) -> list[int]:
        hits = state.top_k(self._terms(query), k)  # type: ignore[attr-defined]
        return [int(i) for i, _ in hits]


def run_baseline(
    baseline: Baseline, haystack: Haystack, queries: Sequence[str], k: int
) -> tuple[list[Hits], list[float], IndexStats]:
    """Index one haystack and answer its queries: per query the hits (one turn each) and
    the latency in ms, plus the indexing cost."""
    t0 = time.perf_counter()
    state = baseline.index(haystack)
    stats = IndexStats(turns=len(haystack.turn_ids), seconds=time.perf_counter() - t0)
    hits: list[Hits] = []
    lat: list[float] = []
    for q in queries:
        t = time.perf_counter()
        idx = baseline.search(state, q, k)
        lat.append((time.perf_counter() - t) * 1000.0)
        hits.append([[haystack.turn_ids[i]] for i in idx])
    return hits, lat, stats
