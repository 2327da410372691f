"""Planning an ingest: everything slow happens here, before the transaction.

For each new unit (a future note): attributes (offline heuristics, or the LLM), its A-MEM key
embedding, the existing notes that matter to it (nearest neighbours, same text, same slot),
and the Think-in-Memory decision, links and neighbour evolution. Existing notes are keyed by
their primary key; earlier units of the same batch by a *virtual* key ``-1 - position`` so a
turn can merge with, supersede or link to a turn sent in the same request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from memsvc.config import IngestSettings
from memsvc.db.models import Note, NoteSlot
from memsvc.embed import Embedder
from memsvc.ops import Existing, Incoming, decide
from memsvc.services.enrich import key_text
from memsvc.stores.indexes import IndexRegistry
from memsvc.text.attributes import AttributeWorkers
from memsvc.text.keyphrases import KeyphraseMethod
from memsvc.text.parts import MAX_PARTS, key_parts
from memsvc.text.tokenize import words

Vector = np.ndarray


def virtual(position: int) -> int:
    return -1 - position


@dataclass
class Unit:
    position: int
    content: str
    role: str | None
    kind: str
    event_time: datetime
    episode_ids: list[str]
    content_hash: str
    previous: str | None = None
    keywords: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    context: str = ""
    facts: list[str] = field(default_factory=list)
    slots: list[list[str]] = field(default_factory=list)
    vector: Vector | None = None
    op: str = "ADD"
    target: int | None = None
    superseded: tuple[int, ...] = ()
    reason: str = ""
    # A MERGE of other wording (the LLM's call): the target keeps this text among its facts.
    keep_text: bool = False
    links: list[tuple[int, str, float]] = field(default_factory=list)
    enrichment: str = "offline"
    pending_llm: bool = False
    expand_key: bool = True
    # What the sentence-level parts come from (the user's words of a round); None: content.
    part_source: str | None = None
    parts: list[str] = field(default_factory=list)
    part_vectors: Vector | None = None

    def key(self) -> str:
        if not self.expand_key:
            return self.content
        return key_text(self.content, self.keywords, self.tags, self.context, self.facts)


@dataclass
class Neighbor:
    """An existing note as planning sees it."""

    pk: int
    content: str
    role: str | None
    kind: str
    keywords: list[str]
    tags: list[str]
    context: str
    facts: list[str]
    slots: list[list[str]]
    content_hash: str
    current: bool
    event_time: datetime


@dataclass(frozen=True)
class StoredNote:
    """An evolved neighbour's row as read after planning (`services.evolutions.read`): its
    values as the driver gave them (`raw`, compared again under the lock) and decoded."""

    raw: tuple[Any, ...]
    values: dict[str, Any]


@dataclass
class Evolution:
    pk: int
    tags: list[str] | None = None
    context: str | None = None
    reason: str = ""
    vector: Vector | None = None


@dataclass
class Plan:
    units: list[Unit]
    neighbors: dict[int, Neighbor] = field(default_factory=dict)
    # unit position -> [(key, similarity)], best first (existing and earlier in-batch units)
    candidates: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    evolutions: dict[int, Evolution] = field(default_factory=dict)
    # Evolved stored notes as read after planning (`services.evolutions.read`).
    stored: dict[int, StoredNote] = field(default_factory=dict)


def add_offline_attributes(
    units: list[Unit], method: KeyphraseMethod, workers: AttributeWorkers
) -> None:
    reqs = [(u.content, u.role, u.previous, method) for u in units]
    for unit, attrs in zip(units, workers.compute_many(reqs), strict=True):
        unit.keywords, unit.tags, unit.context = attrs.keywords, attrs.tags, attrs.context
        unit.facts, unit.slots = attrs.facts, attrs.slots


def parts_of(cfg: IngestSettings, source: str, content: str, kind: str) -> list[str]:
    """A note's sentence-level parts (ingest and updates alike)."""
    # A session summary stands for a whole conversation: it may use every part slot.
    limit = MAX_PARTS if kind == "summary" and cfg.max_parts else cfg.max_parts
    if kind != "summary" and cfg.parts_min_words and len(words(content)) < cfg.parts_min_words:
        return []
    return key_parts(source, max_parts=limit, whole=content)


def split_parts(units: list[Unit], *, cfg: IngestSettings) -> None:
    for unit in units:
        source = unit.part_source if unit.part_source is not None else unit.content
        unit.parts = parts_of(cfg, source, unit.content, unit.kind)


CONTEXT_CHARS = 160


