"""A slot's index on disk and its rebuild from the database: the persistence half of
`memsvc.stores.indexes.IndexRegistry` (which keeps the in-memory slots, the write locks and
the promotion between index kinds).

A slot is a partition's key index or its parts index (`index_changes.split_slot_name`). Each
has a folder under `settings.index_path` (`<slug>-<sha256 of the partition>`, the parts index
in its `parts/` sub-folder) holding one sub-folder per built index (`flat-...`, `spann-...`)
and `state.json`, which names the current sub-folder and records the database version the
index reflects, its kind, dimension and size. `state.json` is replaced atomically, so a crash
mid-build leaves the previous state (or none) in place. The functions take the few things
they use (the database, the settings, a folder, the dimension), not the registry.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from memsvc.config import IndexSettings, Settings
from memsvc.db.engine import Database
from memsvc.db.models import Note
from memsvc.index.base import FloatArray, IdArray, VectorIndex, write_atomic
from memsvc.index.factory import build_index
from memsvc.stores.index_changes import MAX_PARTS, part_ids, split_slot_name

STATE = "state.json"


def slot_folder(root: Path, name: str) -> Path:
    """The folder of slot `name` under the index root."""
    partition, parts = split_slot_name(name)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", partition)[:60]
    digest = hashlib.sha256(partition.encode()).hexdigest()[:16]
    base = root / f"{slug}-{digest}"
    return base / "parts" if parts else base


def read_state(folder: Path) -> dict[str, Any]:
    """The folder's `state.json` (FileNotFoundError when there is none, ValueError when it
    does not parse)."""
    state: dict[str, Any] = json.loads((folder / STATE).read_text())
    return state


def write_state(
    folder: Path, name: str, index: VectorIndex, version: int, sub: str, dim: int
) -> None:
    """Point the folder's `state.json` at sub-folder `sub`, holding `index` at `version`."""
    folder.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {
        "partition": name,
        "version": version,
        "kind": index.kind,
        "dir": sub,
        "dim": dim,
        "count": index.count(),
    }
    write_atomic(folder / STATE, json.dumps(state, indent=2).encode())


def saved_dir(folder: Path, index: VectorIndex) -> str:
    """The sub-folder an index lives in (SPANN keeps its posting lists there): the current
    one when `state.json` names one of the same kind, else a new name."""
    try:
        state = read_state(folder)
        if state.get("kind") == index.kind and isinstance(state.get("dir"), str):
            return str(state["dir"])
    except (OSError, ValueError):
        pass
    return f"{index.kind}-{uuid.uuid4().hex[:10]}"


def kind_for(cfg: IndexSettings, n: int, current: str | None) -> str:
    """The index kind for `n` vectors: the configured one, or with `auto` flat below
    `spann_threshold` and SPANN from it."""
    kind = cfg.kind
    if kind != "auto":
        return kind
    threshold = cfg.spann_threshold
    if current == "spann":  # hysteresis: deletions near the threshold do not flip-flop
        return "spann" if n >= threshold // 2 else "flat"
    return "spann" if n >= threshold else "flat"


def vectors_from_db(db: Database, name: str, dim: int) -> tuple[IdArray, FloatArray]:
    """Every stored vector of slot `name`: note keys (by note pk) or parts (by part id)."""
    ids: list[int] = []
    blobs: list[bytes] = []
    row = dim * 4
    partition, parts = split_slot_name(name)
    column = Note.part_embeddings if parts else Note.embedding
    with db.read() as session:
        stmt = select(Note.pk, column).where(
            Note.partition == partition, Note.embedding.is_not(None), column.is_not(None)
        )
        for pk, blob in session.execute(stmt.execution_options(yield_per=5000)):
            if blob is None or not blob or len(blob) % row:
                continue
            if parts:
                n = min(len(blob) // row, MAX_PARTS)
                ids.extend(part_ids(pk, n))
                blobs.append(blob[: n * row])
            elif len(blob) == row:
                ids.append(pk)
                blobs.append(blob)
    vecs = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, dim)
    return np.asarray(ids, dtype=np.int64), vecs


def rebuild(
    name: str, version: int, *, db: Database, settings: Settings, folder: Path, dim: int
) -> VectorIndex:
    """Build slot `name` from the database into a fresh sub-folder of `folder`; `state.json`
    switches to it atomically, then the older sub-folders are removed."""
    ids, vecs = vectors_from_db(db, name, dim)
    kind = kind_for(settings.index, len(ids), current=None)
    sub = f"{kind}-{uuid.uuid4().hex[:10]}"
    index = build_index(kind, ids, vecs, dim=dim, path=folder / sub, settings=settings)
    if kind == "flat":
        index.save(folder / sub)
    write_state(folder, name, index, version, sub, dim)
    for child in folder.iterdir():
        if child.is_dir() and child.name not in {sub, "parts"}:
            shutil.rmtree(child, ignore_errors=True)
    return index
