"""LLM enrichment jobs cannot wedge the queue: inserts are idempotent, a job that keeps
raising is parked as failed (and counted in /metrics), and the jobs behind it still run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from memsvc import Memory
from memsvc.api.heap import GcPauses
from memsvc.api.metrics import RequestMetrics, render
from memsvc.db.models import Job, NoteLink
from memsvc.embed import CachedEmbedder
from memsvc.services import jobs
from tests.conftest import make_settings
from tests.support.llm_actions import garbage
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import FixtureLLMServer, prompt

T0 = datetime(2024, 2, 5, 9, tzinfo=UTC)


@pytest.fixture
def mem(
    tmp_path: Path, db_url: str, embedder: CachedEmbedder, llm_server: FixtureLLMServer
) -> Iterator[Memory]:
    llm = llm_settings(llm_server, job_max_attempts=2).model_dump()
    with Memory(make_settings(tmp_path, db_url, llm=llm), embedder=embedder) as m:
        yield m


def _jobs(mem: Memory) -> list[tuple[str, int]]:
    with mem.runtime.db.read() as session:
        return [(j.status, j.attempts) for j in session.scalars(select(Job).order_by(Job.pk))]


def test_enrichment_of_an_offline_linked_note_finishes(
    mem: Memory, llm_server: FixtureLLMServer
) -> None:
    # The LLM answers garbage: both notes are written offline, linked offline, and queued.
    broken = llm_server.add(prompt("memorize"), garbage())
    a = mem.add("I adopted a beagle called Max.", user_id="u", timestamp=T0).results[0]
    b = mem.add(
        "Max the beagle loves long walks in the park.",
        user_id="u",
        timestamp=T0 + timedelta(days=1),
    ).results[0]
    assert [(x.id, x.direction) for x in mem.links(b.id or "", user_id="u")] == [(a.id, "out")]
    assert [s for s, _ in _jobs(mem)] == ["pending", "pending"]
    llm_server.rules.remove(broken)
    # The fixture model links B to A again (they share "beagle"): the link exists already.
    mem.sync()
    assert _jobs(mem) == [("done", 0), ("done", 0)]
    assert mem.get(b.id or "", user_id="u").context.startswith("The user talks about")
    with mem.runtime.db.read() as session:
        edges = session.execute(select(NoteLink.source_pk, NoteLink.target_pk)).all()
    assert len(edges) == len(set(edges))


def test_a_job_that_keeps_raising_is_parked_and_the_queue_moves_on(mem: Memory) -> None:
    # A broken job first in the queue (its payload makes enrichment raise), a good one after.
    with mem.runtime.db.write() as session:
        session.add(Job(kind="enrich", partition="x", payload={"note_ids": 5}, status="pending"))
    mem.add("My locker code is 4417.", user_id="u", timestamp=T0, wait=False)
    deps = mem.runtime.ingest_deps()
    jobs.run_pending(deps=deps)
    assert _jobs(mem) == [("pending", 1), ("done", 0)]  # backed off; the next one ran
    with mem.runtime.db.write() as session:  # its backoff is over
        session.execute(update(Job).values(run_after=datetime.now(UTC)))
    jobs.run_pending(deps=deps)
    assert _jobs(mem) == [("failed", 2), ("done", 0)]  # parked after job_max_attempts
    with mem.runtime.db.read() as session:
        errors = session.scalars(select(Job.last_error).order_by(Job.pk)).all()
    assert errors[0].startswith("TypeError") and errors[1] == ""
    with mem.runtime.db.write() as session:
        session.execute(update(Job).values(run_after=datetime.now(UTC)))
    assert jobs.run_pending(deps=deps) == 0 and _jobs(mem)[0] == ("failed", 2)  # not retried
    text = render(RequestMetrics(), mem.runtime, GcPauses())
    assert 'memsvc_jobs{status="failed"} 1' in text
