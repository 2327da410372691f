"""Recall reinforcement (MemoryBank: S + 1 and the clock restarts), buffered in memory.

A search stays a read: reinforcements are written in batches by the background worker and on
shutdown. Losing a few in a crash costs nothing that was acknowledged."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import select

from memsvc.db.engine import Database
from memsvc.db.models import Note
from memsvc.decay import reinforce
from memsvc.services import clock


class Reinforcer:
    def __init__(self) -> None:
        self._pending: dict[int, tuple[int, datetime]] = {}
        self._lock = threading.Lock()

    def record(self, pks: list[int], at: datetime) -> None:
        with self._lock:
            for pk in pks:
                count, last = self._pending.get(pk, (0, at))
                self._pending[pk] = (count + 1, max(last, at))

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self, db: Database) -> int:
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return 0
        latest: dict[str, datetime] = {}
        with db.write() as session:
            for note in session.scalars(select(Note).where(Note.pk.in_(list(batch)))):
                count, at = batch[note.pk]
                strength, last = note.strength, note.last_recalled_at
                for _ in range(count):
                    strength, last = reinforce(strength, last, at)
                note.strength, note.last_recalled_at = strength, last
                note.recall_count += count
                latest[note.partition] = max(at, latest.get(note.partition, at))
            for partition, at in latest.items():  # a recall is an event on the clock too
                clock.advance(session, partition, at)
        return len(batch)
