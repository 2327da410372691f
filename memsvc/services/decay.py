"""MemoryBank's forgetting in the service: a sweep softly forgets faded notes (reinforcement on
recall lives in `reinforce`). The sweep measures time on each partition's own clock — the latest
event time it has seen — so a replayed year of history decays as if lived, and a user who
was away does not lose everything while nobody talked to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from memsvc.db.models import Episode, Note
from memsvc.decay import retention
from memsvc.runtime import Runtime
from memsvc.services import history


@dataclass
class SweepResult:
    checked: int = 0
    forgotten: int = 0


def partition_clock(session: Session, partition: str) -> datetime | None:
    """'Now' for a partition: its latest event (message or recall)."""
    latest_event = session.scalar(
        select(func.max(Episode.event_time)).where(Episode.partition == partition)
    )
    latest_recall = session.scalar(
        select(func.max(Note.last_recalled_at)).where(Note.partition == partition)
    )
    times = [t for t in (latest_event, latest_recall) if t is not None]
    if not times:
        return None
    # SQLite's MAX() returns the stored text/naive value: normalise through the column type.
    return max(_aware(t) for t in times)


def _aware(value: datetime | str) -> datetime:
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def sweep(
    rt: Runtime, *, as_of: datetime | None = None, partition: str | None = None
) -> SweepResult:
    """Mark active notes whose retention fell under the threshold as `forgotten`."""
    cfg = rt.settings.decay
    result = SweepResult()
    if not cfg.enabled:
        return result
    rt.reinforcer.flush(rt.db)  # recalls not yet written still count
    with rt.db.read() as session:
        partitions = (
            [partition] if partition else list(session.scalars(select(Note.partition).distinct()))
        )
    for key in partitions:
        with rt.db.write() as session:
            now = as_of or partition_clock(session, key)
            if now is None:
                continue
            notes = session.scalars(
                select(Note).where(Note.partition == key, Note.status == "active")
            ).all()
            for note in notes:
                result.checked += 1
                r = retention(note.strength, note.last_recalled_at, now, cfg.time_scale_days)
                if r < cfg.threshold:
                    before = history.snapshot(note)
                    note.status = "forgotten"
                    history.record(
                        session,
                        note,
                        "FORGET",
                        before=before,
                        after=history.snapshot(note),
                        actor="decay",
                        reason=f"retention {r:.3f} < {cfg.threshold} at {now.isoformat()}",
                    )
                    result.forgotten += 1
    return result
