"""History and link rows go in bulk at commit (`memsvc.services.rows.Rows`).

What must hold: the rows stored are exactly those that one `session.add` per row stored (same
links, same history in the same order per note), on SQLite and PostgreSQL; an add inserts each
table in one statement whatever its size; a rollback writes none of them; a link made twice in
one transaction is stored once; links kept for a note deleted later in the same transaction go
with it. A randomized sequence of writer operations is compared with the row-by-row writer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from memsvc import Memory
from memsvc.db.models import Note, NoteHistory, NoteLink
from memsvc.services.rows import Rows
from memsvc.services.scope import Scope
from memsvc.services.writer import Writer
from memsvc.stores.index_changes import PendingChanges
from tests.services.test_writer_preload import _ingest


def _one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer as it was: every history and link row added to the session on its own."""

    def add_history(self: Rows, row: dict[str, Any], bound: Any = None) -> None:
        self.session.add(NoteHistory(**row))

    def link(self: Rows, partition: str, source: int, target: int, *rest: Any) -> None:
        kind, reason, weight = rest
        self.session.add(
            NoteLink(
                partition=partition,
                source_pk=source,
                target_pk=target,
                kind=kind,
                reason=reason,
                weight=weight,
            )
        )
        self.session.flush()

    monkeypatch.setattr(Rows, "add_history", add_history)
    monkeypatch.setattr(Rows, "link", link)


def _stored(session: Session, user: str) -> dict[str, Any]:
    """`user`'s notes, their links and history by content (keys differ between users and
    stores); history in the order it was written, per note (deleted notes' rows included)."""
    notes = session.scalars(select(Note).where(Note.user_id == user)).all()
    content = {n.pk: n.content for n in notes}
    by_id = {n.id: n.content for n in notes}
    partitions = {n.partition for n in notes}
    links = session.execute(
        select(NoteLink.source_pk, NoteLink.target_pk, NoteLink.kind, NoteLink.weight).where(
            NoteLink.partition.in_(partitions)
        )
    ).all()
    rows = session.scalars(
        select(NoteHistory).where(NoteHistory.partition.in_(partitions)).order_by(NoteHistory.pk)
    ).all()
    for r in rows:  # notes deleted since (folded into another) by their last content
        by_id.setdefault(r.note_id, ((r.after or r.before) or {}).get("content", "?"))
    per_note: dict[str, list[tuple[str, str, str]]] = {}
    for r in rows:
        reason = r.reason
        for note_id, text in by_id.items():  # "merged into <id>": ids differ between users
            reason = reason.replace(note_id, text)
        per_note.setdefault(r.note_id, []).append((r.event, r.actor, reason))
    return {
        "notes": sorted((n.content, n.status, n.strength) for n in notes),
        "links": sorted(
            (content.get(a, "?"), content.get(b, "?"), k, round(w, 6)) for a, b, k, w in links
        ),
        "history": sorted((by_id[i], tuple(ev)) for i, ev in per_note.items()),
        "history_rows": len(rows),
    }


