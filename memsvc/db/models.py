"""ORM tables. The database is the source of truth; the vector index is derived from `notes`.

* `episodes`: every ingested message, verbatim, with its event time. Written once, never updated.
* `notes`: the memories (A-MEM notes): content + attributes + embedding + decay/TiM state.
* `note_history`: one row per change of a note (create, update, merge, supersede, forget, ...).
* `note_links`: A-MEM links between notes (and thought -> source provenance).
* `partitions`: one row per index partition, with a version bumped by every index-affecting
  change so a saved index folder can tell whether it is stale.
* `jobs`: the durable queue for work done after the acknowledgement (LLM enrichment).
* `meta`: key/value facts about the store (embedding model and dimension).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from memsvc.db.base import Base, BigIntPK, JSONType, UTCDateTime, utcnow

ID = String(36)


def new_uuid() -> str:
    return str(uuid.uuid4())


SCOPE = String(255)


class Episode(Base):
    __tablename__ = "episodes"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True, default=new_uuid, insert_sentinel=True)
    namespace: Mapped[str] = mapped_column(SCOPE)
    partition: Mapped[str] = mapped_column(String(600))
    user_id: Mapped[str | None] = mapped_column(SCOPE)
    agent_id: Mapped[str | None] = mapped_column(SCOPE)
    session_id: Mapped[str | None] = mapped_column(SCOPE)
    role: Mapped[str] = mapped_column(String(32))
    # The speaker's name (a message's optional `name`): who said it among people or a group.
    name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content: Mapped[str] = mapped_column(Text)
    event_time: Mapped[datetime] = mapped_column(UTCDateTime())
    seq: Mapped[int] = mapped_column(Integer, default=0)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_episodes_partition_session", "partition", "session_id"),
        # Is a name a speaker in this partition? (recall's speaker-free query, migration 0012)
        Index("ix_episodes_partition_name", "partition", "name"),
    )


class Note(Base):
    __tablename__ = "notes"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True, default=new_uuid, insert_sentinel=True)
    namespace: Mapped[str] = mapped_column(SCOPE)
    partition: Mapped[str] = mapped_column(String(600))
    user_id: Mapped[str | None] = mapped_column(SCOPE)
    agent_id: Mapped[str | None] = mapped_column(SCOPE)
    session_id: Mapped[str | None] = mapped_column(SCOPE)
    kind: Mapped[str] = mapped_column(String(16), default="turn")
    role: Mapped[str | None] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    context: Mapped[str] = mapped_column(Text, default="")
    facts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The merged A-MEM key as text: what the lexical index (FTS5 / tsvector) searches.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    slots: Mapped[list[list[str]]] = mapped_column(JSONType, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    episode_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Sentence-level parts of the note (the user's sentences of a round) and their vectors
    # (n x dim float32, row-major): recall scores a long note on its best-matching part.
    # Deferred: recall loads hundreds of candidate rows and needs neither.
    part_texts: Mapped[list[str] | None] = mapped_column(JSONType, default=list, deferred=True)
    part_embeddings: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    embed_model: Mapped[str | None] = mapped_column(String(255))
    embed_dim: Mapped[int | None] = mapped_column(Integer)
    # Bitemporal: event/valid time (when it happened / was true) vs created_at (when we learned it).
    event_time: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    superseded_by: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(16), default="active")
    enrichment: Mapped[str] = mapped_column(String(16), default="offline")
    # MemoryBank state: strength S and the (event-clock) time of the last recall.
    strength: Mapped[float] = mapped_column(Float, default=1.0)
    last_recalled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recall_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_notes_partition_status", "partition", "status"),
        Index("ix_notes_partition_hash", "partition", "content_hash"),
        Index("ix_notes_user", "namespace", "user_id"),
        # Recall's neighbour and time-range stages (migration 0010).
        Index("ix_notes_partition_session", "partition", "session_id", "event_time"),
        Index("ix_notes_partition_event_time", "partition", "event_time"),
        # A note's pk keys every derived cache (indexes, link graph, reinforcement buffer).
        # SQLite without AUTOINCREMENT hands a deleted highest pk to the next insert, so a
        # stale cache entry could name a new, unrelated note (migration 0007).
        {"sqlite_autoincrement": True},
    )


class NoteHistory(Base):
    __tablename__ = "note_history"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    note_id: Mapped[str] = mapped_column(ID, index=True)
    namespace: Mapped[str] = mapped_column(SCOPE)
    partition: Mapped[str] = mapped_column(String(600))
    event: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    actor: Mapped[str] = mapped_column(String(32), default="api")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_note_history_partition", "partition"),)


class NoteLink(Base):
    __tablename__ = "note_links"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partition: Mapped[str] = mapped_column(String(600), index=True)
    source_pk: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notes.pk", ondelete="CASCADE"), index=True
    )
    target_pk: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notes.pk", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default="related")
    reason: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("source_pk", "target_pk", "kind", name="uq_note_links_edge"),
    )


class Partition(Base):
    __tablename__ = "partitions"

    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    namespace: Mapped[str] = mapped_column(SCOPE)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # The partition's clock: its latest event time or recall (memsvc.stores.clock). Decay,
    # reinforcement and searches without `as_of` all read time from here.
    clock: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Job(Base):
    __tablename__ = "jobs"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    partition: Mapped[str] = mapped_column(String(600))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_jobs_status_run_after", "status", "run_after"),)


class Meta(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class NoteSlot(Base):
    """(name, value) attributes extracted from a note ("residence" = "berlin"), indexed so a new
    fact can find the older note it updates without scanning the partition."""

    __tablename__ = "note_slots"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partition: Mapped[str] = mapped_column(String(600))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(255))
    note_pk: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notes.pk", ondelete="CASCADE"), index=True
    )

    __table_args__ = (Index("ix_note_slots_partition_name", "partition", "name"),)


class IdempotencyKey(Base):
    """The answer to an add sent with an `Idempotency-Key` header, written in the add's own
    transaction: a client that timed out and retries gets the first answer back instead of
    storing the messages twice. Keys are per namespace and expire (`api.idempotency_ttl_s`)."""

    __tablename__ = "idempotency_keys"

    namespace: Mapped[str] = mapped_column(SCOPE, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IndexChange(Base):
    """One row per `partitions.version` bump, written in the bump's transaction: the note pks
    whose vectors it upserted or removed. Another replica whose in-memory index is at an older
    version applies the rows after it (reading the vectors from `notes`) instead of rebuilding.
    Pruned by age (`index.change_log_keep_s`); a replica behind the pruned range rebuilds.
    `upserted` is null when the writer did not say what changed (the replica rebuilds)."""

    __tablename__ = "index_changes"

    partition: Mapped[str] = mapped_column(
        String(600), ForeignKey("partitions.key", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    upserted: Mapped[list[int] | None] = mapped_column(JSONType, nullable=True)
    removed: Mapped[list[int]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
