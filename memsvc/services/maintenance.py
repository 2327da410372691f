"""Maintenance from the command line (`memsvc decay`, `memsvc reindex`): a runtime that loads
the embedding model only if something is embedded (the sweep and index rebuilds never embed),
and rebuilding the vector indexes from the database."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from sqlalchemy import select

from memsvc.config import EmbedSettings, Settings
from memsvc.db.engine import Database
from memsvc.db.models import Meta, Note
from memsvc.embed import CachedEmbedder, Vectors, load_embedder
from memsvc.runtime import Runtime
from memsvc.stores.index_changes import PARTS_SUFFIX


class LazyEmbedder:
    """The configured model, loaded at its first use. Name and size come from the store, which
    records the model its vectors were made with."""

    def __init__(self, settings: EmbedSettings, model_name: str, dim: int) -> None:
        self._settings, self._name, self._dim = settings, model_name, dim
        self._inner: CachedEmbedder | None = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def loaded(self) -> bool:
        return self._inner is not None

    def _model(self) -> CachedEmbedder:
        with self._lock:
            if self._inner is None:
                self._inner = load_embedder(self._settings)
            return self._inner

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._model().embed(texts)

    def embed_query(self, text: str) -> Vectors:
        return self._model().embed_query(text)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()


def maintenance_runtime(settings: Settings) -> tuple[Runtime, LazyEmbedder | None]:
    """A runtime for maintenance. When the store already names the configured model, its
    embedder is lazy; otherwise (a new store, another model) the model is loaded now, so the
    runtime's check of the embedding space runs as at any start. Close both when done."""
    db = Database(settings.database)
    try:
        with db.read() as session:
            meta = dict(session.execute(select(Meta.key, Meta.value)).all())
    except Exception:  # no tables yet: the runtime migrates and needs the real model
        meta = {}
    finally:
        db.dispose()
    lazy = None
    if meta.get("embed_model") == settings.embed.model and meta.get("embed_dim"):
        lazy = LazyEmbedder(settings.embed, settings.embed.model, int(meta["embed_dim"]))
    return Runtime(settings, embedder=lazy), lazy


def reindex(
    rt: Runtime,
    *,
    partitions: Sequence[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Throw away the vector indexes of `partitions` (default: every partition with notes)
    and build them again from the vectors stored in the database; returns notes per
    partition. Nothing is embedded."""
    if partitions is None:
        with rt.db.read() as session:
            partitions = sorted(session.scalars(select(Note.partition).distinct()))
    counts: dict[str, int] = {}
    for partition in partitions:
        rt.indexes.drop(partition)  # memory and folder, the parts index too
        counts[partition] = rt.indexes.count(partition)  # rebuilt from the database
        rt.indexes.count(partition + PARTS_SUFFIX)
        if progress is not None:
            progress(partition, counts[partition])
    return counts