def test_same_rows_as_one_by_one(
    memory_factory: Callable[..., Memory], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    """The same sessions as two users of one store: "bulk" through `Rows`, "reference" with
    one row at a time (partitions never see each other, so both get the same plans)."""
    with memory_factory(db_url) as mem:
        _ingest(mem, "bulk")
        with monkeypatch.context() as m:
            _one_by_one(m)
            _ingest(mem, "reference")
        with mem.runtime.db.read() as s:
            bulk, reference = _stored(s, "bulk"), _stored(s, "reference")
    assert bulk == reference
    assert bulk["links"] and bulk["history_rows"] >= len(bulk["notes"])


@contextmanager
def _inserts(mem: Memory) -> Iterator[dict[str, int]]:
    seen = {"note_history": 0, "note_links": 0}

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        s = " ".join(statement.split()).lower()
        for table in seen:
            if s.startswith(f"insert into {table} "):
                seen[table] += 1

    engine = mem.runtime.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_one_statement_per_table_per_add(memory_factory: Callable[..., Memory]) -> None:
    with memory_factory() as mem:
        _ingest(mem, "a")  # stored notes for the next add to link to
        msgs = [
            {"role": "user", "content": f"Max the beagle met beagle number {i} in the Porto park."}
            for i in range(12)
        ]
        with _inserts(mem) as seen:
            mem.add(messages=msgs, user_id="a", session_id="s9", wait=True)
        with mem.runtime.db.read() as s:
            assert (s.scalar(select(func.count()).select_from(NoteHistory)) or 0) >= 12
        assert seen == {"note_history": 1, "note_links": 1}


def _stored_notes(mem: Memory, n: int, user: str = "r") -> tuple[Scope, list[int]]:
    scope = Scope(namespace="default", user_id=user)
    texts = [f"note {i}: the beagle visited park number {i} in Porto" for i in range(n)]
    mem.add(messages=[{"role": "user", "content": t} for t in texts], user_id=user, wait=True)
    with mem.runtime.db.read() as s:
        pks = s.scalars(select(Note.pk).where(Note.user_id == user).order_by(Note.pk)).all()
    return scope, list(pks)


def _writer(mem: Memory, s: Session, scope: Scope, pk: int) -> tuple[Writer, Note]:
    """A writer in session `s` and the stored note `pk`, read in it."""
    note = s.get(Note, pk)
    assert note is not None
    return Writer(s, scope, PendingChanges(), mem.runtime.embedder.model_name), note


def _counts(mem: Memory) -> tuple[int, int]:
    with mem.runtime.db.read() as s:
        return (
            int(s.scalar(select(func.count()).select_from(NoteHistory)) or 0),
            int(s.scalar(select(func.count()).select_from(NoteLink)) or 0),
        )


def test_rollback_writes_no_rows(memory_factory: Callable[..., Memory], db_url: str) -> None:
    with memory_factory(db_url) as mem:
        scope, pks = _stored_notes(mem, 3)
        before = _counts(mem)
        with mem.runtime.db.session() as s:
            w = Writer(s, scope, PendingChanges(), mem.runtime.embedder.model_name)
            a, b = s.get(Note, pks[0]), s.get(Note, pks[1])
            assert a is not None and b is not None
            w.link(a, b.pk, "related", "x")
            w.evolve(a.pk, ["kept-tag"], None, None, "why", "test")
            s.rollback()
            s.commit()  # a later commit on the same session writes nothing kept before
        assert _counts(mem) == before


def test_link_twice_in_one_transaction(memory_factory: Callable[..., Memory], db_url: str) -> None:
    with memory_factory(db_url) as mem:
        scope, pks = _stored_notes(mem, 2)
        _, links_before = _counts(mem)
        with mem.runtime.db.session() as s:
            w, a = _writer(mem, s, scope, pks[0])
            w.link(a, pks[1], "related", "first")
            w.link(a, pks[1], "related", "again")  # UNIQUE(source, target, kind) if stored twice
            s.commit()
        assert _counts(mem)[1] == links_before + 1


# -- randomized: writer operations against the row-by-row writer --------------------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(["link", "evolve", "fold"]),
        st.integers(0, 4),
        st.integers(0, 4),
    ),
    min_size=1,
    max_size=12,
)


def _run(mem: Memory, ops: list[tuple[str, int, int]], user: str) -> dict[str, Any]:
    scope, pks = _stored_notes(mem, 5, user)
    with mem.runtime.db.session() as s:
        w = Writer(s, scope, PendingChanges(), mem.runtime.embedder.model_name)
        gone: set[int] = set()
        for op, i, j in ops:
            a, b = pks[i], pks[j]
            if a in gone or b in gone or a == b:
                continue
            src, dst = w.resolve(a), w.resolve(b)
            assert src is not None and dst is not None
            if op == "link":
                w.link(src, b, "related", f"{i}->{j}")
            elif op == "evolve":
                w.evolve(a, [f"tag{j}"], f"context {j}", None, f"evolve {i}", "test")
            else:
                w.fold(src, dst, f"fold {i} into {j}")
                gone.add(a)
        s.commit()
    with mem.runtime.db.read() as s:
        return _stored(s, user)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_random_operations_match_one_by_one(
    memory_factory: Callable[..., Memory], tmp_path_factory: pytest.TempPathFactory, ops: Any
) -> None:
    with memory_factory(data_dir=tmp_path_factory.mktemp("store")) as mem:
        bulk = _run(mem, ops, "bulk")
        with pytest.MonkeyPatch.context() as m:
            _one_by_one(m)
            reference = _run(mem, ops, "reference")
    assert bulk == reference


def test_rows_of_a_second_commit_are_written(
    memory_factory: Callable[..., Memory], db_url: str
) -> None:
    with memory_factory(db_url) as mem:
        scope, pks = _stored_notes(mem, 3)
        history_before, links_before = _counts(mem)
        with mem.runtime.db.session() as s:
            w, a = _writer(mem, s, scope, pks[0])
            w.link(a, pks[1], "related", "first commit")
            s.commit()
            w.link(a, pks[2], "related", "second commit")
            w.evolve(pks[0], ["second"], None, None, "second commit", "test")
            s.commit()
        assert _counts(mem) == (history_before + 1, links_before + 2)
