"""The composition root: long-lived objects made once (in the app's lifespan, or by `Memory`).

Holds the database, embedder, per-partition indexes, the LLM client and the
background worker. Services never receive the runtime: the front doors (api, local, mcp, cli,
background) hand each use case the few parts it uses, and the write path its `IngestDeps`
(`ingest_deps`). It imports the stores and engines it builds, never a service: the worker that
runs services in the background is made by `memsvc.background.start`, above them, and only
handed here to be stopped.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select

from memsvc.config import EmbedSettings, IngestSettings, Settings
from memsvc.db.engine import Database
from memsvc.db.migrate import upgrade
from memsvc.db.models import Meta
from memsvc.deps import IngestDeps, MemoryDeps, RecallDeps
from memsvc.embed import CachedEmbedder, Embedder, Vectors, load_embedder
from memsvc.errors import ConfigurationError
from memsvc.llm import LLMClient
from memsvc.rerank import load_reranker
from memsvc.stores.fulltext import FullTextSearcher
from memsvc.stores.indexes import IndexRegistry
from memsvc.stores.reinforce import Reinforcer
from memsvc.text.attributes import AttributeWorkers

log = logging.getLogger(__name__)


def attribute_workers(ingest: IngestSettings, device: str, cores: int | None) -> int:
    """`ingest.cpu_workers`, or its default for this device and core count."""
    if ingest.cpu_workers is not None:
        return ingest.cpu_workers
    if not device.startswith("cuda") or not cores:
        return 0
    return max(0, min(12, cores - 2))


class Stoppable(Protocol):
    """The background worker as the runtime sees it (`memsvc.background.Worker`)."""

    def stop(self) -> None: ...


class Runtime:
    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.database)
        self._owns_embedder = embedder is None
        try:
            if settings.database.auto_migrate:
                upgrade(self.db.engine)
            self.embedder: Embedder = embedder or load_embedder(settings.embed)
            self._check_embedding_space()
            self.indexes = IndexRegistry(settings, self.db, self.embedder.dim)
            self.llm = LLMClient(settings.llm)
            self.reinforcer = Reinforcer()
            self.fulltext = FullTextSearcher(self.db, settings.recall.lexical_threads)
            self.reranker = load_reranker(settings.rerank, device=settings.embed.device)
            self.attributes = AttributeWorkers(
                attribute_workers(settings.ingest, settings.embed.device, os.cpu_count()),
                memo=settings.ingest.attribute_memo,
            )
        except Exception:
            self.db.dispose()
            raise
        self.worker: Stoppable | None = None

    def _check_embedding_space(self) -> None:
        """Refuse to start when the database holds vectors from another model or dimension:
        mixing them would silently return garbage similarities."""
        model, dim = self.embedder.model_name, self.embedder.dim
        with self.db.write() as session:
            stored = {key: value for key, value in session.execute(select(Meta.key, Meta.value))}
            if "embed_dim" not in stored:
                session.add_all(
                    [Meta(key="embed_model", value=model), Meta(key="embed_dim", value=str(dim))]
                )
                return
        if int(stored["embed_dim"]) != dim or stored.get("embed_model") != model:
            raise ConfigurationError(
                f"the database at {self.settings.database.url} holds {stored['embed_dim']}-d "
                f"embeddings from model {stored.get('embed_model')!r}, but the configured model "
                f"{model!r} produces {dim}-d embeddings. Use the original model "
                "(MEMSVC_EMBED__MODEL) or point MEMSVC_DATA_DIR / MEMSVC_DATABASE__URL at a new "
                "store."
            )

    def ingest_deps(self) -> IngestDeps:
        """What the write path (ingest, thoughts, the LLM job queue) uses; made per call, so a
        `with_settings` view hands out its own settings and embedder."""
        return IngestDeps(
            settings=self.settings,
            db=self.db,
            indexes=self.indexes,
            embedder=self.embedder,
            llm=self.llm,
            attributes=self.attributes,
        )

    def recall_deps(self) -> RecallDeps:
        """What recall uses; made per call, like `ingest_deps`."""
        return RecallDeps(
            settings=self.settings,
            embedder=self.embedder,
            indexes=self.indexes,
            reinforcer=self.reinforcer,
            reranker=self.reranker,
            fulltext=self.fulltext,
        )

    def memory_deps(self) -> MemoryDeps:
        """What editing and deleting one memory use; made per call, like `ingest_deps`."""
        return MemoryDeps(
            settings=self.settings,
            indexes=self.indexes,
            embedder=self.embedder,
        )

    def with_settings(self, settings: Settings, *, embedder: Embedder | None = None) -> Runtime:
        """A shallow copy reading `settings` (and `embedder`, if given) while sharing the
        database, indexes, LLM client, reinforcement buffer and attribute workers (the
        original's `ingest.cpu_workers` and memo, whatever the view's say); it starts and owns
        nothing, so only the original may be closed. The full-text searcher (its threads) is
        shared too."""
        view = copy.copy(self)
        view.settings = settings
        view.worker = None
        view._owns_embedder = False
        if embedder is not None:
            view.embedder = embedder
        if settings.rerank != self.settings.rerank:  # a search-time setting: its own model
            view.reranker = load_reranker(settings.rerank, device=settings.embed.device)
        return view

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        try:
            self.reinforcer.flush(self.db)
        except Exception:  # reinforcement is best effort; never block shutdown on it
            log.exception("could not write pending reinforcements")
        self.llm.close()
        self.attributes.close()
        self.fulltext.close()
        try:
            self.indexes.close()
        finally:
            if self._owns_embedder:
                close = getattr(self.embedder, "close", None)
                if close is not None:
                    close()
            self.db.dispose()


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
    """A runtime for maintenance from the command line (`memsvc decay`, `memsvc reindex`),
    which loads the embedding model only if something is embedded (the sweep and index
    rebuilds never embed). When the store already names the configured model, its embedder is
    lazy; otherwise (a new store, another model) the model is loaded now, so the runtime's
    check of the embedding space runs as at any start. Close both when done."""
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
