"""Exact search: FAISS ``IndexFlatIP`` behind an id map. The reference every other backend is
compared against, and the backend for partitions too small to need an ANN structure."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

import faiss
import numpy as np

from memsvc.index.base import (
    FloatArray,
    IdArray,
    IndexError_,
    check_ids,
    check_vectors,
    empty_result,
    read_manifest,
    write_atomic,
    write_manifest,
)
from memsvc.index.threads import threads_for

_DATA = "flat.faiss"


class FlatIndex:
    kind: ClassVar[str] = "flat"

    def __init__(self, dim: int) -> None:
        if dim <= 0:
            raise ValueError("dim must be positive")
        self._dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        # FAISS indexes are not safe for concurrent add + search.
        self._lock = threading.RLock()

    @property
    def dim(self) -> int:
        return self._dim

    def add(self, ids: IdArray, vectors: FloatArray) -> None:
        vecs = check_vectors(vectors, self._dim)
        idx = check_ids(ids, vecs.shape[0])
        if idx.size == 0:
            return
        with self._lock:
            self._index.remove_ids(faiss.IDSelectorBatch(idx))  # upsert semantics
            self._index.add_with_ids(vecs, idx)

    def remove(self, ids: IdArray) -> int:
        idx = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if idx.size == 0:
            return 0
        with self._lock:
            return int(self._index.remove_ids(faiss.IDSelectorBatch(idx)))

    def search(self, queries: FloatArray, k: int) -> tuple[FloatArray, IdArray]:
        q = check_vectors(queries, self._dim)
        if k <= 0:
            raise ValueError("k must be positive")
        with self._lock:
            n = self._index.ntotal
            if n == 0:
                return empty_result(q.shape[0], k)
            with threads_for(q.shape[0] * n):
                scores, ids = self._index.search(q, min(k, n))
        if scores.shape[1] < k:
            pad_s, pad_i = empty_result(q.shape[0], k - scores.shape[1])
            scores = np.hstack([scores, pad_s])
            ids = np.hstack([ids, pad_i])
        scores = np.where(ids < 0, -np.inf, scores).astype(np.float32)
        return scores, ids.astype(np.int64)

    def count(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> IdArray:
        with self._lock:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def vectors(self) -> FloatArray:
        """All stored vectors in `ids()` order (used when a partition is promoted to SPANN)."""
        with self._lock:
            n = self._index.ntotal
            return self._index.index.reconstruct_n(0, n) if n else np.zeros((0, self._dim), "f4")

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        with self._lock:
            blob = faiss.serialize_index(self._index)
            count = self.count()
        write_atomic(path / _DATA, blob.tobytes())
        write_manifest(path, {"kind": self.kind, "dim": self._dim, "count": count})

    @classmethod
    def load(cls, path: Path) -> FlatIndex:
        manifest = read_manifest(path)
        if manifest.get("kind") != cls.kind:
            raise IndexError_(f"{path} holds a {manifest.get('kind')!r} index, not flat")
        try:
            raw = np.fromfile(path / _DATA, dtype=np.uint8)
            index = faiss.deserialize_index(raw)
        except (OSError, RuntimeError) as exc:
            raise IndexError_(f"cannot read {path / _DATA}: {exc}") from exc
        if index.d != manifest["dim"] or index.ntotal != manifest["count"]:
            raise IndexError_(f"{path}: data does not match its manifest")
        if not isinstance(index, faiss.IndexIDMap2):
            raise IndexError_(f"{path}: unexpected FAISS index type {type(index).__name__}")
        self = cls(int(manifest["dim"]))
        self._index = index  # keep this proxy: it owns the C++ object
        return self
