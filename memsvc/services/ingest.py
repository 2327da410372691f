"""Ingest: store episodes verbatim, turn them into notes, decide, index — one transaction.

Order of work, chosen so an acknowledged write is never lost:
1. everything slow (attributes, embeddings, candidate lookup, the LLM) happens first, in
   `planning` — nothing is written yet, and an LLM failure only means the offline path;
2. one transaction writes episodes, notes, merges/supersessions, links, history, slots, the
   partition version and any queued LLM job;
3. the vector index and link graph apply the change after the commit (derived state: a crash
   between 2 and 3 is repaired from the database on the next start).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from memsvc.config import ApiSettings
from memsvc.db import prebound
from memsvc.db.models import Episode, Note
from memsvc.deps import IngestDeps
from memsvc.errors import InvalidInput
from memsvc.llm import LLMUsage
from memsvc.schemas import AddResult, LLMUsageRead, MemoryCreate, ThoughtCreate
from memsvc.services import evolutions, idempotency
from memsvc.services.planning import (
    Plan,
    Unit,
    add_offline_attributes,
    decide_offline,
    embed_evolutions,
    embed_units,
    evolve_offline,
    find_candidates,
    link_offline,
    split_parts,
)
from memsvc.services.rows import values
from memsvc.services.scope import Scope
from memsvc.services.units import make_units
from memsvc.services.writer import Writer
from memsvc.stores.indexes import bump_version


def new_id() -> str:
    return str(uuid.uuid4())


def check_limits(texts: list[str], *, api: ApiSettings) -> None:
    if len(texts) > api.max_messages:
        raise InvalidInput(
            f"too many messages: {len(texts)} > {api.max_messages}",
            details={"limit": api.max_messages},
        )
    for i, text in enumerate(texts):
        if len(text) > api.max_content_chars:
            raise InvalidInput(
                f"content too long: item {i} has {len(text)} characters > {api.max_content_chars}",
                details={"index": i, "limit": api.max_content_chars},
            )
        if not text.strip():
            raise InvalidInput(f"content of item {i} is blank", details={"index": i})


# (role, content, event time, speaker name)
Item = tuple[str, str, datetime, str | None]


def make_episodes(
    scope: Scope, items: list[Item], meta: dict[str, object], now: datetime
) -> list[Episode]:
    return [
        Episode(
            id=new_id(),
            **scope.columns(),
            role=role,
            name=name,
            content=content,
            event_time=when,
            seq=i,
            meta=dict(meta),
            created_at=now,
        )
        for i, (role, content, when, name) in enumerate(items)
    ]


def prepare_units(units: list[Unit], *, deps: IngestDeps, infer: bool) -> None:
    """What a unit needs before any decision, from its own text alone: attributes (with
    `infer`), sentence parts and the key's and parts' vectors, in one embedding call. Nothing
    here reads the store, so several adds' units can be prepared together (`add_many`)."""
    cfg = deps.settings.ingest
    if infer:
        add_offline_attributes(units, cfg.keyphrases, deps.attributes)
    split_parts(units, cfg=cfg)
    embed_units(units, cfg=cfg, embedder=deps.embedder, parts=True)


def decide_units(
    scope: Scope,
    units: list[Unit],
    *,
    deps: IngestDeps,
    infer: bool,
    wait: bool,
    usage: LLMUsage,
    started: float,
) -> Plan:
    """Prepared units against the scope as it is now: candidates, decisions, links,
    evolution. With an LLM and `wait=false`, the offline plan is written now and the LLM
    enriches the notes from the job queue after the acknowledgement; `started` is when the
    add's work began (the LLM's wait bound counts from it)."""
    cfg, embedder, llm = deps.settings.ingest, deps.embedder, deps.llm
    plan = Plan(units=units)
    if not infer:
        return plan
    # A read-only session: on SQLite a write session would hold the database's write lock
    # through embedding and the LLM call, stalling every other writer.
    with deps.db.read() as reader:
        find_candidates(reader, scope.partition, plan, cfg=cfg, indexes=deps.indexes)
    if llm.enabled and wait:
        from memsvc.services.planning_llm import decide_with_llm

        # The bound counts from the start of the add's work, embedding included, so an add
        # answers within about `wait_bound_s` however long the embedding took; past it the
        # offline plan is written now and the job queue enriches.
        bound = deps.settings.llm.wait_bound_s
        if bound is not None:
            bound = max(0.0, bound - (time.monotonic() - started))
        decide_with_llm(plan, scope.session_id, usage, llm=llm, cfg=cfg, bound_s=bound)
        # New attributes, new key.
        embed_units([u for u in units if u.enrichment == "llm"], cfg=cfg, embedder=embedder)
    else:
        for unit in units:
            decide_offline(plan, unit, cfg=cfg)
            link_offline(plan, unit, cfg=cfg)
            evolve_offline(plan, unit, cfg=cfg)
            unit.pending_llm = llm.enabled
    embed_evolutions(plan, cfg=cfg, embedder=embedder)
    if plan.evolutions:
        # Their rows now, outside the write: the writer makes their changes before the lock.
        with deps.db.read() as reader:
            evolutions.read(reader, plan, scope.partition)
    return plan


