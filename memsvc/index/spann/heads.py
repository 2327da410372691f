"""The in-memory head index: centroid vectors in FAISS (exact flat for few heads, HNSW for
many), searched by squared L2. Head i owns posting list i.

Heads are append-only between compactions: a split adds two heads and marks the old one dead
rather than removing it, because HNSW cannot delete; dead heads are filtered during the graph
search with an id selector, so they cost recall nothing and are dropped by the next compaction."""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


class HeadIndex:
    def __init__(self, dim: int, kind: str, *, m: int = 32, ef_construction: int = 100) -> None:
        if kind not in ("flat", "hnsw"):
            raise ValueError(f"unknown head index kind {kind!r}")
        self.dim = dim
        self.kind = kind
        if kind == "flat":
            self._index: Any = faiss.IndexFlatL2(dim)
        else:
            self._index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_L2)
            self._index.hnsw.efConstruction = ef_construction
        self._alive = np.zeros(0, dtype=np.bool_)
        self._n_dead = 0
        # (bitmap, selector) replaced as one tuple under the owner's write lock; a search
        # holds its own reference, so the bitmap the selector points into stays alive.
        self._filter: tuple[npt.NDArray[np.uint8], Any] | None = None

    # --- size and liveness ------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def n_alive(self) -> int:
        return len(self) - self._n_dead

    @property
    def alive(self) -> npt.NDArray[np.bool_]:
        return self._alive[: len(self)]

    def vectors(self) -> F32:
        """All head vectors (H, d), a zero-copy view of FAISS's storage: re-fetch after add."""
        n = len(self)
        if n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        storage: Any = (
            self._index if self.kind == "flat" else faiss.downcast_index(self._index.storage)
        )
        flat = faiss.rev_swig_ptr(storage.get_xb(), n * self.dim)
        return np.asarray(flat).reshape(n, self.dim)

    def add(self, vectors: F32) -> I64:
        """Append heads; returns their ids."""
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) head vectors, got {vecs.shape}")
        start = len(self)
        self._index.add(vecs)
        n = len(self)
        if self._alive.size < n:
            grown = np.zeros(max(n, 2 * self._alive.size, 64), dtype=np.bool_)
            grown[: self._alive.size] = self._alive
            self._alive = grown
        self._alive[start:n] = True
        self._refresh_filter()
        return np.arange(start, n, dtype=np.int64)

    def kill(self, head_ids: I64) -> None:
        ids = np.asarray(head_ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise IndexError(f"head id out of range 0..{len(self) - 1}")
        newly = ids[self._alive[ids]]
        self._alive[newly] = False
        self._n_dead += int(np.unique(newly).size)
        self._refresh_filter()

    def set_alive(self, alive: npt.NDArray[np.bool_]) -> None:
        if alive.shape != (len(self),):
            raise ValueError(f"alive mask must have shape ({len(self)},), got {alive.shape}")
        self._alive = np.array(alive, dtype=np.bool_)
        self._n_dead = int((~self._alive).sum())
        self._refresh_filter()

    # --- search -----------------------------------------------------------------------------
    def _refresh_filter(self) -> None:
        if not self._n_dead:
            self._filter = None
            return
        # IDSelectorBitmap reads bit i of byte i >> 3, least significant bit first.
        bitmap = np.packbits(self.alive, bitorder="little")
        self._filter = (bitmap, faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bitmap)))

    def search(self, queries: F32, k: int, ef_search: int = 128) -> tuple[F32, I64]:
        """Nearest alive heads: squared distances and ids (n, k), -1 / +inf where missing."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        n = q.shape[0]
        if self.n_alive == 0 or k <= 0:
            return np.full((n, max(k, 0)), np.inf, np.float32), np.full((n, max(k, 0)), -1)
        kk = min(k, len(self))
        filt = self._filter
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            params.efSearch = max(ef_search, kk)
        else:
            params = faiss.SearchParameters()
        if filt is not None:
            params.sel = filt[1]
        d, i = self._index.search(q, kk, params=params)
        d = np.where(i < 0, np.inf, d).astype(np.float32)
        if kk < k:
            d = np.hstack([d, np.full((n, k - kk), np.inf, np.float32)])
            i = np.hstack([i, np.full((n, k - kk), -1, np.int64)])
        return d, i.astype(np.int64)

    # --- persistence ------------------------------------------------------------------------
    def serialize(self) -> bytes:
        return bytes(faiss.serialize_index(self._index).tobytes())

    @classmethod
    def from_parts(
        cls, dim: int, kind: str, vectors: F32, graph: bytes | None, *, m: int, ef_construction: int
    ) -> HeadIndex:
        """Rebuild from stored head vectors; an HNSW `graph` holding a prefix of them is
        reused and the rest are added, so saves need not rewrite the graph after each split."""
        self = cls(dim, kind, m=m, ef_construction=ef_construction)
        start = 0
        if graph is not None and kind == "hnsw":
            index = faiss.deserialize_index(np.frombuffer(graph, dtype=np.uint8))
            if index.d != dim or index.ntotal > vectors.shape[0]:
                raise ValueError("head graph does not match the head vectors")
            self._index = index
            start = int(index.ntotal)
        if start:
            self._alive = np.ones(start, dtype=np.bool_)
        if vectors.shape[0] > start:
            self.add(vectors[start:])
        return self

    def nbytes(self) -> int:
        """RAM held by the structure: vectors plus (for HNSW) its neighbour lists."""
        n = len(self)
        size = n * self.dim * 4 + self._alive.nbytes
        if self.kind == "hnsw":
            size += int(self._index.hnsw.neighbors.size()) * 4 + n * 8 * 2
        return size
