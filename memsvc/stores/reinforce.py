"""Recall reinforcement (MemoryBank: S + 1 and the clock restarts), buffered in memory.

A search stays a read: reinforcements are written in batches by the background worker and on
shutdown. Losing a few in a crash costs nothing that was acknowledged. Each replica buffers its
own searches' recalls; the writes are increments, so several replicas add up."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import cast

from sqlalchemy import Float, Integer, Table, bindparam, case, select, update

from memsvc.db.engine import Database
from memsvc.db.models import Note
from memsvc.stores import clock


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
        """Write the buffered recalls as atomic increments (strength + n, recall_count + n,
        the later of the two recall times: `memsvc.decay.reinforce` applied n times), so
        replicas flushing recalls of the same notes at once lose none of them. Rows are
        updated in pk order, then partition clocks in key order, the order every writer
        takes them in, so two flushes never deadlock."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return 0
        notes = cast(Table, Note.__table__)
        at_param = bindparam("b_at", type_=notes.c.last_recalled_at.type)
        stmt = (
            update(notes)
            .where(notes.c.pk == bindparam("b_pk"))
            .values(
                strength=notes.c.strength + bindparam("b_n", type_=Float),
                recall_count=notes.c.recall_count + bindparam("b_count", type_=Integer),
                last_recalled_at=case(
                    (notes.c.last_recalled_at < at_param, at_param),
                    else_=notes.c.last_recalled_at,
                ),
            )
        )
        rows = [
            {"b_pk": pk, "b_n": float(count), "b_count": count, "b_at": at}
            for pk, (count, at) in sorted(batch.items())
        ]
        with db.write() as session:
            partitions = session.execute(
                select(Note.pk, Note.partition).where(Note.pk.in_(list(batch)))
            ).all()
            session.connection().execute(stmt, rows)
            latest: dict[str, datetime] = {}
            for pk, partition in partitions:
                at = batch[pk][1]
                latest[partition] = max(at, latest.get(partition, at))
            for partition in sorted(latest):  # a recall is an event on the clock too
                clock.advance(session, partition, latest[partition])
        return len(batch)
