"""Note snapshots and history rows: every change of a note is recorded with before/after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from memsvc.db.models import Note, NoteHistory
from memsvc.schemas import HistoryEntry, MemoryRead

# The fields a history row keeps; state that changes on every recall (strength) is left out
# on purpose, or each search would write history.
SNAPSHOT_FIELDS = (
    "content",
    "kind",
    "keywords",
    "tags",
    "context",
    "facts",
    "meta",
    "status",
    "valid_from",
    "valid_to",
    "superseded_by",
    "episode_ids",
)


def snapshot(note: Note) -> dict[str, Any]:
    return snapshot_of({name: getattr(note, name) for name in SNAPSHOT_FIELDS})


def snapshot_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """`snapshot` of a note's values by attribute name (a row read without the ORM)."""
    out: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = values[name]
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, list | dict):
            value = value.copy()
        out["metadata" if name == "meta" else name] = value
    return out


def row(
    note: Note | Mapping[str, Any],
    event: str,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    actor: str = "api",
    reason: str = "",
) -> dict[str, Any]:
    """One history row's values (for a bulk INSERT: `memsvc.services.rows.Rows`); `note` is
    a note or its values by attribute name (a row read without the ORM)."""
    if isinstance(note, Mapping):
        note_id, namespace, partition = note["id"], note["namespace"], note["partition"]
    else:
        note_id, namespace, partition = note.id, note.namespace, note.partition
    return {
        "note_id": note_id,
        "namespace": namespace,
        "partition": partition,
        "event": event,
        "before": before,
        "after": after,
        "actor": actor,
        "reason": reason,
    }


def record(
    session: Session,
    note: Note,
    event: str,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    actor: str = "api",
    reason: str = "",
) -> None:
    session.add(
        NoteHistory(**row(note, event, before=before, after=after, actor=actor, reason=reason))
    )


def to_read(note: Note) -> MemoryRead:
    return MemoryRead(
        id=note.id,
        memory=note.content,
        kind=note.kind,
        role=note.role,
        user_id=note.user_id,
        agent_id=note.agent_id,
        session_id=note.session_id,
        metadata=note.meta or {},
        keywords=note.keywords or [],
        tags=note.tags or [],
        context=note.context or "",
        facts=note.facts or [],
        episode_ids=note.episode_ids or [],
        event_time=note.event_time,
        valid_from=note.valid_from,
        valid_to=note.valid_to,
        superseded_by=note.superseded_by,
        status=note.status,
        strength=note.strength,
        recall_count=note.recall_count,
        # The decay clock starts at the event time, but a memory never recalled has no last
        # recall: the API says so instead of reporting its event time as one.
        last_recalled_at=note.last_recalled_at if note.recall_count else None,
        created_at=note.created_at,
        updated_at=note.updated_at,
    )


def to_history(row: NoteHistory) -> HistoryEntry:
    return HistoryEntry(
        id=row.pk,
        memory_id=row.note_id,
        event=row.event,
        old_memory=(row.before or {}).get("content"),
        new_memory=(row.after or {}).get("content"),
        before=row.before,
        after=row.after,
        actor=row.actor,
        reason=row.reason,
        created_at=row.created_at,
    )
