"""Jobs run once across replicas: concurrent claims never take the same job, and a replica
that starts does not take back jobs another replica is running right now."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from memsvc.db.models import Job
from memsvc.embed import CachedEmbedder
from memsvc.runtime import Runtime
from memsvc.services import jobs
from tests.conftest import make_settings


@pytest.fixture
def rt(db_url: str, tmp_path: Path, embedder: CachedEmbedder) -> Iterator[Runtime]:
    runtime = Runtime(make_settings(tmp_path, db_url), embedder=embedder)
    yield runtime
    runtime.close()


def queue(rt: Runtime, n: int) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    with rt.db.write() as session:
        session.add_all(
            Job(kind="enrich", partition="default/u/a", payload={"note_ids": []}, run_after=past)
            for _ in range(n)
        )


def test_concurrent_claims_are_disjoint(rt: Runtime) -> None:
    """Two replicas claiming at once: the second skips the rows the first holds (PostgreSQL:
    FOR UPDATE SKIP LOCKED). On SQLite the first claim holds the only write lock, so the
    second claim starts after it and finds those jobs running."""
    queue(rt, 6)
    now = datetime.now(UTC)
    with rt.db.write() as first:
        mine = [j.pk for j in jobs.claim(first, now, 4)]
        if rt.db.is_sqlite:
            first.commit()
        with rt.db.write() as second:
            if not rt.db.is_sqlite:  # a claim that waited for the first one's rows fails
                second.execute(text("SET LOCAL lock_timeout = '2s'"))
            theirs = [j.pk for j in jobs.claim(second, now, 4)]
    assert len(mine) == 4 and len(theirs) == 2 and not set(mine) & set(theirs)
    with rt.db.read() as session:
        statuses = set(session.scalars(select(Job.status)))
    assert statuses == {"running"}


def test_start_up_leaves_jobs_another_replica_runs(rt: Runtime) -> None:
    queue(rt, 2)
    with rt.db.write() as session:
        claimed = jobs.claim(session, datetime.now(UTC), 2)
        stale_pk = claimed[0].pk
    old = datetime.now(UTC) - jobs.RUNNING_LEASE - timedelta(minutes=1)
    with rt.db.write() as session:  # a replica that crashed long ago left this one running
        session.execute(update(Job).where(Job.pk == stale_pk).values(updated_at=old))
    assert jobs.reset_interrupted(db=rt.db) == 1
    with rt.db.read() as session:
        status = {pk: st for pk, st in session.execute(select(Job.pk, Job.status))}
    assert status[stale_pk] == "pending" and list(status.values()).count("running") == 1
