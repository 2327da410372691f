"""Caching around any `Embedder`: an LRU for queries and an optional on-disk store for documents.

The disk store is keyed by sha256(model name + text), so re-ingesting the same text (eval
reruns, a user re-sending history) costs a lookup instead of a forward pass. It is a small
SQLite file: safe across threads and processes, written in one transaction per batch.
A setting that changes a text's vector without changing the model (`embed.max_seq_length`
truncates long texts) is part of the key too (`variant`, from `memsvc.embed.variant_of`), so
one cache folder shared by several settings never hands one setting's vectors to another.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memsvc.embed.base import Embedder, Vectors


class CachedEmbedder:
    def __init__(
        self,
        inner: Embedder,
        *,
        query_cache_size: int = 4096,
        cache_dir: Path | None = None,
        variant: str = "",
    ) -> None:
        self.inner = inner
        self.variant = variant
        self._qcache: OrderedDict[str, Vectors] = OrderedDict()
        self._qsize = query_cache_size
        self._qlock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._dblock = threading.Lock()
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(cache_dir / "embeddings.sqlite", check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)"
            )
            self._db.commit()
        self.hits = 0
        self.misses = 0

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _key(self, text: str) -> str:
        space = f"{self.model_name}\x00{self.variant}" if self.variant else self.model_name
        return hashlib.sha256(f"{space}\x00{text}".encode()).hexdigest()

    def embed(self, texts: Sequence[str]) -> Vectors:
        if self._db is None or not texts:
            return self.inner.embed(texts)
        keys = [self._key(t) for t in texts]
        found: dict[str, bytes] = {}
        with self._dblock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, vec FROM emb WHERE key IN ({marks})", chunk)
                found.update(rows.fetchall())
        todo = [i for i, k in enumerate(keys) if k not in found]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            if k in found:
                out[i] = np.frombuffer(found[k], dtype=np.float32)
        if todo:
            fresh = self.inner.embed([texts[i] for i in todo])
            out[todo] = fresh
            with self._dblock:
                self._db.executemany(
                    "INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)",
                    [(keys[i], fresh[j].tobytes()) for j, i in enumerate(todo)],
                )
                self._db.commit()
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        return out

    def embed_query(self, text: str) -> Vectors:
        with self._qlock:
            vec = self._qcache.get(text)
            if vec is not None:
                self._qcache.move_to_end(text)
                return vec
        vec = self.inner.embed_query(text)
        vec.setflags(write=False)  # shared between callers: nobody may modify it in place
        with self._qlock:
            self._qcache[text] = vec
            if len(self._qcache) > self._qsize:
                self._qcache.popitem(last=False)
        return vec

    @property
    def documents_state(self) -> str:
        """The wrapped embedder's document model state (see
        `SentenceTransformerEmbedder.documents_state`); "loaded" if it has no such notion."""
        state = getattr(self.inner, "documents_state", "loaded")
        return str(state)

    @property
    def query_engine(self) -> str:
        """What embeds queries ("onnx", "onnx-int8", "torch"; "unknown" for an embedder that
        does not say), for readiness: a copy that failed its check shows as its fallback."""
        return str(getattr(self.inner, "query_engine", "unknown"))

    def preload(self) -> None:
        """Lets the wrapped embedder start loading what it loads lazily (see
        `SentenceTransformerEmbedder.preload`); returns at once."""
        preload = getattr(self.inner, "preload", None)
        if preload is not None:
            preload()

    def close(self) -> None:
        if self._db is not None:
            with self._dblock:
                self._db.close()
                self._db = None
        close_inner = getattr(self.inner, "close", None)
        if close_inner is not None:
            close_inner()
