"""Work that must happen once across replicas on one database: reinforcement increments from
several replicas add up, and only one replica sweeps decay at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from memsvc import Memory
from memsvc.db.models import Note
from memsvc.embed import CachedEmbedder
from memsvc.services.decay import SWEEP_LOCK, sweep
from tests.conftest import PG_URL, make_settings


@pytest.fixture
def pair(db_url: str, tmp_path: Path, embedder: CachedEmbedder) -> Iterator[tuple[Memory, Memory]]:
    a = Memory(make_settings(tmp_path / "a", db_url), embedder=embedder)
    b = Memory(make_settings(tmp_path / "b", db_url), embedder=embedder)
    yield a, b
    a.close()
    b.close()


def test_reinforcement_from_two_replicas_adds_up(pair: tuple[Memory, Memory]) -> None:
    a, b = pair
    for text in ("I like green tea.", "My sister lives in Oslo.", "I run on Sundays."):
        a.add(text, user_id="alice", infer=False)
    with a.runtime.db.read() as session:
        rows = session.execute(select(Note.pk, Note.strength, Note.last_recalled_at)).all()
    pks = [r.pk for r in rows]
    start = {r.pk: (r.strength, r.last_recalled_at) for r in rows}
    late = max(r.last_recalled_at for r in rows) + timedelta(days=3)
    rounds = 20
    for i in range(rounds):  # each replica's searches recalled every note `rounds` times
        a.runtime.reinforcer.record(pks, late - timedelta(hours=i))
        b.runtime.reinforcer.record(pks, late - timedelta(hours=2 * i))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def flush(mem: Memory) -> None:
        try:
            barrier.wait()
            mem.runtime.reinforcer.flush(mem.runtime.db)
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=flush, args=(m,)) for m in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    with a.runtime.db.read() as session:
        after = session.execute(
            select(Note.pk, Note.strength, Note.recall_count, Note.last_recalled_at)
        ).all()
    for row in after:
        assert row.strength == pytest.approx(start[row.pk][0] + 2 * rounds)
        assert row.recall_count == 2 * rounds
        assert row.last_recalled_at == late
    # An older recall adds strength but never moves the clock backwards.
    a.runtime.reinforcer.record(pks[:1], late - timedelta(days=30))
    a.runtime.reinforcer.flush(a.runtime.db)
    with a.runtime.db.read() as session:
        first = session.get(Note, pks[0])
        assert first is not None and first.last_recalled_at == late


def test_one_sweeper_at_a_time(pg_schema: str, tmp_path: Path, embedder: CachedEmbedder) -> None:
    """While another replica holds the sweep's advisory lock, a sweep does nothing."""
    settings = make_settings(tmp_path, pg_schema, decay={"enabled": True})
    with Memory(settings, embedder=embedder) as mem:
        mem.add("An old note.", user_id="alice", infer=False)
        far = datetime.now(UTC) + timedelta(days=3650)
        rt = mem.runtime
        parts = {"db": rt.db, "reinforcer": rt.reinforcer, "settings": rt.settings}
        engine = sa.create_engine(PG_URL)
        try:
            with engine.connect() as other:  # another replica, mid-sweep
                lock = sa.text("SELECT pg_try_advisory_lock(:k)")
                assert other.execute(lock, {"k": SWEEP_LOCK}).scalar() is True
                held = sweep(**parts, as_of=far)
                assert held.skipped and held.forgotten == 0
                other.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEP_LOCK})
                other.commit()
        finally:
            engine.dispose()
        free = sweep(**parts, as_of=far)
        assert not free.skipped and free.checked == 1 and free.forgotten == 1
