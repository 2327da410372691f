"""What a use case needs when it needs many collaborators, named in one small frozen group.

Most use cases take their few collaborators as keyword arguments (a Session, the index
registry, the embedder, ...). Storing memories uses nearly every long-lived object, so
ingest, thoughts and the LLM job queue (which finishes an ingest later) take one `IngestDeps`
instead of six arguments; recall, which reads through six, takes one `RecallDeps`; editing
and deleting one memory, which three front doors call, take one `MemoryDeps`. The
composition root builds them (`memsvc.runtime.Runtime.ingest_deps`, `.recall_deps`,
`.memory_deps`); they live below the runtime so that services can name them without
importing the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from memsvc.config import Settings
from memsvc.db.engine import Database
from memsvc.embed import Embedder
from memsvc.llm import LLMClient
from memsvc.rerank import Reranker
from memsvc.stores.fulltext import FullTextSearcher
from memsvc.stores.indexes import IndexRegistry
from memsvc.stores.reinforce import Reinforcer
from memsvc.text.attributes import AttributeWorkers


@dataclass(frozen=True)
class IngestDeps:
    """The write path's collaborators: settings (api limits, ingest, llm), the database (read
    sessions for planning, outside the caller's write session), vector indexes, the embedder,
    the LLM client and the offline-attribute workers."""

    settings: Settings
    db: Database
    indexes: IndexRegistry
    embedder: Embedder
    llm: LLMClient
    attributes: AttributeWorkers


@dataclass(frozen=True)
class RecallDeps:
    """The read path's collaborators: settings (recall, index, rerank, decay), the embedder
    for the query, vector indexes, the reinforcement buffer recall writes to and
    the optional second-stage reranker, and the full-text searcher that starts a query's
    full-text stage beside its embedding."""

    settings: Settings
    embedder: Embedder
    indexes: IndexRegistry
    reinforcer: Reinforcer
    reranker: Reranker | None
    fulltext: FullTextSearcher


@dataclass(frozen=True)
class MemoryDeps:
    """What editing or deleting one memory uses: settings (the add's limits, how a new text
    is keyed and split), vector indexes and the embedder for a new text."""

    settings: Settings
    indexes: IndexRegistry
    embedder: Embedder
