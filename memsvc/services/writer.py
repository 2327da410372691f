"""Applying a plan inside one transaction: notes, merges, supersessions, links, evolution,
slots, history rows, index changes and queued LLM work. Targets chosen during planning are
re-read here under the partition's write lock; one that changed meanwhile (deleted,
superseded) turns its decision into a plain ADD rather than failing the write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from memsvc.db import fulltext_terms
from memsvc.db.models import Job, Note
from memsvc.schemas import MemoryEvent
from memsvc.services import history
from memsvc.services.enrich import refresh_key
from memsvc.services.evolutions import Prepared
from memsvc.services.new_notes import NewNotes, chunks, new_note
from memsvc.services.planning import Plan, Unit
from memsvc.services.rows import Rows
from memsvc.services.scope import Scope
from memsvc.stores.index_changes import PendingChanges

# Statements built once: they run under SQLite's write lock, where building one each time
# cost about as much as running it (bench/README.md, 2026-12-07 sixth).
_IN_PARTITION = Note.partition == bindparam("partition")
_WHOLE = select(Note).where(Note.pk.in_(bindparam("keys", expanding=True)), _IN_PARTITION)
_KEYS = select(Note.pk).where(Note.pk.in_(bindparam("keys", expanding=True)), _IN_PARTITION)


@dataclass
class Written:
    events: list[MemoryEvent] = field(default_factory=list)
    pending_llm: list[str] = field(default_factory=list)


def _current(note: Note | None, at: datetime) -> bool:
    return (
        note is not None
        and note.status == "active"
        and (note.valid_to is None or note.valid_to > at)
    )


class Writer:
    def __init__(
        self,
        session: Session,
        scope: Scope,
        changes: PendingChanges,
        model: str,
        *,
        expand: bool = True,
    ) -> None:
        self.expand = expand
        self.session = session
        self.now = datetime.now(UTC)
        self.rows = Rows(session, self.now)  # history and link rows, inserted at commit
        self.scope = scope
        self.changes = changes
        self.model = model
        self.resolved: dict[int, Note] = {}  # virtual key -> the note that unit ended up in
        self.out = Written()
        self.created: set[int] = set()  # notes inserted here: no stored links to check
        # Stored notes read by `preload` (held here: the session's identity map is weak).
        self.stored: dict[int, Note] = {}
        self.absent: set[int] = set()  # stored keys read and not found in this partition
        self.linkable: set[int] = set()  # stored keys only linked to, found in this partition
        # Unit position -> its new note, built by `prepare`; a unit not found here (no
        # `prepare`, or a merge that became an add) gets its note built in `_unit`.
        self.fresh: dict[int, Note] = {}
        self.new_notes = NewNotes(session)  # their rows, bound by `prepare`
        # Note id -> its ADD history row's values and driver parameters, bound by `prepare`.
        self.bound_history: dict[str, tuple[dict[str, Any], Any]] = {}
        # Evolutions of stored notes made ready by `prepare` (`services.evolutions`).
        self.evolved = Prepared(session, scope.partition)

    def prepare(self, plan: Plan, meta: dict[str, Any], actor: str) -> None:
        """Build the notes the plan adds, and bind their rows and ADD history rows, before
        the transaction's first statement: on SQLite that statement takes the database's
        write lock, which every other writer waits for (bench/README.md, 2026-12-06 eighth
        and 2026-12-07 sixth). A unit that turns out to merge into its target leaves its
        note unused."""
        for unit in plan.units:
            if unit.op in ("ADD", "SUPERSEDE"):
                note = new_note(self.scope, unit, meta, self.model, self.now)
                self.fresh[unit.position] = note
                self.new_notes.bind(note)
                self.bound_history[note.id] = self.rows.bind_history(
                    self._add_row(note, actor, unit.reason)
                )
        self.evolved.prepare(plan, self.rows, now=self.now, actor=actor, expand=self.expand)
        if self.fresh and self.session.get_bind().dialect.name == "sqlite":
            # Their full-text terms too: SQLite's triggers would make them under the lock.
            fulltext_terms.prepare(
                self.scope.partition, [note.search_text for note in self.fresh.values()]
            )

    def preload(self, plan: Plan) -> None:
        """Read every stored note the plan refers to, inside this transaction: `resolve` then
        finds them here instead of one SELECT (and one autoflush) per reference, which was a
        third of an add's time with links on. Notes the plan may change (targets, superseded
        notes, evolved neighbours) are read whole; notes it only links to are only checked
        to be in this partition (their keys), which is most of them and saves loading rows."""
        # Evolutions made ready before the lock are checked by `Prepared.apply` instead.
        whole = {evo.pk for evo in plan.evolutions.values()} - self.evolved.keys()
        linked: set[int] = set()
        for unit in plan.units:
            whole.update(unit.superseded)
            linked.update(key for key, _, _ in unit.links)
            if unit.target is not None:
                whole.add(unit.target)
        wanted = sorted(k for k in whole if k >= 0)
        partition = self.scope.partition
        for chunk in chunks(wanted):
            rows = self.session.scalars(_WHOLE, {"keys": chunk, "partition": partition})
            self.stored.update((note.pk, note) for note in rows)
        self.absent.update(k for k in wanted if k not in self.stored)
        keys_only = sorted(k for k in linked - whole if k >= 0)
        for chunk in chunks(keys_only):
            self.linkable.update(
                self.session.scalars(_KEYS, {"keys": chunk, "partition": partition})
            )
        self.absent.update(k for k in keys_only if k not in self.linkable)

    def link_target(self, key: int) -> int | None:
        """The key of the note a unit's link points at, if it is in this partition."""
        if key in self.linkable and key not in self.absent:  # absent: folded away since
            return key
        note = self.resolve(key)
        return None if note is None else note.pk

    def resolve(self, key: int | None) -> Note | None:
        if key is None:
            return None
        if key < 0:
            return self.resolved.get(key)
        if key in self.absent:
            return None
        note = self.stored.get(key) or self.session.get(Note, key)
        return note if note is not None and note.partition == self.scope.partition else None

    def apply(self, plan: Plan, meta: dict[str, Any], actor: str) -> Written:
        # New notes are inserted in one flush (`_insert`) rather than one flush per unit,
        # which was three quarters of the write's time; what needs their primary keys (index
        # rows, parts, slots, links) follows it, in unit order.
        self.preload(plan)
        created: list[tuple[Note, Unit]] = []
        for unit in plan.units:
            note = self._unit(unit, meta, actor)
            if note is not None:
                created.append((note, unit))
        self._insert([note for note, _ in created])
        for note, unit in created:
            self._keyed(note, unit)
        self.evolved.apply(self.changes)
        for evo in plan.evolutions.values():
            if not self.evolved.done(evo.pk, self.rows):
                self.evolve(evo.pk, evo.tags, evo.context, evo.vector, evo.reason, actor)
        return self.out

    def _unit(self, unit: Unit, meta: dict[str, Any], actor: str) -> Note | None:
        """Decide and record one unit; returns the note it creates (not yet flushed)."""
        from memsvc.services.planning import virtual

        if unit.op == "NOOP":
            self.out.events.append(MemoryEvent(id=None, event="NOOP", memory=unit.content))
            return None
        target = self.resolve(unit.target)
        if unit.op == "MERGE" and _current(target, unit.event_time):
            assert target is not None
            self._merge(unit, target, actor)
            self.resolved[virtual(unit.position)] = target
            return None
        note = self.fresh.pop(unit.position, None) or new_note(
            self.scope, unit, meta, self.model, self.now
        )
        self.resolved[virtual(unit.position)] = note
        # A note from `prepare` is unchanged since: units before this one cannot refer to it.
        kept = self.bound_history.pop(note.id, None)
        if kept is not None:
            self.rows.add_history(*kept)
        else:
            self.rows.add_history(self._add_row(note, actor, unit.reason))
        replaced: Note | None = None
        for key in unit.superseded if unit.op == "SUPERSEDE" else ():
            old = self.resolve(key)
            if old is not None and old.pk != note.pk and _current(old, unit.event_time):
                self.supersede(old, note, actor, unit.reason)
                replaced = replaced or old
        event = "SUPERSEDE" if replaced is not None else "ADD"
        self.out.events.append(
            MemoryEvent(
                id=note.id,
                event=event,
                memory=note.content,
                target_id=replaced.id if replaced else None,
                previous_memory=replaced.content if replaced else None,
            )
        )
        return note

    def _insert(self, notes: list[Note]) -> None:
        """Insert the new notes in one statement and attach them as stored rows
        (`NewNotes.insert`)."""
        self.new_notes.insert(notes)

    @staticmethod
    def _add_row(note: Note, actor: str, reason: str) -> dict[str, Any]:
        return history.row(
            note, "ADD", before=None, after=history.snapshot(note), actor=actor, reason=reason
        )

    def record(
        self, note: Note, event: str, *, before: dict[str, Any] | None, actor: str, reason: str = ""
    ) -> None:
        """History of a change just made to `note` (its state now is the row's `after`),
        kept for the bulk insert at commit."""
        after = history.snapshot(note)
        self.rows.add_history(
            history.row(note, event, before=before, after=after, actor=actor, reason=reason)
        )

    def _keyed(self, note: Note, unit: Unit) -> None:
        """A created note's rows and index changes that need its primary key."""
        self.created.add(note.pk)
        assert unit.vector is not None
        self.changes.upsert([note.pk], np.asarray(unit.vector, dtype=np.float32).reshape(1, -1))
        if unit.part_vectors is not None:
            self.changes.set_parts(note.pk, np.asarray(unit.part_vectors, dtype=np.float32))
        for name, value in unit.slots:
            self.rows.slot(note.partition, note.pk, name, value)
        self.add_links(note, unit)
        if unit.pending_llm:
            self.out.pending_llm.append(note.id)

    def keep_text(self, target: Note, text: str) -> None:
        """A merged text worded differently stays findable: it joins the target's facts, so
        its words are in the target's key (lexical search follows `search_text` at once; the
        vector follows at the target's next re-embedding)."""
        if text not in (target.facts or []) and text != target.content:
            target.facts = [*(target.facts or []), text]
            refresh_key(target, expand=self.expand)

    def _merge(self, unit: Unit, target: Note, actor: str) -> None:
        before = history.snapshot(target)
        if unit.keep_text:
            self.keep_text(target, unit.content)
        target.strength = float(target.strength) + 1.0  # MemoryBank: strengths add up
        target.episode_ids = list(dict.fromkeys([*(target.episode_ids or []), *unit.episode_ids]))
        target.last_recalled_at = max(target.last_recalled_at, unit.event_time)
        target.updated_at = self.now
        self.record(target, "MERGE", before=before, actor=actor, reason=unit.reason)
        self.out.events.append(
            MemoryEvent(id=target.id, event="MERGE", memory=target.content, target_id=target.id)
        )

    def supersede(self, old: Note, new: Note, actor: str, reason: str) -> None:
        before = history.snapshot(old)
        if new.valid_from > old.valid_from:
            old.valid_to, old.superseded_by = new.valid_from, new.id
        else:
            # Replayed out of order: the "new" statement is older than the one it contradicts,
            # so it is the one that was true first and ended when the other began.
            new.valid_to, new.superseded_by = old.valid_from, old.id
        old.updated_at = self.now
        self.record(old, "SUPERSEDE", before=before, actor=actor, reason=reason)

    def add_links(self, note: Note, unit: Unit) -> None:
        seen: set[int] = set()
        for key, reason, weight in unit.links:
            other = self.link_target(key)
            if other is None or other == note.pk or other in seen:
                continue
            seen.add(other)
            self.link(note, other, "related", reason, weight)

    def fold(self, note: Note, target: Note, reason: str, *, keep_text: bool = False) -> None:
        """A stored note turned out to repeat `target`: its provenance and strength move over
        and the duplicate row goes (both changes recorded in history); with `keep_text` its
        text joins the target's facts."""
        before = history.snapshot(target)
        if keep_text:
            self.keep_text(target, note.content)
        target.strength = float(target.strength) + float(note.strength)
        target.episode_ids = list(
            dict.fromkeys([*(target.episode_ids or []), *(note.episode_ids or [])])
        )
        target.last_recalled_at = max(target.last_recalled_at, note.last_recalled_at)
        target.updated_at = self.now
        self.record(target, "MERGE", before=before, actor="llm", reason=reason)
        self.rows.add_history(
            history.row(
                note,
                "DELETE",
                before=history.snapshot(note),
                after=None,
                actor="llm",
                reason=f"merged into {target.id}",
            )
        )
        self.changes.remove([note.pk])
        self.stored.pop(note.pk, None)
        self.absent.add(note.pk)
        self.rows.flush()  # kept links to or from it first: the delete cascades over them
        self.session.delete(note)

    def link(
        self, source: Note, target_pk: int, kind: str, reason: str, weight: float = 1.0
    ) -> None:
        if source.pk not in self.created and self.rows.has_link(source.pk, target_pk, kind):
            return
        self.rows.link(source.partition, source.pk, target_pk, kind, reason, weight)

    def evolve(
        self,
        pk: int,
        tags: list[str] | None,
        context: str | None,
        vector: np.ndarray | None,
        reason: str,
        actor: str,
    ) -> None:
        note = self.resolve(pk)
        if note is None:
            return
        before = history.snapshot(note)
        if tags is not None:
            note.tags = list(tags)
        if context is not None:
            note.context = context
        if history.snapshot(note) == before:
            return
        refresh_key(note, expand=self.expand)
        if vector is not None:
            note.embedding = np.asarray(vector, dtype=np.float32).tobytes()
            self.changes.upsert([note.pk], np.asarray(vector, dtype=np.float32).reshape(1, -1))
        note.updated_at = self.now
        self.record(note, "EVOLVE", before=before, actor=actor, reason=reason)

    def enqueue_llm(self, note_ids: list[str]) -> None:
        """Durable: the job row commits with the notes it enriches."""
        if note_ids:
            self.session.add(
                Job(
                    kind="enrich",
                    partition=self.scope.partition,
                    payload={"note_ids": note_ids},
                    status="pending",
                    attempts=0,
                    run_after=self.now,
                )
            )
