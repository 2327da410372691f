"""Conversations as recall reads them: which of the names a query mentions are speakers in
the partition (`speakers`), and the units next to given ones: recall's neighbour stage asks,
for each of its seeds (a hit that is a single message), which unit of the same conversation
was said just before it and which just after (`adjacent`), and which seeds ask something
(`asking`).

Plain SQL, built once per seed count and cached: a VALUES list of the seeds and two
correlated seeks each on ix_notes_partition_session (migration 0010), in (event time, pk)
order, whatever the length of the conversation (a long-running thread can hold thousands of
messages), in one statement. The same two seeks written as SQLAlchemy expressions cost
16 ms a search to construct (git log 2e178b3)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import TextClause, bindparam, or_, select, text
from sqlalchemy.orm import Session

from memsvc.db.base import UTCDateTime
from memsvc.db.models import Episode, Note


def speakers(session: Session, *, partition: str, names: Sequence[str]) -> set[str]:
    """Those of `names` that speak (an episode's `name`) in `partition`: one seek per name
    on ix_episodes_partition_name (migration 0012)."""
    if not names:
        return set()
    stmt = (
        select(Episode.name)
        .where(Episode.partition == partition, Episode.name.in_(list(names)))
        .distinct()
    )
    return {n for n in session.scalars(stmt) if n is not None}


QUESTION_MARKS = ("?", "\uff1f")  # "？": full-width, as Chinese and Japanese write it


def asking(session: Session, *, partition: str, pks: Sequence[int]) -> set[int]:
    """Those of the notes `pks` whose text asks something (holds a question mark, ASCII or
    the full-width one of Chinese and Japanese): what is said right after them is likely the
    answer. One statement by primary key."""
    if not pks:
        return set()
    # The partition is checked on the rows, not in the statement: given both, SQLite walks
    # the partition's index instead of looking the keys up (tests/services/test_recall_plans).
    stmt = select(Note.pk, Note.partition).where(
        Note.pk.in_(list(pks)),
        or_(*(Note.content.contains(mark, autoescape=True) for mark in QUESTION_MARKS)),
    )
    return {pk for pk, part in session.execute(stmt) if part == partition}


def adjacent(
    session: Session, *, partition: str, seeds: Sequence[tuple[int, str | None, datetime]]
) -> list[tuple[int, int | None, int | None]]:
    """For each seed (pk, session id, event time) in `partition`: (seed pk, the pk of the
    unit said just before it in its session or None, the one just after or None), one row a
    seed."""
    if not seeds:
        return []
    params: dict[str, object] = {"p": partition}
    for i, (pk, sid, t) in enumerate(seeds):
        params |= {f"s{i}": pk, f"sid{i}": sid, f"t{i}": t}
    rows = session.execute(_adjacent(len(seeds)), params).all()
    return [(seed, before, after) for seed, before, after in rows]


@functools.lru_cache(maxsize=64)
def _adjacent(n: int) -> TextClause:
    """For `n` seeds (:s<i> pk, :sid<i> session, :t<i> event time) in partition :p, the
    conversation units said just before and just after each in its session, in the order
    (event time, pk): two seeks per seed on ix_notes_partition_session."""
    rows = ", ".join(f"(:s{i}, :sid{i}, :t{i})" for i in range(n))
    near = (
        "SELECT n.pk FROM notes n WHERE n.partition = :p AND n.session_id = seeds.sid "
        "AND n.kind IN ('turn', 'round') AND (n.event_time, n.pk) {op} (seeds.t, seeds.seed) "
        "ORDER BY n.event_time {dir}, n.pk {dir} LIMIT 1"
    )
    stmt = text(
        f"WITH seeds(seed, sid, t) AS (VALUES {rows}) SELECT seeds.seed, "
        f"({near.format(op='<', dir='DESC')}), ({near.format(op='>', dir='ASC')}) FROM seeds"
    )
    return stmt.bindparams(*(bindparam(f"t{i}", type_=UTCDateTime()) for i in range(n)))
