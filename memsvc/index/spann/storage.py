"""The index folder: lock, file naming, save and load with consistency checks.

Folder layout (``gen`` changes at build/compaction, ``seq`` at every save)::

    LOCK                         flock held by the process that has the index open
    manifest.json                written last, atomically: the only entry point
    postings-<gen>.bin           posting blocks (append-only within a generation)
    heads-<gen>.f32              head vectors, append-only within a generation
    graph-<gen>-<seq>.faiss      HNSW over a prefix of the heads (HNSW head index only)
    meta-<gen>-<seq>.npz         offset table, head liveness, slot -> id map, tombstones

A save fsyncs the append-only files, writes the new meta/graph under fresh names, then the
manifest; files the manifest no longer names are deleted afterwards. Since saved bytes are
never overwritten (see postings.py), a crash at any point leaves the previous manifest
loadable; `load` verifies sizes and CRCs and raises `IndexError_` on any mismatch."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memsvc.index.base import (
    MANIFEST,
    IndexError_,
    fsync_dir,
    read_manifest,
    write_atomic,
    write_manifest,
)
from memsvc.index.spann.core import Core, head_kind
from memsvc.index.spann.heads import HeadIndex
from memsvc.index.spann.idmap import IdMap
from memsvc.index.spann.params import SpannParams
from memsvc.index.spann.postings import PostingStore

FORMAT = 1
LOCK = "LOCK"
# Verify every list's CRC on load up to this posting-file size; sample lists beyond it.
VERIFY_ALL_BYTES = 1 << 30
VERIFY_SAMPLE = 512
# Rewrite the HNSW graph once this share of the heads is missing from the saved one.
GRAPH_STALE = 0.1
_OURS = re.compile(r"^(postings|heads|graph|meta)-[0-9-]+\.(bin|f32|faiss|npz)(\.tmp)?$")
# Fields that only steer search/updates and may differ from the build's (given to load()).
RUNTIME_FIELDS = (
    "max_probe",
    "probe_ratio",
    "io",
    "hnsw_ef_search",
    "device",
    "gpu_min_batch",
    "merge_size",
    "reassign_neighbors",
)


class IndexBusyError(RuntimeError):
    """The folder is locked by another open index (this or another process)."""


class FolderLock:
    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._fd)
            raise IndexBusyError(f"{path} is open elsewhere") from exc

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


@dataclass
class Persist:
    """What the last save wrote, so the next one appends instead of rewriting."""

    gen: int = 1
    seq: int = 0
    heads_rows: int = 0
    heads_crc: int = 0
    graph_file: str | None = None
    graph_rows: int = 0
    graph_crc: int = 0

    @property
    def postings(self) -> str:
        return f"postings-{self.gen:06d}.bin"

    @property
    def heads(self) -> str:
        return f"heads-{self.gen:06d}.f32"


def clear_folder(path: Path) -> None:
    """Remove a previous index: manifest first, so a crash midway leaves no loadable half."""
    with contextlib.suppress(FileNotFoundError):
        (path / MANIFEST).unlink()
        fsync_dir(path)
    for f in path.iterdir():
        if _OURS.match(f.name):
            f.unlink()


def _cleanup(path: Path, keep: set[str]) -> None:
    for f in path.iterdir():
        if _OURS.match(f.name) and f.name not in keep:
            with contextlib.suppress(FileNotFoundError):
                f.unlink()


def save(core: Core, path: Path, st: Persist, user: dict[str, Any]) -> None:
    """Persist `core` into its folder `path` (the caller holds the writer lock)."""
    core.store.sync()
    n_heads = len(core.heads)
    d = core.dim
    if n_heads > st.heads_rows:
        new = core.heads.vectors()[st.heads_rows : n_heads].tobytes()
        fd = os.open(path / st.heads, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, new, st.heads_rows * d * 4)
            os.fsync(fd)
        finally:
            os.close(fd)
        st.heads_crc = zlib.crc32(new, st.heads_crc)
        st.heads_rows = n_heads
    seq = st.seq + 1
    if core.heads.kind == "hnsw" and (
        st.graph_file is None or n_heads - st.graph_rows > GRAPH_STALE * n_heads
    ):
        blob = core.heads.serialize()
        st.graph_file = f"graph-{st.gen:06d}-{seq:06d}.faiss"
        write_atomic(path / st.graph_file, blob)
        st.graph_rows, st.graph_crc = n_heads, zlib.crc32(blob)
    if core.heads.kind != "hnsw":
        st.graph_file = None
    buf = io.BytesIO()
    np.savez(
        buf,
        head_alive=core.heads.alive.copy(),
        slot_ext=core.slot_ext[: core.n_slots],
        slot_alive=core.slot_alive[: core.n_slots],
        **core.store.tables(),  # type: ignore[arg-type]
    )
    meta = buf.getvalue()
    meta_file = f"meta-{st.gen:06d}-{seq:06d}.npz"
    write_atomic(path / meta_file, meta)
    manifest = {
        "kind": "spann",
        "format": FORMAT,
        "dim": d,
        "params": core.params.model_dump(),
        "count": core.n_live,
        "gen": st.gen,
        "seq": seq,
        "head_index": core.heads.kind,
        "postings": {"file": st.postings, "used": core.store.used},
        "heads": {"file": st.heads, "rows": n_heads, "crc": st.heads_crc},
        "graph": None
        if st.graph_file is None
        else {"file": st.graph_file, "rows": st.graph_rows, "crc": st.graph_crc},
        "meta": {"file": meta_file, "crc": zlib.crc32(meta), "bytes": len(meta)},
        "user": user,
    }
    write_manifest(path, manifest)
    st.seq = seq
    _cleanup(
        path, {st.postings, st.heads, meta_file} | ({st.graph_file} if st.graph_file else set())
    )


def _read_checked(file: Path, nbytes: int | None, crc: int) -> bytes:
    with open(file, "rb") as fh:
        data = fh.read() if nbytes is None else fh.read(nbytes)
    if nbytes is not None and len(data) != nbytes:
        raise IndexError_(f"{file.name} is truncated ({len(data)} of {nbytes} bytes)")
    if zlib.crc32(data) != crc:
        raise IndexError_(f"{file.name} fails its checksum")
    return data


def load(path: Path, override: SpannParams | None) -> tuple[Core, Persist, dict[str, Any]]:
    """Open the folder's saved snapshot, verified; any inconsistency raises IndexError_."""
    m = read_manifest(path)
    if m.get("kind") != "spann" or m.get("format") != FORMAT:
        raise IndexError_(f"{path}: not a format-{FORMAT} spann index")
    try:
        return _load(path, m, override)
    except IndexError_:
        raise
    except Exception as exc:  # any unreadable piece means "rebuild from the database"
        raise IndexError_(f"{path}: {type(exc).__name__}: {exc}") from exc


