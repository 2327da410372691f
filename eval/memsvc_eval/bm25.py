"""Okapi BM25 over pre-tokenised documents, with an inverted index in numpy arrays.

Scoring (Robertson & Zaragoza 2009, "The Probabilistic Relevance Framework: BM25 and Beyond"):

    score(d, q) = Σ_t qtf(t) · idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
    idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))

This is Lucene's non-negative idf, so a term present in most documents still adds a little
instead of subtracting. A repeated query term counts once per occurrence (``qtf``).

Layout: an inverted index whose posting lists (doc ids, term frequencies) are compact
``array.array`` buffers, appended to by ``add`` and read by numpy without any repacking, so
``add`` is O(len(doc)) and a query touches only its own terms' postings: ~50k documents score
in about a millisecond. Not thread-safe: guard ``add`` against concurrent queries.

Eval-only: the ``bm25`` baseline (:mod:`memsvc_eval.baselines`) ranks turns with it. The
service's own lexical search is the database's full-text index (``memsvc.services.lexical``).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["BM25"]


class BM25:
    """BM25 ranking over documents given as token lists (use ``tokenize.terms``)."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        if k1 < 0 or not 0.0 <= b <= 1.0:
            raise ValueError("need k1 >= 0 and 0 <= b <= 1")
        self.k1 = k1
        self.b = b
        self._vocab: dict[str, int] = {}
        self._post_doc: list[array[int]] = []  # per term id: doc ids, ascending
        self._post_tf: list[array[float]] = []
        self._doc_len: array[float] = array("f")
        self._total_len = 0.0

    # --- building -------------------------------------------------------------------------

    def fit(self, docs: Iterable[Sequence[str]]) -> BM25:
        """Replace the corpus with ``docs``; document ids are their positions."""
        self._vocab.clear()
        self._post_doc.clear()
        self._post_tf.clear()
        self._doc_len = array("f")
        self._total_len = 0.0
        for doc in docs:
            self.add(doc)
        return self

    def add(self, doc: Sequence[str]) -> int:
        """Append one document; returns its id (the next position)."""
        if isinstance(doc, str):
            raise TypeError("a document is a sequence of tokens, not a string")
        doc_id = len(self._doc_len)
        for term, tf in Counter(doc).items():
            tid = self._vocab.get(term)
            if tid is None:
                tid = self._vocab[term] = len(self._post_doc)
                self._post_doc.append(array("i"))
                self._post_tf.append(array("f"))
            self._post_doc[tid].append(doc_id)
            self._post_tf[tid].append(tf)
        self._doc_len.append(len(doc))
        self._total_len += len(doc)
        return doc_id

    # --- querying -------------------------------------------------------------------------

    @property
    def n_docs(self) -> int:
        return len(self._doc_len)

    def idf(self, term: str) -> float:
        """Lucene-style idf of ``term`` (0.0 for an unseen term)."""
        tid = self._vocab.get(term)
        if tid is None:
            return 0.0
        df = len(self._post_doc[tid])
        return float(np.log1p((self.n_docs - df + 0.5) / (df + 0.5)))

    def scores(self, query_terms: Sequence[str]) -> npt.NDArray[np.float32]:
        """BM25 score of every document for ``query_terms``; shape ``(n_docs,)``, float32."""
        n = self.n_docs
        out = np.zeros(n, dtype=np.float32)
        tids = [
            (tid, qtf)
            for t, qtf in Counter(query_terms).items()
            if (tid := self._vocab.get(t)) is not None
        ]
        if n == 0 or not tids:
            return out
        avgdl = self._total_len / n or 1.0
        lengths = np.array(self._doc_len, dtype=np.float32)
        for tid, qtf in tids:
            # Copies (not views) so that a later ``add`` can still grow the buffers.
            docs = np.array(self._post_doc[tid], dtype=np.int64)
            tf = np.array(self._post_tf[tid], dtype=np.float32)
            df = docs.size
            idf = np.float32(np.log1p((n - df + 0.5) / (df + 0.5)))
            norm = self.k1 * (1.0 - self.b + self.b * lengths[docs] / avgdl)
            # Doc ids within one posting list are unique, so fancy-index += is exact.
            out[docs] += (qtf * idf) * tf * (self.k1 + 1.0) / (tf + norm)
        return out

    def top_k(self, query_terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best ``(doc_id, score)`` pairs with a positive score, best first;
        ties broken by the lower doc id so results are deterministic."""
        if k <= 0:
            return []
        s = self.scores(query_terms)
        pos = np.flatnonzero(s > 0)
        if pos.size == 0:
            return []
        if pos.size > k:
            # Partition on score, then sort the survivors by (-score, id).
            part = np.argpartition(-s[pos], k - 1)[:k]
            kth = s[pos[part]].min()
            pos = pos[s[pos] >= kth]  # keep every doc tied with the k-th
        order = np.lexsort((pos, -s[pos]))[:k]
        return [(int(pos[i]), float(s[pos[i]])) for i in order]