def insert_episodes(session: Session, episodes: list[Episode]) -> None:
    """One bulk INSERT of the episodes' rows, outside the unit of work: nothing reads them
    back by key in the write, and the objects stay as the caller built them. Their driver
    parameters are made before the statement: it is the write's first, the one that takes
    SQLite's write lock (`memsvc.db.prebound`)."""
    if episodes:
        dialect = session.get_bind().dialect
        prebound.insert_bound(
            session, *prebound.bind(dialect, Episode, [values(ep) for ep in episodes])
        )


def write_plan(
    session: Session,
    scope: Scope,
    plan: Plan,
    episodes: list[Episode],
    meta: dict[str, object],
    *,
    deps: IngestDeps,
    actor: str,
    source_ids: list[str] | None = None,
    seal: Callable[[Writer], None] | None = None,
) -> Writer:
    """One transaction for the whole plan; `seal` runs last before the commit (an add's
    idempotency record is written there, so it commits exactly with the memories)."""
    expand = deps.settings.ingest.key_expansion
    with deps.indexes.writing(scope.partition) as changes:
        writer = Writer(session, scope, changes, deps.embedder.model_name, expand=expand)
        note_meta = dict(meta)
        writer.prepare(plan, note_meta, actor)  # before the first statement takes the lock
        insert_episodes(session, episodes)
        writer.apply(plan, note_meta, actor)
        if source_ids:
            _link_sources(session, writer, scope, source_ids)
        writer.enqueue_llm(writer.out.pending_llm)
        latest = max((ep.event_time for ep in episodes), default=None)
        bump_version(session, scope.partition, scope.namespace, clock=latest)
        if seal is not None:
            seal(writer)
        session.commit()
    return writer


def _link_sources(session: Session, writer: Writer, scope: Scope, source_ids: list[str]) -> None:
    sources = session.scalars(
        select(Note).where(Note.id.in_(source_ids), Note.partition == scope.partition)
    ).all()
    missing = sorted(set(source_ids) - {n.id for n in sources})
    if missing:
        raise InvalidInput("source_ids not found in this scope", details={"missing": missing})
    thought = next(iter(writer.resolved.values()), None)
    if thought is not None:
        for src in sources:
            writer.link(thought, src.pk, "derived_from", "thought drawn from this memory")


@dataclass
class Pending:
    """An add checked and turned into units, nothing written yet (`begin`)."""

    scope: Scope
    req: MemoryCreate
    key: str | None
    request_hash: str
    episodes: list[Episode]
    units: list[Unit]
    usage: LLMUsage = field(default_factory=LLMUsage)


def begin(
    *, deps: IngestDeps, scope: Scope, req: MemoryCreate, idempotency_key: str | None = None
) -> AddResult | Pending:
    """The add's checks and units, or the stored answer of an idempotent retry. Every
    error a caller can cause is raised here, before anything is written."""
    key = idempotency_key
    settings = deps.settings
    request_hash = idempotency.digest(scope, req) if key else ""
    if key:
        ttl = timedelta(seconds=settings.api.idempotency_ttl_s)
        with deps.db.read() as reader:
            stored = idempotency.replay(reader, scope.namespace, key, request_hash, ttl)
        if stored is not None:
            return stored
    texts = [m.content for m in req.messages] if req.messages is not None else [req.text or ""]
    check_limits(texts, api=settings.api)
    now = datetime.now(UTC)
    default_time = req.timestamp or now
    conversation = req.messages is not None
    items: list[Item]
    if req.messages is not None:
        items = [(m.role, m.content, m.timestamp or default_time, m.name) for m in req.messages]
    else:
        role = "agent" if req.kind == "thought" else "user"
        items = [(role, req.text or "", default_time, None)]
    kind = req.kind or ("turn" if conversation else "fact")
    episodes = make_episodes(scope, items, req.metadata, now)
    granularity = settings.ingest.granularity
    units = make_units(
        episodes,
        kind,
        granularity if kind == "turn" else "turn",
        conversation,
        names=settings.ingest.speaker_names,
        replies=settings.ingest.named_rounds,
    )
    return Pending(scope, req, key, request_hash, episodes, units)


