"""Neighbours' evolutions are made ready before the write lock and written under it only where
the stored row is still the one read after planning (`memsvc.services.evolutions`).

What must hold: the store ends exactly as when the writer evolved each neighbour itself under
the lock (notes column by column, history rows, full-text terms, search results; SQLite and
PostgreSQL); a neighbour changed or deleted between that read and the write is evolved from
its state at the write, as before, never overwritten with values computed from the old one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update

from memsvc import Memory
from memsvc.db import fulltext_terms
from memsvc.db.models import Note, NoteHistory
from memsvc.embed import CachedEmbedder
from memsvc.services import evolutions, ingest
from memsvc.services.evolutions import Prepared
from memsvc.services.planning import Plan
from memsvc.services.writer import Writer
from tests.conftest import make_settings
from tests.services.test_writer_insert import _columns
from tests.services.test_writer_preload import T0

# Keys, uuids and wall-clock stamps differ between two users' stores; the rest must not.
_SKIP = {"pk", "id", "created_at", "updated_at", "episode_ids", "superseded_by", "user_id"}
_SKIP |= {"partition", "namespace"}
_VOLATILE = ("episode_ids", "superseded_by")

TOPICS = [
    "hiking trail mountain camping tent",
    "pottery clay kiln glaze studio",
    "violin concert orchestra music practice",
]


def _sessions() -> list[list[str]]:
    """Turns that share words across sessions, so later notes link to earlier ones and
    hand them new tags (the offline evolution)."""
    out = []
    for day in range(4):
        turns = []
        for i, topic in enumerate(TOPICS):
            words = topic.split()
            turns.append(
                f"On day {day} I went {words[0]} again: the {words[(day + 1) % 5]} and the "
                f"{words[(day + 2) % 5]} were great, and my friend joined for {words[i % 5]}."
            )
        out.append(turns)
    return out


def _ingest(mem: Memory, user: str) -> None:
    for day, turns in enumerate(_sessions()):
        when = T0 + timedelta(days=day)
        msgs = [
            {"role": "user", "content": t, "timestamp": (when + timedelta(minutes=j)).isoformat()}
            for j, t in enumerate(turns)
        ]
        mem.add(messages=msgs, user_id=user, session_id=f"s{day}", wait=True)


def _snapshot(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else {k: v for k, v in value.items() if k not in _VOLATILE}


def _stored(mem: Memory, user: str) -> dict[str, Any]:
    with mem.runtime.db.read() as s:
        notes = s.scalars(select(Note).where(Note.user_id == user).order_by(Note.pk)).all()
        content = {n.id: n.content for n in notes}
        columns = [_columns(n, _SKIP) for n in notes]  # deferred part columns loaded here
        # Wall-clock stamps differ between stores; which notes changed after their add may not.
        changed = sorted(n.content for n in notes if n.updated_at > n.created_at)
        rows = s.scalars(
            select(NoteHistory)
            .where(NoteHistory.note_id.in_(list(content)))
            .order_by(NoteHistory.pk)
        ).all()
        history = [
            (content[h.note_id], h.event, _snapshot(h.before), _snapshot(h.after), h.reason)
            for h in rows
        ]
        terms: dict[str, str] = {}
        if s.get_bind().dialect.name == "sqlite":
            found = s.execute(text("SELECT rowid, terms FROM notes_fts")).all()
            held = dict(found)
            for n in notes:
                # The trigger indexed the key text the note holds now.
                assert held[n.pk] == fulltext_terms.document_terms(n.partition, n.search_text)
                terms[n.content] = held[n.pk]
    hits = [
        [h.memory for h in mem.search(query=q, user_id=user, top_k=5).results]
        for q in ("camping in the mountains", "clay and glaze", "orchestra practice")
    ]
    return {
        "notes": columns,
        "changed": changed,
        "history": history,
        "tagged": len(terms),
        "hits": hits,
    }


@contextmanager
def _counting() -> Iterator[dict[str, int]]:
    """How many evolutions the prepared path wrote, and how many the writer did itself."""
    counts = {"prepared": 0, "evolve": 0}
    done, evolve = Prepared.done, Writer.evolve

    def counted_done(self: Prepared, pk: int, rows: Any) -> bool:
        ok = done(self, pk, rows)
        counts["prepared"] += ok
        return ok

    def counted_evolve(self: Writer, *args: Any, **kw: Any) -> None:
        counts["evolve"] += 1
        evolve(self, *args, **kw)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(Prepared, "done", counted_done)
        m.setattr(Writer, "evolve", counted_evolve)
        yield counts


def _under_the_lock(m: pytest.MonkeyPatch) -> None:
    """The writer as it was: every evolution read, changed and flushed under the lock."""
    m.setattr(Prepared, "prepare", lambda self, *a, **kw: None)


def test_same_store_as_evolving_under_the_lock(
    memory_factory: Callable[..., Memory], db_url: str
) -> None:
    with memory_factory(db_url) as mem:
        with _counting() as counts:
            _ingest(mem, "prepared")
        with pytest.MonkeyPatch.context() as m, _counting() as reference_counts:
            _under_the_lock(m)
            _ingest(mem, "reference")
        prepared, reference = _stored(mem, "prepared"), _stored(mem, "reference")
    assert prepared == reference
    evolved = [h for h in prepared["history"] if h[1] == "EVOLVE"]
    assert len(evolved) >= 3, "the sessions evolve their neighbours"
    assert {h[0] for h in evolved} <= set(prepared["changed"]), "evolved notes were updated"
    assert counts["prepared"] >= 3 and counts["evolve"] == 0
    assert reference_counts["prepared"] == 0 and reference_counts["evolve"] >= 3


@pytest.mark.parametrize("change", ["retagged", "deleted"])
def test_a_neighbour_changed_after_the_read_is_evolved_from_its_state_at_the_write(
    memory_factory: Callable[..., Memory], db_url: str, change: str
) -> None:
    """Another writer changes (or deletes) the first evolved neighbour of each add between
    the read after planning and the write: the prepared values are stale, so the writer
    evolves that note itself, and both stores end alike."""
    read = evolutions.read

    def read_then_change(session: Any, plan: Plan, partition: str) -> None:
        read(session, plan, partition)
        if not plan.evolutions:
            return
        pk = min(plan.evolutions)
        with mem.runtime.db.write() as other:
            if change == "deleted":
                other.execute(delete(Note).where(Note.pk == pk))
            else:
                other.execute(
                    update(Note).where(Note.pk == pk).values(tags=["edited"], context="edited")
                )

    with memory_factory(db_url) as mem:
        with pytest.MonkeyPatch.context() as m, _counting() as counts:
            m.setattr(ingest.evolutions, "read", read_then_change)
            _ingest(mem, "prepared")
        with pytest.MonkeyPatch.context() as m:
            m.setattr(ingest.evolutions, "read", read_then_change)
            _under_the_lock(m)
            _ingest(mem, "reference")
        prepared, reference = _stored(mem, "prepared"), _stored(mem, "reference")
    assert prepared == reference
    assert counts["evolve"] >= 1, "a stale evolution went through the writer"
    assert counts["prepared"] >= 1, "the others were written as prepared"
    if change == "retagged":
        # The history row starts from the other writer's values: the state at the write, not
        # the one read before it. (An evolution's tags are the list planned from that read,
        # as they were when the writer evolved every note itself.)
        edited = [
            h for h in prepared["history"] if h[1] == "EVOLVE" and h[2]["context"] == "edited"
        ]
        assert edited and all(h[3]["context"] == "edited" for h in edited)


def test_a_later_add_in_the_same_session_sees_the_evolution(
    tmp_path: Path, db_url: str, embedder: CachedEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`add_many` writes its items one after another through one session: a note evolved by
    one item (an UPDATE the ORM did not make) and merged into by a later one is merged as
    stored, as when each item is a call of its own, even where the note's object outlives
    the item that loaded it (here: every writer's loaded notes are kept alive)."""
    texts = [
        "My violin teacher Clara lives in Vienna and loves music.",
        "My violin teacher Clara lives in Vienna and loves music.",
        "My violin teacher Clara lives in Vienna and loves music and her dog Rex.",
        "My violin teacher Clara lives in Vienna and loves music.",
    ]
    kept: list[dict[int, Note]] = []
    init = Writer.__init__

    def keeping(self: Writer, *args: Any, **kw: Any) -> None:
        init(self, *args, **kw)
        kept.append(self.stored)

    monkeypatch.setattr(Writer, "__init__", keeping)

    def items(user: str) -> list[dict[str, Any]]:
        return [
            {
                "messages": [
                    {
                        "role": "user",
                        "content": t,
                        "timestamp": (T0 + timedelta(days=i)).isoformat(),
                    }
                ],
                "user_id": user,
                "session_id": f"s{i}",
            }
            for i, t in enumerate(texts)
        ]

    # One vector per text whatever the batch (as in tests/services/test_ingest_batch.py).
    cached = CachedEmbedder(embedder, cache_dir=tmp_path / "vectors")
    with Memory(make_settings(tmp_path, db_url), embedder=cached) as mem:
        for item in items("one"):
            mem.add(**item, wait=True)
        with _counting() as counts:
            mem.add_many(items("many"))
        many, one = _stored(mem, "many"), _stored(mem, "one")
    events = [h[1] for h in many["history"]]
    assert counts["prepared"] >= 1 and "EVOLVE" in events
    assert events.count("MERGE") == 2 and events.index("EVOLVE") < len(events) - 1
    assert any(kept), "the merge targets were kept alive"
    assert many == one
