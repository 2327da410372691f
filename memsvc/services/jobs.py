"""The durable job queue: LLM enrichment of notes stored while the LLM was away or skipped
(`wait=false`). Jobs are rows committed with the notes they concern, so they survive
restarts; a job whose LLM call fails again is retried later with exponential backoff. A job
that raises (a bug, a constraint the data breaks) `llm.job_max_attempts` times is parked as
`failed` with its last error: counted in `/metrics`, never picked up again, and the jobs
behind it keep running. An unavailable LLM is not a failure of the job: it only backs off.

Enriching a stored note does what ingest would have done with the LLM: new attributes and
key (re-embedded), then the TiM decision — a MERGE folds the note into its target (its
provenance and strength move over, the duplicate row goes), a SUPERSEDE closes the target's
validity — plus links and neighbour evolution.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from memsvc.db.engine import Database
from memsvc.db.models import Job, Note
from memsvc.deps import IngestDeps
from memsvc.llm import LLMUsage
from memsvc.services import history
from memsvc.services.enrich import refresh_key
from memsvc.services.planning import Plan, Unit, embed_evolutions, embed_units, find_candidates
from memsvc.services.scope import Scope
from memsvc.services.writer import Writer
from memsvc.stores.indexes import bump_version

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)
# A `running` job untouched this long was left by a process that died: any replica takes it
# back. Shorter would let a replica take a job another live replica is still running.
RUNNING_LEASE = timedelta(minutes=10)


def reset_interrupted(*, db: Database) -> int:
    """Jobs left `running` by a crash (older than RUNNING_LEASE) go back to the queue."""
    cutoff = datetime.now(UTC) - RUNNING_LEASE
    with db.write() as session:
        res = session.execute(
            update(Job)
            .where(Job.status == "running", Job.updated_at < cutoff)
            .values(status="pending")
        )
        return int(res.rowcount or 0)  # type: ignore[attr-defined]


def claim(session: Session, now: datetime, limit: int) -> list[Job]:
    """Mark up to `limit` due jobs `running` in the caller's transaction. PostgreSQL: FOR
    UPDATE SKIP LOCKED, so replicas claiming at once never take the same job; SQLite: the
    write transaction (BEGIN IMMEDIATE) already serialises claims."""
    jobs = session.scalars(
        select(Job)
        .where(Job.status == "pending", Job.run_after <= now)
        .order_by(Job.pk)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for job in jobs:
        job.status = "running"
    session.flush()
    return list(jobs)


def run_pending(*, deps: IngestDeps, limit: int = 10) -> int:
    """Run up to `limit` due jobs; returns how many finished. No-op without an LLM. `deps`:
    enriching a note does what ingest would have done with the LLM, so it uses what ingest
    uses."""
    if not deps.llm.enabled:
        return 0
    now = datetime.now(UTC)
    with deps.db.write() as session:
        claimed = [(j.pk, j.partition, dict(j.payload)) for j in claim(session, now, limit)]
    done = 0
    for pk, partition, payload in claimed:
        raised = False
        try:
            ok = _enrich(deps, partition, list(payload.get("note_ids", [])))
        except Exception as exc:  # a bug must not wedge the queue: record and back off
            log.exception("job %s failed", pk)
            ok, raised, error = False, True, f"{type(exc).__name__}: {exc}"[:2000]
        else:
            error = "" if ok else "LLM unavailable"
        park_after = deps.settings.llm.job_max_attempts if raised else 0
        _finish(deps.db, pk, ok, error, park_after=park_after)
        done += ok
    return done


def _finish(db: Database, pk: int, ok: bool, error: str, *, park_after: int = 0) -> None:
    """Record a run: done, or back to the queue with backoff; `park_after` > 0: a job that
    raised that many times is parked as failed instead."""
    with db.write() as session:
        job = session.get(Job, pk)
        if job is None:
            return
        if ok:
            job.status = "done"
            return
        job.attempts += 1
        job.last_error = error
        if park_after and job.attempts >= park_after:
            job.status = "failed"
            log.error("job %s parked as failed after %d attempts: %s", pk, job.attempts, error)
            return
        delay = min(timedelta(seconds=30 * 2 ** min(job.attempts, 10)), MAX_BACKOFF)
        job.status = "pending"
        job.run_after = datetime.now(UTC) + delay


def _units(notes: list[Note]) -> list[Unit]:
    import numpy as np

    units = []
    for i, note in enumerate(notes):
        unit = Unit(
            position=i,
            content=note.content,
            role=note.role,
            kind=note.kind,
            event_time=note.event_time,
            episode_ids=list(note.episode_ids or []),
            content_hash=note.content_hash,
            slots=[list(s) for s in note.slots or []],
        )
        if note.embedding is not None:
            unit.vector = np.frombuffer(note.embedding, dtype=np.float32).copy()
        units.append(unit)
    return units


def _enrich(deps: IngestDeps, partition: str, note_ids: list[str]) -> bool:
    from memsvc.services.planning_llm import decide_with_llm

    cfg = deps.settings.ingest
    with deps.db.read() as session:
        notes = list(
            session.scalars(
                select(Note)
                .where(Note.id.in_(note_ids), Note.partition == partition)
                .order_by(Note.pk)
            )
        )
        todo = [n for n in notes if n.enrichment != "llm" and n.status != "deleted"]
        if not todo:
            return True
        plan = Plan(units=_units(todo))
        mine = frozenset(n.pk for n in todo)
        find_candidates(session, partition, plan, cfg=cfg, indexes=deps.indexes, exclude=mine)
    usage = LLMUsage()
    decide_with_llm(plan, todo[0].session_id, usage, llm=deps.llm, cfg=cfg)
    answered = [u for u in plan.units if not u.pending_llm]
    if not answered:
        return False
    embed_units(answered, cfg=cfg, embedder=deps.embedder)
    embed_evolutions(plan, cfg=cfg, embedder=deps.embedder)
    scope = Scope(todo[0].namespace, todo[0].user_id, todo[0].agent_id, todo[0].session_id)
    with deps.db.session() as session, deps.indexes.writing(partition) as changes:
        model = deps.embedder.model_name
        writer = Writer(session, scope, changes, model, expand=cfg.key_expansion)
        for unit in answered:
            _apply(writer, unit, todo[unit.position].pk)
        for evo in plan.evolutions.values():
            writer.evolve(evo.pk, evo.tags, evo.context, evo.vector, evo.reason, "llm")
        still = [todo[u.position].id for u in plan.units if u.pending_llm]
        writer.enqueue_llm(still)
        bump_version(session, partition, scope.namespace)
        session.commit()
    return True


def _apply(writer: Writer, unit: Unit, pk: int) -> None:
    session = writer.session
    note = session.get(Note, pk)
    if note is None:
        return
    before = history.snapshot(note)
    note.keywords, note.tags, note.context, note.facts = (
        unit.keywords,
        unit.tags,
        unit.context,
        unit.facts,
    )
    note.enrichment = "llm"
    refresh_key(note, expand=writer.expand)
    assert unit.vector is not None
    note.embedding = unit.vector.astype("float32").tobytes()
    writer.changes.upsert([note.pk], unit.vector.reshape(1, -1))
    # Through the writer's rows, so the ENRICH row precedes the MERGE/DELETE rows that follow.
    writer.record(note, "ENRICH", before=before, actor="llm")
    target = writer.resolve(unit.target) if unit.target is not None and unit.target >= 0 else None
    if (
        unit.op == "MERGE"
        and target is not None
        and target.pk != note.pk
        and target.status == "active"
    ):
        writer.fold(note, target, unit.reason, keep_text=unit.keep_text)
        return
    if unit.op == "SUPERSEDE" and target is not None and target.pk != note.pk:
        writer.supersede(target, note, "llm", unit.reason)
    writer.add_links(note, unit)
