"""How an import writes one partition's batch: ids already stored are skipped (or remapped
when taken elsewhere), vectors kept or computed, links and history resolved inside the
partition, all in one transaction with the index change applied after the commit. Used by
:func:`memsvc.services.transfer.import_records`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from memsvc.config import IngestSettings
from memsvc.db.models import Episode, Note, NoteHistory, NoteLink, NoteSlot
from memsvc.embed import Embedder
from memsvc.errors import InvalidInput
from memsvc.services import history
from memsvc.services.scope import Scope
from memsvc.services.transfer_format import columns, load, parse_time
from memsvc.services.units import content_hash
from memsvc.stores.indexes import IndexRegistry, bump_version

_CHUNK = 500  # ids per IN (...) query


class ImportResult(BaseModel):
    """What an import wrote (and skipped: rows already present, dangling links)."""

    episodes: int = 0
    notes: int = 0
    links: int = 0
    history: int = 0
    skipped: int = 0
    reembedded: int = 0
    partitions: int = 0


@dataclass
class Batch:
    partition: str
    episodes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    note_ids: set[str] = field(default_factory=set)

    def add(self, item: dict[str, Any]) -> None:
        kind = item["type"]
        {"episode": self.episodes, "note": self.notes, "link": self.links}.get(
            kind, self.history
        ).append(item)
        if kind == "note":
            self.note_ids.add(str(item["id"]))

    def __len__(self) -> int:
        return len(self.episodes) + len(self.notes) + len(self.links) + len(self.history)


class Importer:
    def __init__(
        self,
        session: Session,
        namespace: str,
        result: ImportResult,
        reembed: bool,
        *,
        cfg: IngestSettings,
        indexes: IndexRegistry,
        embedder: Embedder,
    ) -> None:
        """`cfg`: how notes without vectors are keyed and split, as ingest does."""
        self.session, self.namespace, self.result = session, namespace, result
        self.reembed = reembed
        self.cfg, self.indexes, self.embedder = cfg, indexes, embedder
        self.source_model: str | None = None
        self.source_dim: int | None = None
        self.episode_cols, self.note_cols = columns(Episode), columns(Note)
        self.history_cols = columns(NoteHistory)

    def partition_of(self, item: dict[str, Any], batch: Batch | None) -> str | None:
        if item["type"] in ("episode", "note"):
            ids = {k: item.get(k) or None for k in ("user_id", "agent_id", "session_id")}
            return Scope(self.namespace, **ids).partition
        note_id = str(item.get("source") if item["type"] == "link" else item.get("note_id"))
        if batch is not None and note_id in batch.note_ids:
            return batch.partition
        # A link or history row whose note came in an earlier batch (or request).
        found = select(Note.partition).where(Note.id == note_id, Note.namespace == self.namespace)
        return self.session.scalar(found)

    def _taken(self, model: type[Episode] | type[Note], ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for at in range(0, len(ids), _CHUNK):
            stmt = select(model.id, model.partition).where(model.id.in_(ids[at : at + _CHUNK]))
            out.update(self.session.execute(stmt).all())
        return out

    def _fresh(
        self,
        model: type[Episode] | type[Note],
        records: list[dict[str, Any]],
        p: str,
        remap: dict[str, str],
    ) -> list[dict[str, Any]]:
        """Records not yet stored in partition `p`; an id taken elsewhere is remapped."""
        taken = self._taken(model, [str(r["id"]) for r in records])
        fresh = []
        for record in records:
            where = taken.get(str(record["id"]))
            if where == p:
                self.result.skipped += 1
            else:
                if where is not None:
                    remap[str(record["id"])] = str(uuid.uuid4())
                fresh.append(record)
        return fresh

    def write(self, batch: Batch) -> None:
        try:
            self._write(batch)
        except (sa.exc.StatementError, TypeError, ValueError) as exc:
            # A value of the wrong type or shape in the file: the client's fault, not ours.
            self.session.rollback()
            # The message names the record's problem, never the SQL behind it.
            reason = exc.orig if isinstance(exc, sa.exc.StatementError) else exc
            raise InvalidInput(
                f"import failed in partition {batch.partition!r}: a value has the wrong type "
                f"or shape ({type(reason).__name__})"
            ) from exc

    def _write(self, batch: Batch) -> None:
        p, session = batch.partition, self.session
        with self.indexes.writing(p) as changes:
            remap: dict[str, str] = {}
            episodes = self._fresh(Episode, batch.episodes, p, remap)
            notes = self._fresh(Note, batch.notes, p, remap)
            for record in episodes:
                fields = load(record, self.episode_cols)
                fields["id"] = remap.get(fields["id"], fields["id"])
                session.add(Episode(**fields, namespace=self.namespace, partition=p))
            rows = [self._note(record, p, remap) for record in notes]
            # Embedded before the INSERT: a later UPDATE would reset `updated_at`.
            self._embed(rows, notes)
            session.add_all(rows)
            session.flush()
            dim = self.embedder.dim
            for note, record in zip(rows, notes, strict=True):
                assert note.embedding is not None
                changes.upsert([note.pk], np.frombuffer(note.embedding, np.float32).reshape(1, dim))
                parts = np.frombuffer(note.part_embeddings or b"", np.float32).reshape(-1, dim)
                changes.set_parts(note.pk, parts if len(parts) else None)
                for name, value in note.slots or []:
                    session.add(NoteSlot(partition=p, name=name, value=value, note_pk=note.pk))
                if record.get("mem0"):
                    after = history.snapshot(note)
                    reason = "imported from mem0"
                    history.record(
                        session,
                        note,
                        "ADD",
                        before=None,
                        after=after,
                        actor="import",
                        reason=reason,
                    )
                    self.result.history += 1
            self._links(batch.links, p, remap)
            self._history(batch.history, p, remap)
            self.result.episodes += len(episodes)
            self.result.notes += len(rows)
            bump_version(session, p, self.namespace)
            session.commit()

    def _note(self, record: dict[str, Any], p: str, remap: dict[str, str]) -> Note:
        f = load(record, self.note_cols)
        f["id"] = remap.get(f["id"], f["id"])
        f["episode_ids"] = [remap.get(e, e) for e in f.get("episode_ids") or []]
        if f.get("superseded_by"):
            f["superseded_by"] = remap.get(f["superseded_by"], f["superseded_by"])
        f.setdefault("content_hash", content_hash(f["content"]))
        event_time = f["event_time"]
        f.setdefault("valid_from", event_time)
        f.setdefault("last_recalled_at", event_time)
        return Note(**f, namespace=self.namespace, partition=p)

    def _embed(self, rows: list[Note], records: list[dict[str, Any]]) -> None:
        """Keep the file's vectors when they come from this model; otherwise embed each
        note's key and parts as ingest does (mem0 items get offline attributes first)."""
        from memsvc.services.enrich import enrich_offline
        from memsvc.services.planning import parts_of

        emb, cfg = self.embedder, self.cfg
        same_space = self.source_model == emb.model_name and self.source_dim == emb.dim
        todo: list[Note] = []
        for note, record in zip(rows, records, strict=True):
            mem0 = bool(record.get("mem0"))
            if same_space and not self.reembed and note.embedding and not mem0:
                continue
            if mem0 or not note.search_text:
                enrich_offline(note, expand=cfg.key_expansion, method=cfg.keyphrases)
            if mem0 or "part_texts" not in record:
                note.part_texts = parts_of(cfg, note.content, note.content, note.kind)
            todo.append(note)
        if not todo:
            return
        texts = [n.search_text for n in todo] + [t for n in todo for t in n.part_texts or []]
        vectors = emb.embed(texts).astype(np.float32)
        at = len(todo)
        for i, note in enumerate(todo):
            n = len(note.part_texts or [])
            note.embedding = vectors[i].tobytes()
            note.part_embeddings = vectors[at : at + n].tobytes() if n else None
            note.embed_model, note.embed_dim = emb.model_name, emb.dim
            at += n
        self.result.reembedded += len(todo)

    def _pks(self, ids: set[str], p: str) -> dict[str, int]:
        out: dict[str, int] = {}
        wanted = sorted(ids)
        for at in range(0, len(wanted), _CHUNK):
            stmt = select(Note.id, Note.pk).where(
                Note.partition == p, Note.id.in_(wanted[at : at + _CHUNK])
            )
            out.update(self.session.execute(stmt).all())
        return out

    def _links(self, links: list[dict[str, Any]], p: str, remap: dict[str, str]) -> None:
        if not links:
            return
        ends = [
            (remap.get(r["source"], r["source"]), remap.get(r["target"], r["target"]))
            for r in links
        ]
        pks = self._pks({i for pair in ends for i in pair}, p)
        edges = select(NoteLink.source_pk, NoteLink.target_pk, NoteLink.kind)
        existing: set[tuple[int, int, str]] = {
            (a, b, k) for a, b, k in self.session.execute(edges.where(NoteLink.partition == p))
        }
        for record, (source, target) in zip(links, ends, strict=True):
            a, b, kind = pks.get(source), pks.get(target), record.get("kind", "related")
            if a is None or b is None or (a, b, kind) in existing:
                self.result.skipped += 1
                continue
            existing.add((a, b, kind))
            created = parse_time(record["created_at"]) if record.get("created_at") else None
            link = NoteLink(
                partition=p,
                source_pk=a,
                target_pk=b,
                kind=kind,
                reason=record.get("reason", ""),
                weight=float(record.get("weight", 1.0)),
            )
            if created is not None:
                link.created_at = created
            self.session.add(link)
            self.result.links += 1

    def _history(self, rows: list[dict[str, Any]], p: str, remap: dict[str, str]) -> None:
        if not rows:
            return
        loaded = [load(r, self.history_cols) for r in rows]
        for fields in loaded:
            fields["note_id"] = remap.get(fields["note_id"], fields["note_id"])
        known = self._pks({f["note_id"] for f in loaded}, p)
        rows_of = select(NoteHistory.note_id, NoteHistory.event, NoteHistory.created_at).where(
            NoteHistory.partition == p, NoteHistory.note_id.in_(sorted(known))
        )
        seen: set[tuple[Any, ...]] = {tuple(row) for row in self.session.execute(rows_of)}
        for fields in loaded:
            key = (fields["note_id"], fields.get("event"), fields.get("created_at"))
            if fields["note_id"] not in known or key in seen:
                self.result.skipped += 1
                continue
            seen.add(key)
            self.session.add(NoteHistory(**fields, namespace=self.namespace, partition=p))
            self.result.history += 1
