"""One time base for memory dynamics: each partition's own clock.

MemoryBank's retention ``R = exp(-t / S)`` needs a "now". The wall clock is wrong for replayed
history (a 2024 conversation searched in 2026 shows retention 0 everywhere) and for a user
who was away (everything would fade while nobody talked to them). So every partition keeps a
clock: the latest event time it has seen, or the latest recall, whichever is later. It only
moves forward, in the transaction that writes the event.

Read by: searches without `as_of` (validity, retention, recency, time expressions and the
reinforcement they record), the decay sweep, and restoring a forgotten memory. An explicit
`as_of` always wins. A partition with no clock yet (nothing written) falls back to the wall
clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from memsvc.db.models import Partition


def advance(session: Session, partition: str, when: datetime) -> None:
    """Move the partition's clock forward to `when` (no-op if it is already later). The
    partition row must exist (`indexes.bump_version` creates it in the same transaction)."""
    session.execute(
        update(Partition)
        .where(Partition.key == partition, or_(Partition.clock.is_(None), Partition.clock < when))
        .values(clock=when)
    )


def read(session: Session, partition: str) -> datetime | None:
    """The partition's clock, or None when it has never been written."""
    return session.scalar(select(Partition.clock).where(Partition.key == partition))


def now(session: Session, partition: str) -> datetime:
    """'Now' for reading a partition: its clock, else the wall clock."""
    return read(session, partition) or datetime.now(UTC)