def _load(
    path: Path, m: dict[str, Any], override: SpannParams | None
) -> tuple[Core, Persist, dict[str, Any]]:
    params = SpannParams.model_validate(m["params"])
    if override is not None:
        params = params.model_copy(update={f: getattr(override, f) for f in RUNTIME_FIELDS})
    dim = int(m["dim"])
    meta = _read_checked(path / m["meta"]["file"], int(m["meta"]["bytes"]), int(m["meta"]["crc"]))
    with np.load(io.BytesIO(meta), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    n_heads = int(m["heads"]["rows"])
    st = Persist(
        gen=int(m["gen"]), seq=int(m["seq"]), heads_rows=n_heads, heads_crc=int(m["heads"]["crc"])
    )
    raw = _read_checked(path / st.heads, n_heads * dim * 4, st.heads_crc) if n_heads else b""
    head_vecs = np.frombuffer(raw, dtype=np.float32).reshape(n_heads, dim)
    graph = None
    if m.get("graph"):
        g = m["graph"]
        graph = _read_checked(path / g["file"], None, int(g["crc"]))
        st.graph_file, st.graph_rows, st.graph_crc = g["file"], int(g["rows"]), int(g["crc"])
    tables = {k: arrays[k] for k in PostingStore._TABLES}
    n_slots = int(arrays["slot_ext"].shape[0])
    if any(t.shape != (n_heads,) for t in tables.values()) or arrays["head_alive"].shape != (
        n_heads,
    ):
        raise IndexError_(f"{path}: list tables do not match {n_heads} heads")
    if arrays["slot_alive"].shape != (n_slots,):
        raise IndexError_(f"{path}: slot arrays disagree")
    used = int(m["postings"]["used"])
    kind = m.get("head_index", head_kind(params, n_heads))
    heads = HeadIndex.from_parts(
        dim, kind, head_vecs, graph, m=params.hnsw_m, ef_construction=params.hnsw_ef_construction
    )
    heads.set_alive(arrays["head_alive"].astype(np.bool_))
    try:
        store = PostingStore(
            path / st.postings,
            row_bytes=dim * params.itemsize,
            page=params.page_size,
            io=params.io,
            create=False,
            used=used,
        )
    except ValueError as exc:
        raise IndexError_(f"{path}: {exc}") from exc
    try:
        store.set_tables(tables)
        _check_store(store, n_slots, used)
    except Exception:
        store.close()
        raise
    alive = arrays["slot_alive"].astype(np.bool_)
    core = Core(
        dim=dim,
        params=params,
        store=store,
        heads=heads,
        slot_ext=arrays["slot_ext"].astype(np.int64),
        slot_alive=alive,
        n_slots=n_slots,
        n_live=int(alive.sum()),
        idmap=IdMap.from_slots(arrays["slot_ext"].astype(np.int64), alive),
    )
    if core.n_live != int(m["count"]):
        store.close()
        raise IndexError_(f"{path}: {core.n_live} live vectors, manifest says {m['count']}")
    _cleanup(
        path,
        {st.postings, st.heads, m["meta"]["file"]} | ({st.graph_file} if st.graph_file else set()),
    )
    return core, st, dict(m.get("user") or {})


def _check_store(store: PostingStore, n_slots: int, used: int) -> None:
    if (store.count < 0).any() or (store.count > store.cap).any():
        raise IndexError_("posting counts exceed their capacities")
    has = np.flatnonzero(store.cap[: store.n_lists] > 0)
    ends = (
        store.codes_offset(store.offset[has], store.cap[has])
        + store.cap[has].astype(np.int64) * store.row_bytes
    )
    if has.size and ((store.offset[has] % store.page).any() or int(ends.max()) > used):
        raise IndexError_("posting blocks lie outside the file")
    todo = np.flatnonzero(store.count[: store.n_lists] > 0)
    if used > VERIFY_ALL_BYTES and todo.size > VERIFY_SAMPLE:
        todo = np.sort(np.random.default_rng(0).choice(todo, VERIFY_SAMPLE, replace=False))
    bad = store.verify(todo)
    if bad:
        raise IndexError_(f"{len(bad)} posting lists fail their checksums (first: {bad[0]})")
    for s in range(0, todo.size, 4096):
        slots, _, _ = store.read(todo[s : s + 4096], via_pread=True)
        if slots.size and (int(slots.min()) < 0 or int(slots.max()) >= n_slots):
            raise IndexError_("posting entries name unknown slots")
