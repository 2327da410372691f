"""Reading and changing single memories: get, list, update, delete, history, erase a user."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from memsvc.config import ApiSettings
from memsvc.db.models import Episode, Job, Note, NoteHistory, NoteLink, Partition
from memsvc.deps import MemoryDeps
from memsvc.errors import InvalidInput, NotFound
from memsvc.schemas import (
    DeleteResult,
    HistoryEntry,
    LinkRead,
    MemoryPage,
    MemoryRead,
    MemoryUpdate,
)
from memsvc.services import history
from memsvc.services.planning import parts_of
from memsvc.services.scope import Scope
from memsvc.services.units import content_hash
from memsvc.stores.indexes import IndexRegistry, bump_version


def load_note(session: Session, scope: Scope, memory_id: str, *, lock: bool = False) -> Note:
    """The memory `memory_id` if it belongs to `scope` (its owner's partition, narrowed by the
    scope's other ids). Another owner's id answers exactly like an unknown id: 404."""
    stmt = select(Note).where(Note.id == memory_id, Note.partition == scope.partition)
    for column, value in scope.narrows().items():
        stmt = stmt.where(getattr(Note, column) == value)
    note = session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()
    if note is None:
        raise NotFound(f"memory {memory_id!r} not found in this scope", details={"id": memory_id})
    return note


def get(*, session: Session, scope: Scope, memory_id: str) -> MemoryRead:
    return history.to_read(load_note(session, scope, memory_id))


def page_size(api: ApiSettings, limit: int | None) -> int:
    """The page size for a list call: the default when none is asked, a clear error (not a
    silent clamp) past the configured maximum."""
    if limit is not None and limit > api.max_page_size:
        raise InvalidInput(
            f"limit must be <= {api.max_page_size}", details={"limit": api.max_page_size}
        )
    return limit or api.page_size


def _encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"n:{pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        digits = raw[2:]
        # ASCII digits only (int() also takes signs, spaces, '_' and other scripts' digits),
        # and within a BIGINT: a larger number overflows the database's parameter.
        if not raw.startswith("n:") or not (digits.isascii() and digits.isdigit()):
            raise ValueError
        pk = int(digits)
        if pk >= 2**63:
            raise ValueError
        return pk
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("malformed cursor", details={"cursor": cursor}) from exc


def list_page(
    *,
    session: Session,
    scope: Scope,
    limit: int,
    cursor: str | None = None,
    include_forgotten: bool = False,
) -> MemoryPage:
    stmt = select(Note).where(Note.partition == scope.partition)
    for column, value in scope.narrows().items():
        stmt = stmt.where(getattr(Note, column) == value)
    if not include_forgotten:
        stmt = stmt.where(Note.status != "forgotten")
    if cursor:
        stmt = stmt.where(Note.pk > _decode_cursor(cursor))
    rows = session.scalars(stmt.order_by(Note.pk).limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1].pk) if len(rows) > limit and page else None
    return MemoryPage(results=[history.to_read(n) for n in page], next_cursor=next_cursor)


def update(
    *, session: Session, deps: MemoryDeps, scope: Scope, memory_id: str, req: MemoryUpdate
) -> MemoryRead:
    """`deps.settings`: the add's limits (api) and how a new text is keyed and split (ingest);
    a new text is embedded with `deps.embedder`."""
    settings, indexes, embedder = deps.settings, deps.indexes, deps.embedder
    # Imported here: ingest imports this module's helpers.
    from memsvc.services.ingest import check_limits

    if req.text is not None:
        # The add's limits: an edit is no way around them.
        check_limits([req.text], api=settings.api)
    partition = scope.partition
    load_note(session, scope, memory_id)  # 404 before taking the partition's write lock
    session.rollback()  # re-read under the partition's write lock below
    with indexes.writing(partition) as changes:
        note = load_note(session, scope, memory_id, lock=True)
        before = history.snapshot(note)
        events: list[str] = []
        if req.text is not None and req.text != note.content:
            from memsvc.services.enrich import enrich_offline

            note.content = req.text
            note.content_hash = content_hash(req.text)
            enrich_offline(
                note, expand=settings.ingest.key_expansion, method=settings.ingest.keyphrases
            )
            parts = parts_of(settings.ingest, req.text, req.text, note.kind)
            vecs = embedder.embed([note.search_text, *parts])
            vec = vecs[0]
            note.embedding = vec.astype(np.float32).tobytes()
            note.part_texts = parts
            note.part_embeddings = vecs[1:].astype(np.float32).tobytes() if parts else None
            changes.upsert([note.pk], vec.reshape(1, -1))
            changes.set_parts(note.pk, vecs[1:] if parts else None)
            events.append("UPDATE")
        if req.metadata is not None and req.metadata != note.meta:
            note.meta = dict(req.metadata)
            events.append("UPDATE")
        if req.status is not None and req.status != note.status:
            note.status = req.status
            events.append("FORGET" if req.status == "forgotten" else "RESTORE")
            if req.status == "active":
                # Restoring is a recall: reinforce, so the next sweep does not forget it again.
                from memsvc.decay import reinforce
                from memsvc.stores import clock

                at = clock.now(session, partition)
                note.strength, note.last_recalled_at = reinforce(
                    note.strength, note.last_recalled_at, at
                )
                note.recall_count += 1
        if events:
            note.updated_at = datetime.now(UTC)
            event = "UPDATE" if "UPDATE" in events else events[-1]
            history.record(session, note, event, before=before, after=history.snapshot(note))
            if changes:
                bump_version(session, partition, scope.namespace)
        session.commit()
    return history.to_read(note)


def delete_one(*, session: Session, deps: MemoryDeps, scope: Scope, memory_id: str) -> DeleteResult:
    partition, indexes = scope.partition, deps.indexes
    load_note(session, scope, memory_id)
    session.rollback()
    with indexes.writing(partition) as changes:
        note = load_note(session, scope, memory_id, lock=True)
        pk = note.pk
        history.record(session, note, "DELETE", before=history.snapshot(note), after=None)
        changes.remove([pk])
        session.delete(note)
        bump_version(session, partition, scope.namespace)
        session.commit()
    return DeleteResult(deleted=1, message="1 memory deleted")


def delete_scope(*, session: Session, indexes: IndexRegistry, scope: Scope) -> DeleteResult:
    """Delete every memory in a scope (history rows stay, as for single deletes)."""
    with indexes.writing(scope.partition) as changes:
        stmt = select(Note).where(Note.partition == scope.partition)
        for column, value in scope.narrows().items():
            stmt = stmt.where(getattr(Note, column) == value)
        notes = session.scalars(stmt).all()
        pks = [n.pk for n in notes]
        for note in notes:
            history.record(session, note, "DELETE", before=history.snapshot(note), after=None)
            session.delete(note)
        changes.remove(pks)
        if notes:
            bump_version(session, scope.partition, scope.namespace)
        session.commit()
    return DeleteResult(deleted=len(notes), message=f"{len(notes)} memories deleted")


def erase_user(
    *,
    session: Session,
    indexes: IndexRegistry,
    namespace: str,
    user_id: str,
) -> DeleteResult:
    """Right to erasure: notes, episodes, history, links and jobs of the user, and the index."""
    scope = Scope(namespace=namespace, user_id=user_id)
    partition = scope.partition
    with indexes.writing(partition):
        count = len(session.scalars(select(Note.pk).where(Note.partition == partition)).all())
        episodes = session.scalars(select(Episode.pk).where(Episode.partition == partition)).all()
        session.execute(delete(Note).where(Note.partition == partition))
        session.execute(delete(Episode).where(Episode.partition == partition))
        session.execute(delete(NoteHistory).where(NoteHistory.partition == partition))
        session.execute(delete(Job).where(Job.partition == partition))
        session.execute(delete(Partition).where(Partition.key == partition))
        session.commit()
    indexes.drop(partition)
    if not count and not episodes:
        raise NotFound(f"user {user_id!r} has no memories", details={"user_id": user_id})
    return DeleteResult(
        deleted=count, message=f"user {user_id} erased: {count} memories, {len(episodes)} episodes"
    )


def _in_scope(snap: dict[str, Any] | None, scope: Scope) -> bool:
    return snap is None or all(snap.get(k, v) == v for k, v in scope.narrows().items())


def history_of(*, session: Session, scope: Scope, memory_id: str) -> list[HistoryEntry]:
    """Every change of a memory of this scope, deleted ones included (history outlives the
    note). Rows live in the owner's partition; the scope's narrowing ids are checked on the
    note when it still exists."""
    rows = session.scalars(
        select(NoteHistory)
        .where(NoteHistory.note_id == memory_id, NoteHistory.partition == scope.partition)
        .order_by(NoteHistory.pk)
    ).all()
    note = session.scalars(
        select(Note).where(Note.id == memory_id, Note.partition == scope.partition)
    ).one_or_none()
    narrowed_out = note is not None and any(
        getattr(note, k) != v for k, v in scope.narrows().items()
    )
    if not rows or narrowed_out:
        raise NotFound(f"memory {memory_id!r} not found in this scope", details={"id": memory_id})
    return [history.to_history(r) for r in rows]


def links_of(*, session: Session, scope: Scope, memory_id: str) -> list[LinkRead]:
    """A memory's links in both directions, with the linked memories' text. Links never cross
    partitions; the join re-checks it so a stale edge can never surface a foreign note."""
    note = load_note(session, scope, memory_id)
    rows = session.execute(
        select(NoteLink, Note)
        .join(
            Note,
            or_(
                (NoteLink.source_pk == note.pk) & (Note.pk == NoteLink.target_pk),
                (NoteLink.target_pk == note.pk) & (Note.pk == NoteLink.source_pk),
            ),
        )
        .where(Note.partition == scope.partition)
        .order_by(NoteLink.pk)
    ).all()
    return [
        LinkRead(
            id=other.id,
            memory=other.content,
            kind=link.kind,
            direction="out" if link.source_pk == note.pk else "in",
            reason=link.reason,
            weight=link.weight,
            created_at=link.created_at,
        )
        for link, other in rows
    ]
