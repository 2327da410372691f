"""The `VectorIndex` protocol every ANN backend implements, and the small helpers they share.

Conventions (all backends, checked by the congruence tests in ``tests/index``):

* vectors are ``float32`` rows of length ``dim``, L2-normalised by the caller, so the score is
  the inner product (= cosine similarity); higher is better;
* ids are caller-chosen ``int64`` values >= 0 (memsvc uses the notes' integer primary keys);
  ``add`` with an id already present replaces its vector (upsert);
* ``search`` returns ``(scores, ids)`` of shape ``(n_queries, k)``, best first, padded with
  score ``-inf`` and id ``-1`` when fewer than ``k`` vectors exist;
* ``save(path)`` leaves a complete, loadable folder; ``load(path)`` opens it again. Each
  backend writes its own ``manifest.json`` last, atomically, so a folder without a valid
  manifest is treated as missing and the caller rebuilds it from the database.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]

MANIFEST = "manifest.json"


class IndexError_(RuntimeError):
    """Raised when an index folder is missing, corrupt or of the wrong shape."""


@runtime_checkable
class VectorIndex(Protocol):
    kind: ClassVar[str]

    @property
    def dim(self) -> int: ...

    def add(self, ids: IdArray, vectors: FloatArray) -> None: ...

    def remove(self, ids: IdArray) -> int: ...

    def search(self, queries: FloatArray, k: int) -> tuple[FloatArray, IdArray]: ...

    def count(self) -> int: ...

    def ids(self) -> IdArray: ...

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> VectorIndex: ...


@runtime_checkable
class Compactable(Protocol):
    """A backend whose updates leave garbage behind (SPANN: tombstones, dead heads, blocks
    that lists moved out of) until it is compacted. The owner calls `maybe_compact` where a
    pause of the partition's writers is acceptable (the periodic save); searches go on."""

    def garbage(self) -> float: ...

    def maybe_compact(self, garbage_ratio: float) -> bool: ...


def check_vectors(vectors: Any, dim: int) -> FloatArray:
    """Return `vectors` as a C-contiguous float32 (n, dim) array or raise ValueError."""
    arr = np.ascontiguousarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"expected vectors of shape (n, {dim}), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("vectors contain NaN or inf")
    return arr


def check_ids(ids: Any, n: int | None = None) -> IdArray:
    """Return `ids` as a 1-d int64 array (optionally of length n) or raise ValueError."""
    arr = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"expected {n} ids, got {arr.shape[0]}")
    if arr.size and int(arr.min()) < 0:
        raise ValueError("ids must be >= 0")
    if np.unique(arr).size != arr.size:
        raise ValueError("ids must be unique within one call")
    return arr


def empty_result(n_queries: int, k: int) -> tuple[FloatArray, IdArray]:
    scores = np.full((n_queries, k), -np.inf, dtype=np.float32)
    ids = np.full((n_queries, k), -1, dtype=np.int64)
    return scores, ids


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file + fsync + rename, so readers never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    write_atomic(path / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise IndexError_(f"no valid manifest in {path}: {exc}") from exc
    if not isinstance(data, dict) or "kind" not in data:
        raise IndexError_(f"manifest in {path} names no index kind")
    return data