def add_context(units: list[Unit], max_words: int | None = None) -> None:
    """Contextual keys (`ingest.context_keys`): a unit without a context of its own (and, with
    `max_words`, no longer than that) gets the message before it, clipped, so a short answer
    is found by what it answers."""
    for unit in units:
        if max_words is not None and len(unit.content.split()) > max_words:
            continue
        if unit.previous and not unit.context:
            text = " ".join(unit.previous.split())
            if len(text) > CONTEXT_CHARS:
                text = text[: CONTEXT_CHARS - 1].rstrip() + "…"
            unit.context = "After: " + text


def embed_units(
    units: list[Unit], *, cfg: IngestSettings, embedder: Embedder, parts: bool = False
) -> None:
    """Embed the units' keys (and with `parts`, their parts) in one batch. Every unit's key is
    fixed here, so the `ingest.key_expansion` and `ingest.context_keys` settings are read in
    this one place."""
    if not units:
        return
    if cfg.context_keys and cfg.key_expansion:
        add_context(units, cfg.context_max_words)
    for unit in units:
        unit.expand_key = cfg.key_expansion
    texts = [u.key() for u in units]
    if parts:
        texts += [p for u in units for p in u.parts]
    vectors = embedder.embed(texts)
    for unit, vec in zip(units, vectors[: len(units)], strict=True):
        unit.vector = vec
    if parts:
        at = len(units)
        for unit in units:
            unit.part_vectors = vectors[at : at + len(unit.parts)] if unit.parts else None
            at += len(unit.parts)


# What planning reads of a candidate: its row's columns, not the ORM object (whose JSON
# columns, embedding and identity-map entry cost more than the decisions using them at 100k
# notes, where the ~400 candidates of an add are mostly distinct).
_NEIGHBOR_COLUMNS = (
    Note.pk,
    Note.content,
    Note.role,
    Note.kind,
    Note.keywords,
    Note.tags,
    Note.context,
    Note.facts,
    Note.slots,
    Note.content_hash,
    Note.status,
    Note.valid_to,
    Note.event_time,
)


def _neighbor(row: Row[*tuple[Any, ...]], as_of: datetime) -> Neighbor:
    current = row.status == "active" and (row.valid_to is None or row.valid_to > as_of)
    return Neighbor(
        pk=row.pk,
        content=row.content,
        role=row.role,
        kind=row.kind,
        keywords=list(row.keywords or []),
        tags=list(row.tags or []),
        context=row.context or "",
        facts=list(row.facts or []),
        slots=[list(s) for s in row.slots or []],
        content_hash=row.content_hash,
        current=current,
        event_time=row.event_time,
    )


def find_candidates(
    session: Session,
    partition: str,
    plan: Plan,
    *,
    cfg: IngestSettings,
    indexes: IndexRegistry,
    exclude: frozenset[int] = frozenset(),
) -> None:
    """Fill `plan.neighbors` and `plan.candidates` for every unit. `exclude`: notes that are
    the units themselves (re-planning stored notes), never their own candidates."""
    units = plan.units
    vecs = np.vstack([u.vector for u in units if u.vector is not None]).astype(np.float32)
    sims: dict[int, dict[int, float]] = {u.position: {} for u in units}
    k = cfg.neighbors
    if indexes.count(partition):
        scores, ids = indexes.search_many(partition, vecs, k + len(exclude))
        for u, row_s, row_i in zip(units, scores, ids, strict=True):
            sims[u.position].update(
                {int(i): float(s) for s, i in zip(row_s, row_i, strict=True) if i >= 0}
            )
    # Same text or same slot: found exactly in the database, however far in embedding space.
    hashes = {u.content_hash for u in units}
    slot_names = {name for u in units for name, _ in u.slots}
    extra: set[int] = set(
        session.scalars(
            select(Note.pk).where(Note.partition == partition, Note.content_hash.in_(hashes))
        )
    )
    if slot_names:
        extra |= set(
            session.scalars(
                select(NoteSlot.note_pk).where(
                    NoteSlot.partition == partition, NoteSlot.name.in_(slot_names)
                )
            )
        )
    wanted = extra | {pk for row in sims.values() for pk in row}
    rows = (
        session.execute(select(*_NEIGHBOR_COLUMNS).where(Note.pk.in_(wanted))).all()
        if wanted
        else []
    )
    latest = max(u.event_time for u in units)
    for found_row in rows:
        plan.neighbors[found_row.pk] = _neighbor(found_row, latest)
    # Same text or slot, found by the database: their similarity from their stored vectors.
    found = [pk for pk in extra if pk in plan.neighbors]
    stored = (
        session.execute(select(Note.pk, Note.embedding).where(Note.pk.in_(found))).all()
        if found
        else []
    )
    for pk, blob in stored:
        if blob is not None:
            vec = np.frombuffer(blob, dtype=np.float32)
            if vec.shape[0] == vecs.shape[1]:
                for u in units:
                    assert u.vector is not None
                    sims[u.position].setdefault(pk, float(vec @ u.vector))
    for u in units:
        row = [
            (pk, s)
            for pk, s in sims[u.position].items()
            if pk in plan.neighbors and pk not in exclude
        ]
        # Earlier units of the same batch are candidates too.
        for other in units[: u.position]:
            if other.vector is not None and u.vector is not None:
                row.append((virtual(other.position), float(other.vector @ u.vector)))
        plan.candidates[u.position] = sorted(row, key=lambda t: -t[1])


