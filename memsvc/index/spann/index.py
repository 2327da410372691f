"""`SpannIndex`: the SPANN backend of `VectorIndex` (heads in RAM, posting lists on disk,
SPFresh-style online updates, crash-safe folder, optional CUDA search).

Threading: any number of concurrent `search` calls with one mutation at a time (`add`,
`remove`, `save`, `compact` serialise among themselves and exclude searches only while they
change shared state)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from memsvc.index.base import FloatArray, IdArray, check_ids, check_vectors
from memsvc.index.spann import compact as _compact
from memsvc.index.spann import inplace, storage
from memsvc.index.spann.batch import search_batch
from memsvc.index.spann.build import bulk_load
from memsvc.index.spann.core import Core, new_heads
from memsvc.index.spann.params import SpannParams
from memsvc.index.spann.postings import PostingStore
from memsvc.index.spann.search import search_cpu
from memsvc.index.spann.updates import drain, place

if TYPE_CHECKING:  # imported where used: the GPU path loads only when a search takes it
    from memsvc.index.spann.gpu import SpannGpuMirror

# Vectors per write-lock hold in `add`: bounds how long a bulk add blocks searches.
_ADD_CHUNK = 512


class SpannIndex:
    kind: ClassVar[str] = "spann"

    def __init__(
        self, core: Core, path: Path, lock: storage.FolderLock, st: storage.Persist
    ) -> None:
        """Use `create`, `build` or `load`."""
        self._core = core
        self._path = path
        self._lock: storage.FolderLock | None = lock
        self._st = st
        # Free-form JSON-able values saved in the manifest (e.g. the service's sync watermark).
        self.user_meta: dict[str, Any] = {}
        self._gpu: SpannGpuMirror | None = None

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def create(cls, dim: int, path: Path, params: SpannParams | None = None) -> SpannIndex:
        """An empty index in folder `path` (any previous index there is removed)."""
        if dim <= 0:
            raise ValueError("dim must be positive")
        params = params or SpannParams()
        path = Path(path)
        lock = storage.FolderLock(path)
        try:
            storage.clear_folder(path)
            st = storage.Persist()
            store = PostingStore(
                path / st.postings,
                row_bytes=dim * params.itemsize,
                page=params.page_size,
                io=params.io,
                create=True,
            )
            core = Core(dim=dim, params=params, store=store, heads=new_heads(params, dim, 0))
        except BaseException:
            lock.release()
            raise
        return cls(core, path, lock, st)

    @classmethod
    def build(
        cls, ids: IdArray, vectors: FloatArray, path: Path, params: SpannParams | None = None
    ) -> SpannIndex:
        """Bulk-build from unit-length float32 `vectors` into folder `path`, saved on return."""
        vecs = np.asarray(vectors)
        if vecs.ndim != 2:
            raise ValueError(f"expected (n, dim) vectors, got shape {vecs.shape}")
        vecs = check_vectors(vecs, vecs.shape[1])
        idx = check_ids(ids, vecs.shape[0])
        self = cls.create(vecs.shape[1], path, params)
        try:
            with self._core.writer:
                bulk_load(self._core, idx, vecs)
                self.save(self._path)
        except BaseException:
            self.close()
            raise
        return self

    @classmethod
    def load(cls, path: Path, params: SpannParams | None = None) -> SpannIndex:
        """Open a saved folder (raises `IndexError_` if it is missing or inconsistent). Search
        and update knobs of `params` (storage.RUNTIME_FIELDS) override the saved ones."""
        path = Path(path)
        lock = storage.FolderLock(path)
        try:
            core, st, user = storage.load(path, params)
        except BaseException:
            lock.release()
            raise
        self = cls(core, path, lock, st)
        self.user_meta = user
        return self

    # --- VectorIndex ----------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self._core.dim

    @property
    def params(self) -> SpannParams:
        return self._core.params

    @property
    def path(self) -> Path:
        return self._path

    def add(self, ids: IdArray, vectors: FloatArray) -> None:
        """Upsert: an id already present gets the new vector (its old replicas die)."""
        vecs = check_vectors(vectors, self.dim)
        idx = check_ids(ids, vecs.shape[0])
        core = self._core
        with core.writer:
            for s in range(0, idx.size, _ADD_CHUNK):
                ext, v = idx[s : s + _ADD_CHUNK], vecs[s : s + _ADD_CHUNK]
                with core.rw.write():
                    old = core.idmap.get(ext)
                    core.kill_slots(old[old >= 0])
                    drain(core, place(core, core.alloc_slots(ext), v))
                    core.version += 1

    def remove(self, ids: IdArray) -> int:
        idx = np.unique(np.asarray(ids, dtype=np.int64).reshape(-1))
        core = self._core
        with core.writer, core.rw.write():
            slots = core.idmap.get(idx)
            hit = slots >= 0
            core.kill_slots(slots[hit])
            core.forget(idx[hit])
            core.version += 1
            return int(hit.sum())

    def search(
        self,
        queries: FloatArray,
        k: int,
        *,
        max_probe: int | None = None,
        probe_ratio: float | None = None,
        device: str | None = None,
        threads: int = 1,
    ) -> tuple[FloatArray, IdArray]:
        """Top-k (scores, ids) per query; probing knobs default to the index's params. On the
        CPU, memory-mapped fp16 postings are scanned in place, a batch in one FAISS call
        (`inplace`: the same results as one query at a time); pread mode runs a batch chunk by
        chunk in FAISS (`batch.search_batch_copy`); `threads` > 1 spreads parts of the batch
        over a thread pool."""
        q = check_vectors(queries, self.dim)
        if k <= 0:
            raise ValueError("k must be positive")
        p = self._core.params
        mp = p.max_probe if max_probe is None else int(max_probe)
        pr = p.probe_ratio if probe_ratio is None else float(probe_ratio)
        with self._core.rw.read():
            if self._use_gpu(device or p.device, q.shape[0]):
                return self._gpu_mirror().search(q, k, mp, pr)
            # With a flat head index (fewer than `hnsw_threshold` heads) the batch path must use
            # FAISS's one-query head kernel to stay identical to single queries, and measured
            # slower than the plain loop (744 vs 1,158 QPS at 50k vectors, bench/README.md);
            # `search_cpu` searches a batch's heads with one BLAS call instead.
            if q.shape[0] == 1 or self._core.heads.kind == "flat":
                return search_cpu(self._core, q, k, mp, pr, threads)
            return search_batch(self._core, q, k, mp, pr, threads)

    def count(self) -> int:
        return self._core.n_live

    def ids(self) -> IdArray:
        with self._core.rw.read():
            return self._core.live_ids()

    def save(self, path: Path) -> None:
        """Persist into this index's own folder. Given another folder, write a compacted,
        independent copy there instead; this index stays attached to its own folder."""
        path = Path(path)
        with self._core.writer:
            if path.resolve() == self._path.resolve():
                storage.save(self._core, self._path, self._st, self.user_meta)
                return
            lock = storage.FolderLock(path)
            try:
                storage.clear_folder(path)
                st = storage.Persist()
                copy = _compact.rewrite(self._core, path / st.postings)
                try:
                    storage.save(copy, path, st, self.user_meta)
                finally:
                    copy.store.close()
            finally:
                lock.release()

    # --- maintenance ------------------------------------------------------------------------
    def compact(self) -> None:
        """Merge tiny lists, drop tombstones and dead heads into a new generation, and save.
        Searches continue meanwhile; other mutations wait."""
        core = self._core
        with core.writer:
            # Counting reads every list: done outside the write lock (the writer lock already
            # keeps other mutations out), so searches only pause for the merges themselves.
            counts = _compact.live_counts(core)
            with core.rw.write():
                _compact.merge_small(core, counts)
                core.version += 1
            st = storage.Persist(gen=self._st.gen + 1, seq=self._st.seq)
            new = _compact.rewrite(core, self._path / st.postings)
            try:
                storage.save(new, self._path, st, self.user_meta)
            except BaseException:
                new.store.close()
                raise
            with core.rw.write():
                old, self._core, self._st = core, new, st
            old.store.close()

    def garbage(self) -> float:
        """The largest share of what compaction would drop: tombstoned slots (ids still held
        in RAM), dead heads (searched past with a selector) or posting-file bytes in blocks
        that lists moved out of (a list whose block is full moves to a new one at the end of
        the file; appends alone leave that much behind)."""
        core = self._core
        with core.rw.read():
            n = len(core.heads)
            dead = (n - int(core.heads.alive.sum())) / max(1, n)
            tomb = (core.n_slots - core.n_live) / max(1, core.n_slots)
            used = core.store.used
            moved = (used - core.store.block_bytes()) / used if used else 0.0
        return max(dead, tomb, moved)

    def maybe_compact(self, garbage_ratio: float = 0.3) -> bool:
        """Compact if `garbage()` exceeds `garbage_ratio`; True if it did."""
        if self.garbage() > garbage_ratio:
            self.compact()
            return True
        return False

    def stats(self) -> dict[str, Any]:
        core = self._core
        with core.rw.read():
            n = len(core.heads)
            alive = core.heads.alive
            counts = core.store.count[:n][alive]
            disk = sum(f.stat().st_blocks * 512 for f in self._path.iterdir() if f.is_file())
            return {
                "kind": self.kind,
                "count": core.n_live,
                "lists": int(alive.sum()),
                "heads": n,
                "dead_heads": n - int(alive.sum()),
                "avg_list_len": float(counts.mean()) if counts.size else 0.0,
                "entries": int(counts.sum()),
                "tombstones": core.n_slots - core.n_live,
                "bytes_on_disk": int(disk),
                "posting_bytes": int(core.store.used),
                "posting_bytes_in_use": core.store.block_bytes(),
                "ram_bytes": core.ram_bytes(),
                "head_index": core.heads.kind,
                "dtype": core.params.dtype,
                "generation": self._st.gen,
            }

    # --- GPU ----------------------------------------------------------------------------------
    def _use_gpu(self, device: str, n_queries: int) -> bool:
        if device == "cpu" or (device == "auto" and n_queries < self._core.params.gpu_min_batch):
            return False
        from memsvc.index.spann.gpu import cuda_available

        if not cuda_available():
            if device == "cuda":
                raise RuntimeError("device='cuda' but no CUDA device is available")
            return False
        return True

    def _gpu_mirror(self) -> SpannGpuMirror:
        from memsvc.index.spann.gpu import SpannGpuMirror

        mirror = self._gpu
        if mirror is None or mirror.version != self._core.version:
            mirror = SpannGpuMirror.from_core(self._core)
            self._gpu = mirror
        return mirror

    # --- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the posting file, the GPU copy and the folder lock (no implicit save)."""
        if self._lock is None:
            return
        with self._core.writer:
            self._core.store.close()
            inplace.release(self._core)
            self._gpu = None
            self._lock.release()
            self._lock = None

    def __enter__(self) -> SpannIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SpannIndex(dim={self.dim}, count={self.count()}, path={os.fspath(self._path)!r})"
