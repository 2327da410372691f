"""Maintenance from the command line (`memsvc reindex`): rebuilding the vector indexes from
the database. The lazily-embedding runtime these commands run on is made by the composition
root (`memsvc.runtime.maintenance_runtime`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from memsvc.db.engine import Database
from memsvc.db.models import Note
from memsvc.stores.index_changes import PARTS_SUFFIX
from memsvc.stores.indexes import IndexRegistry


def reindex(
    *,
    db: Database,
    indexes: IndexRegistry,
    partitions: Sequence[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Throw away the vector indexes of `partitions` (default: every partition with notes)
    and build them again from the vectors stored in the database; returns notes per
    partition. Nothing is embedded."""
    if partitions is None:
        with db.read() as session:
            partitions = sorted(session.scalars(select(Note.partition).distinct()))
    counts: dict[str, int] = {}
    for partition in partitions:
        indexes.drop(partition)  # memory and folder, the parts index too
        counts[partition] = indexes.count(partition)  # rebuilt from the database
        indexes.count(partition + PARTS_SUFFIX)
        if progress is not None:
            progress(partition, counts[partition])
    return counts
