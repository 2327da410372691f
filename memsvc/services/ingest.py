"""Ingest: store episodes verbatim, turn them into notes, embed, decide, index — one transaction.

Order of work, chosen so an acknowledged write is never lost:
1. everything slow (attribute extraction, embedding, LLM) happens *before* the transaction;
2. one transaction writes episodes, notes, history rows and the partition version;
3. the vector index applies the change after the commit (it is derived state: a crash
   between 2 and 3 is repaired by a rebuild from the database on the next start).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from memsvc.db.models import Episode, Note
from memsvc.errors import InvalidInput
from memsvc.runtime import Runtime
from memsvc.schemas import AddResult, MemoryCreate, MemoryEvent
from memsvc.services import history
from memsvc.services.indexes import bump_version
from memsvc.services.scope import Scope

_WS = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """Hash of the normalised text: exact duplicates (modulo case/whitespace) collide."""
    return hashlib.sha256(_WS.sub(" ", text.strip().lower()).encode()).hexdigest()


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Unit:
    """One future note: the text, where it came from, and what the pipeline decided."""

    content: str
    role: str | None
    kind: str
    event_time: datetime
    episode_ids: list[str]
    keywords: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    context: str = ""
    facts: list[str] = field(default_factory=list)
    slots: list[list[str]] = field(default_factory=list)
    vector: np.ndarray | None = None
    op: str = "ADD"
    target: Note | None = None


def key_text(unit: Unit) -> str:
    """A-MEM's embedding key: content + keywords + tags + context, merged into one text."""
    parts = [unit.content]
    if unit.keywords:
        parts.append("Keywords: " + ", ".join(unit.keywords))
    if unit.tags:
        parts.append("Tags: " + ", ".join(unit.tags))
    if unit.context:
        parts.append("Context: " + unit.context)
    return "\n".join(parts)


def _check_limits(rt: Runtime, req: MemoryCreate) -> None:
    api = rt.settings.api
    if req.messages is not None and len(req.messages) > api.max_messages:
        raise InvalidInput(
            f"too many messages: {len(req.messages)} > {api.max_messages}",
            details={"limit": api.max_messages},
        )
    texts = [m.content for m in req.messages] if req.messages is not None else [req.text or ""]
    for i, text in enumerate(texts):
        if len(text) > api.max_content_chars:
            raise InvalidInput(
                f"content too long: item {i} has {len(text)} characters > {api.max_content_chars}",
                details={"index": i, "limit": api.max_content_chars},
            )
        if not text.strip():
            raise InvalidInput(f"content of item {i} is blank", details={"index": i})


def make_episodes(scope: Scope, req: MemoryCreate, now: datetime) -> list[Episode]:
    default_time = req.timestamp or now
    if req.messages is not None:
        items = [(m.role, m.content, m.timestamp or default_time) for m in req.messages]
    else:
        items = [
            ("user" if (req.kind or "fact") != "thought" else "agent", req.text or "", default_time)
        ]
    return [
        Episode(
            id=new_id(),
            namespace=scope.namespace,
            partition=scope.partition,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            session_id=scope.session_id,
            role=role,
            content=content,
            event_time=when,
            seq=i,
            meta=dict(req.metadata),
            created_at=now,
        )
        for i, (role, content, when) in enumerate(items)
    ]


def make_units(req: MemoryCreate, episodes: list[Episode]) -> list[Unit]:
    kind = req.kind or ("turn" if req.messages is not None else "fact")
    return [
        Unit(
            content=ep.content,
            role=ep.role if req.messages is not None else None,
            kind=kind,
            event_time=ep.event_time,
            episode_ids=[ep.id],
        )
        for ep in episodes
    ]


def _new_note(scope: Scope, unit: Unit, meta: dict[str, Any], model: str, now: datetime) -> Note:
    assert unit.vector is not None
    return Note(
        id=new_id(),
        namespace=scope.namespace,
        partition=scope.partition,
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        session_id=scope.session_id,
        kind=unit.kind,
        role=unit.role,
        content=unit.content,
        content_hash=content_hash(unit.content),
        keywords=unit.keywords,
        tags=unit.tags,
        context=unit.context,
        facts=unit.facts,
        slots=unit.slots,
        meta=dict(meta),
        episode_ids=list(unit.episode_ids),
        embedding=unit.vector.astype(np.float32).tobytes(),
        embed_model=model,
        embed_dim=int(unit.vector.shape[0]),
        event_time=unit.event_time,
        valid_from=unit.event_time,
        status="active",
        strength=1.0,
        last_recalled_at=unit.event_time,
        recall_count=0,
        created_at=now,
        updated_at=now,
    )


def add(*, session: Session, rt: Runtime, scope: Scope, req: MemoryCreate) -> AddResult:
    _check_limits(rt, req)
    now = datetime.now(UTC)
    episodes = make_episodes(scope, req, now)
    units = make_units(req, episodes)
    vectors = rt.embedder.embed([key_text(u) for u in units])
    for unit, vec in zip(units, vectors, strict=True):
        unit.vector = vec
    events: list[MemoryEvent] = []
    with rt.indexes.writing(scope.partition) as changes:
        session.add_all(episodes)
        notes: list[tuple[Unit, Note]] = []
        for unit in units:
            note = _new_note(scope, unit, req.metadata, rt.embedder.model_name, now)
            session.add(note)
            notes.append((unit, note))
        session.flush()  # assigns primary keys
        for _, note in notes:
            history.record(session, note, "ADD", before=None, after=history.snapshot(note))
            events.append(MemoryEvent(id=note.id, event="ADD", memory=note.content))
        new = [note for _, note in notes]
        changes.upsert([n.pk for n in new], np.vstack([u.vector for u, _ in notes]))
        bump_version(session, scope.partition, scope.namespace)
        session.commit()
    return AddResult(results=events, episode_ids=[e.id for e in episodes])