def finish(*, session: Session, deps: IngestDeps, add: Pending, started: float) -> AddResult:
    """Decide the prepared units against the scope as it is now and write them: one
    transaction, which also records the idempotency key."""
    scope, req, key = add.scope, add.req, add.key
    plan = decide_units(
        scope,
        add.units,
        deps=deps,
        infer=req.infer,
        wait=req.wait,
        usage=add.usage,
        started=started,
    )
    ttl = timedelta(seconds=deps.settings.api.idempotency_ttl_s)

    def seal(writer: Writer) -> None:
        if key is None:
            return
        # Checked again under the partition's write lock: a concurrent retry that committed
        # first wins, and this request writes nothing.
        stored = idempotency.replay(session, scope.namespace, key, add.request_hash, ttl)
        if stored is not None:
            raise idempotency.Replayed(stored)
        result = _result(writer, add.episodes, add.usage)
        idempotency.remember(session, scope.namespace, key, add.request_hash, result)

    try:
        writer = write_plan(
            session,
            scope,
            plan,
            add.episodes,
            req.metadata,
            deps=deps,
            actor=_actor(plan),
            seal=seal,
        )
    except idempotency.Replayed as hit:
        session.rollback()
        return hit.result
    except IntegrityError:
        session.rollback()
        if key is None:
            raise
        # Another process committed the same key between our check and our commit.
        with deps.db.read() as reader:
            stored = idempotency.replay(reader, scope.namespace, key, add.request_hash, ttl)
        if stored is None:
            raise
        return stored
    return _result(writer, add.episodes, add.usage)


def add(
    *,
    session: Session,
    deps: IngestDeps,
    scope: Scope,
    req: MemoryCreate,
    idempotency_key: str | None = None,
) -> AddResult:
    """Store the messages; with `idempotency_key`, a retry of the same request gets the first
    answer back and stores nothing (see `memsvc.services.idempotency`)."""
    started = time.monotonic()
    pending = begin(deps=deps, scope=scope, req=req, idempotency_key=idempotency_key)
    if isinstance(pending, AddResult):
        return pending
    prepare_units(pending.units, deps=deps, infer=req.infer)
    return finish(session=session, deps=deps, add=pending, started=started)


def _result(writer: Writer, episodes: list[Episode], usage: LLMUsage) -> AddResult:
    return AddResult(
        results=writer.out.events,
        episode_ids=[e.id for e in episodes],
        llm=LLMUsageRead(**usage.model_dump(exclude={"total_tokens"})),
        pending_enrichment=len(writer.out.pending_llm),
    )


def add_thought(
    *, session: Session, deps: IngestDeps, scope: Scope, req: ThoughtCreate
) -> AddResult:
    """A conclusion the agent reached, stored as a `thought` note linked to its sources."""
    started = time.monotonic()
    check_limits([req.text], api=deps.settings.api)
    now = datetime.now(UTC)
    episodes = make_episodes(
        scope, [("agent", req.text, req.timestamp or now, None)], req.metadata, now
    )
    units = make_units(episodes, "thought", "turn", conversation=False)
    usage = LLMUsage()
    prepare_units(units, deps=deps, infer=True)
    plan = decide_units(
        scope, units, deps=deps, infer=True, wait=req.wait, usage=usage, started=started
    )
    writer = write_plan(
        session,
        scope,
        plan,
        episodes,
        req.metadata,
        deps=deps,
        actor=_actor(plan),
        source_ids=req.source_ids,
    )
    return _result(writer, episodes, usage)


def _actor(plan: Plan) -> str:
    return "llm" if any(u.enrichment == "llm" for u in plan.units) else "offline"
