"""Export and import: a scope (or a whole namespace) as JSON Lines, and back.

One JSON object per line, ``type`` first. A header, then partition by partition its
episodes, notes, links and history::

    {"type": "memsvc-export", "version": 1, "namespace": "default", "scope": {...} | null,
     "embed_model": "...", "embed_dim": 384, "exported_at": "..."}
    {"type": "episode", "id": "...", "user_id": "alice", "role": "user", "content": "...",
     "event_time": "2024-05-02T18:30:00+00:00", ...}
    {"type": "note", "id": "...", "content": "...", "keywords": [...], "episode_ids": [...],
     "embedding": "<base64 float32>", "part_embeddings": "...", "strength": 2.0, ...}
    {"type": "link", "source": "<note id>", "target": "<note id>", "kind": "related", ...}
    {"type": "history", "note_id": "...", "event": "UPDATE", "before": {...}, "after": {...},
     "created_at": "..."}

Rows keep their ids and original timestamps. Import writes them into the caller's namespace
(never the one named in the file), re-embeds notes when the file has no vectors, vectors of
another model, or when asked, and is idempotent: rows already present are skipped, so an
interrupted import can simply be run again. An id taken by a row elsewhere gets a fresh one.

A mem0 export (items ``{"id", "memory", "user_id", "metadata", "created_at", ...}``, one per
line, or the ``{"results": [...]}`` that ``get_all`` returns) is accepted too: each memory
becomes an episode and a note with offline attributes and an ADD history row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer

from memsvc.config import IngestSettings
from memsvc.db.models import Episode, Meta, Note, NoteHistory, NoteLink
from memsvc.embed import Embedder
from memsvc.services.scope import Scope
from memsvc.services.transfer_format import (
    check,
    columns,
    dump,
    from_mem0,
    parse_lines,
    read_file,
)
from memsvc.services.transfer_write import Batch, Importer, ImportResult
from memsvc.stores.indexes import IndexRegistry

__all__ = [
    "FORMAT",
    "ImportResult",
    "count_records",
    "export_records",
    "import_records",
    "parse_lines",
    "read_file",
]

FORMAT = "memsvc-export"
VERSION = 1
_VECTORS = ("embedding", "part_embeddings")


# -- export -----------------------------------------------------------------------------------
def _scope_ids(scope: Scope | None) -> dict[str, str | None] | None:
    if scope is None:
        return None
    return {"user_id": scope.user_id, "agent_id": scope.agent_id, "session_id": scope.session_id}


def _rows(
    model: type[Episode] | type[Note], partition: str, namespace: str, scope: Scope | None
) -> Any:
    """SELECT of `model` rows of one partition in the export, narrowed by the scope."""
    stmt = select(model).where(model.partition == partition, model.namespace == namespace)
    for column, value in (scope.narrows() if scope else {}).items():
        stmt = stmt.where(getattr(model, column) == value)
    return stmt


def _partitions(session: Session, namespace: str, scope: Scope | None) -> list[str]:
    if scope is not None:
        return [scope.partition]
    found = (
        select(Note.partition)
        .where(Note.namespace == namespace)
        .union(select(Episode.partition).where(Episode.namespace == namespace))
    )
    return sorted(session.scalars(found))


def count_records(*, session: Session, namespace: str, scope: Scope | None = None) -> int:
    """How many records :func:`export_records` yields after its header (for progress bars)."""
    total = 0
    for partition in _partitions(session, namespace, scope):
        episodes, notes = (
            _rows(Episode, partition, namespace, scope),
            _rows(Note, partition, namespace, scope),
        )
        pks = notes.with_only_columns(Note.pk).scalar_subquery()
        ids = notes.with_only_columns(Note.id).scalar_subquery()
        for stmt in (
            episodes.with_only_columns(func.count()),
            notes.with_only_columns(func.count()),
            select(func.count()).where(NoteLink.source_pk.in_(pks), NoteLink.target_pk.in_(pks)),
            select(func.count()).where(
                NoteHistory.partition == partition, NoteHistory.note_id.in_(ids)
            ),
        ):
            total += int(session.scalar(stmt) or 0)
    return total


def export_records(
    *, session: Session, namespace: str, scope: Scope | None = None, embeddings: bool = True
) -> Iterator[dict[str, Any]]:
    """The records of `scope` (every partition of `namespace` when None), header first."""
    meta = dict(session.execute(select(Meta.key, Meta.value)).all())
    yield {
        "type": FORMAT,
        "version": VERSION,
        "namespace": namespace,
        "scope": _scope_ids(scope),
        "embed_model": meta.get("embed_model") if embeddings else None,
        "embed_dim": int(meta["embed_dim"]) if embeddings and "embed_dim" in meta else None,
        "exported_at": datetime.now(UTC).isoformat(),
    }
    episode_cols, history_cols = columns(Episode), columns(NoteHistory)
    note_cols = [c for c in columns(Note) if embeddings or c[0] not in _VECTORS]
    for partition in _partitions(session, namespace, scope):
        stmt = _rows(Episode, partition, namespace, scope).order_by(Episode.pk)
        for episode in session.scalars(stmt.execution_options(yield_per=500)):
            yield dump(episode, episode_cols, "episode")
        ids: dict[int, str] = {}
        stmt = _rows(Note, partition, namespace, scope).order_by(Note.pk)
        stmt = stmt.options(undefer(Note.part_texts), undefer(Note.part_embeddings))
        for note in session.scalars(stmt.execution_options(yield_per=500)):
            ids[note.pk] = note.id
            yield dump(note, note_cols, "note")
        links = select(NoteLink).where(NoteLink.partition == partition).order_by(NoteLink.pk)
        for link in session.scalars(links):
            if link.source_pk in ids and link.target_pk in ids:
                yield {
                    "type": "link",
                    "source": ids[link.source_pk],
                    "target": ids[link.target_pk],
                    "kind": link.kind,
                    "reason": link.reason,
                    "weight": link.weight,
                    "created_at": link.created_at.isoformat(),
                }
        note_ids = set(ids.values())
        rows = select(NoteHistory).where(NoteHistory.partition == partition)
        for row in session.scalars(rows.order_by(NoteHistory.pk)):
            if row.note_id in note_ids:
                yield dump(row, history_cols, "history")


# -- import ----------------------------------------------------------------------------------------
def import_records(
    *,
    session: Session,
    ingest: IngestSettings,
    indexes: IndexRegistry,
    embedder: Embedder,
    namespace: str,
    records: Iterable[dict[str, Any]],
    reembed: bool = False,
    user_id: str | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 1000,
) -> ImportResult:
    """Write `records` into `namespace`, one transaction per partition batch. `user_id` owns
    mem0 items that name no owner; `progress` is called with the records done per batch.
    `ingest`: how notes without vectors (mem0 items, files of another model) are keyed and
    split, as ingest does them."""
    result = ImportResult()
    importer = Importer(
        session,
        namespace,
        result,
        reembed,
        cfg=ingest,
        indexes=indexes,
        embedder=embedder,
    )
    batch: Batch | None = None
    touched: set[str] = set()

    def flush() -> None:
        if batch is not None and len(batch):
            importer.write(batch)
            touched.add(batch.partition)
            if progress is not None:
                progress(len(batch))

    for record in records:
        kind = record.get("type")
        if kind == FORMAT:
            importer.source_model = record.get("embed_model")
            importer.source_dim = record.get("embed_dim")
            continue
        items = [record] if kind in ("episode", "note", "link", "history") else None
        for item in items or from_mem0(record, user_id):
            check(item)
            partition = importer.partition_of(item, batch)
            if partition is None:
                result.skipped += 1
                continue
            if batch is None or batch.partition != partition or len(batch) >= batch_size:
                flush()
                batch = Batch(partition)
            batch.add(item)
    flush()
    result.partitions = len(touched)
    return result