def _existing(plan: Plan, unit: Unit) -> list[Existing]:
    out: list[Existing] = []
    # Once a call: every earlier unit of the batch is a candidate, so asking each of them
    # whether any unit supersedes it made a batch's decisions cubic in its size.
    superseded = {key for u in plan.units for key in u.superseded}
    for key, sim in plan.candidates.get(unit.position, []):
        if key >= 0:
            n = plan.neighbors[key]
            out.append(
                Existing(
                    key, n.content_hash, sim, n.role, n.kind, _slots(n.slots), n.current, n.content
                )
            )
        else:
            o = plan.units[-1 - key]
            current = o.op != "NOOP" and key not in superseded
            out.append(
                Existing(
                    key, o.content_hash, sim, o.role, o.kind, _slots(o.slots), current, o.content
                )
            )
    return out


def _slots(slots: list[list[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((s[0], s[1]) for s in slots if len(s) == 2)


def decide_offline(plan: Plan, unit: Unit, *, cfg: IngestSettings) -> None:
    incoming = Incoming(unit.content, unit.content_hash, unit.role, unit.kind, _slots(unit.slots))
    if not cfg.skip_filler and decide(incoming, []).op == "NOOP":
        unit.op, unit.reason = "ADD", "new memory"
        return
    d = decide(incoming, _existing(plan, unit), merge_similarity=cfg.merge_similarity)
    unit.op, unit.target, unit.superseded, unit.reason = d.op, d.target, d.superseded, d.reason


def link_offline(plan: Plan, unit: Unit, *, cfg: IngestSettings) -> None:
    """A-MEM links without an LLM: similar enough and sharing a keyword or tag, or very similar."""
    if unit.op in {"MERGE", "NOOP"}:
        return
    mine = {w.lower() for w in unit.keywords + unit.tags}
    for key, sim in plan.candidates.get(unit.position, []):
        if len(unit.links) >= cfg.max_links or sim < cfg.link_min:
            break
        if key in unit.superseded:
            continue
        other = plan.neighbors.get(key) if key >= 0 else plan.units[-1 - key]
        if other is None or (key < 0 and other.op == "NOOP"):  # type: ignore[union-attr]
            continue
        shared = sorted(mine & {w.lower() for w in other.keywords + other.tags})
        if shared or sim >= cfg.link_strong:
            why = f"similar ({sim:.2f})" + (f"; shared: {', '.join(shared[:4])}" if shared else "")
            unit.links.append((key, why, round(sim, 4)))


def evolve_offline(plan: Plan, unit: Unit, *, cfg: IngestSettings) -> None:
    """Tag propagation: a close, linked neighbour picks up this note's new tags."""
    sims = dict(plan.candidates.get(unit.position, []))
    for key, _, _ in unit.links:
        if key < 0 or sims.get(key, 0.0) < cfg.evolve_min or not unit.tags:
            continue
        n = plan.neighbors[key]
        evo = plan.evolutions.get(key)
        tags = list(evo.tags if evo and evo.tags is not None else n.tags)
        new = [t for t in unit.tags if t not in tags][: cfg.evolve_max_tags]
        if new and len(tags) < 8:
            tags = (tags + new)[:8]
            reason = f"tags from a linked note: {', '.join(new)}"
            plan.evolutions[key] = Evolution(
                key, tags=tags, context=evo.context if evo else None, reason=reason
            )


def embed_evolutions(plan: Plan, *, cfg: IngestSettings, embedder: Embedder) -> None:
    """Evolved neighbours get a new key (their tags/context changed), embedded in one batch."""
    evos = [e for e in plan.evolutions.values() if e.pk in plan.neighbors]
    if not evos or not cfg.key_expansion:  # content-only keys do not change
        return
    keys = []
    for e in evos:
        n = plan.neighbors[e.pk]
        tags = e.tags if e.tags is not None else n.tags
        context = e.context if e.context is not None else n.context
        keys.append(key_text(n.content, n.keywords, tags, context, n.facts))
    for e, vec in zip(evos, embedder.embed(keys), strict=True):
        e.vector = vec
