"""Link expansion read per search (`memsvc.stores.graphs.expand`) gives exactly what expansion
over the partition's whole link graph gives, for any links, seeds, hops and damping, and
never reaches a node through another partition's links."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from memsvc import Memory
from memsvc.db.models import Base, Note, NoteLink
from memsvc.graph import LinkGraph
from memsvc.services.scope import Scope
from memsvc.stores import graphs

OURS, THEIRS = "ns/ours", "ns/theirs"
Link = tuple[str, int, int, float]

link = st.tuples(
    st.sampled_from([OURS, OURS, OURS, THEIRS]),
    st.integers(0, 15),
    st.integers(0, 15),
    st.floats(0.0, 1.0, allow_nan=False, width=32),
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    # Only `note_links` is read: SQLite does not enforce its keys to notes unless asked to,
    # so the links can name any keys.
    eng = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('links') / 'links.db'}")
    Base.metadata.create_all(eng, tables=[NoteLink.__table__])  # type: ignore[list-item]
    yield eng
    eng.dispose()


def _store(session: Session, links: list[Link]) -> None:
    session.execute(sa.delete(NoteLink))
    seen: set[tuple[int, int]] = set()
    for partition, a, b, w in links:
        if (a, b) in seen:  # one row per (source, target, kind), as the table requires
            continue
        seen.add((a, b))
        session.add(NoteLink(partition=partition, source_pk=a, target_pk=b, weight=w, reason=""))
    session.flush()


@settings(max_examples=150, deadline=None)
@given(
    links=st.lists(link, max_size=50),
    seeds=st.dictionaries(st.integers(0, 15), st.floats(0.0, 1.0, width=32), max_size=5),
    hops=st.integers(0, 3),
    damping=st.floats(0.125, 1.0, width=32),
)
def test_same_as_the_whole_graph(
    engine: sa.Engine, links: list[Link], seeds: dict[int, float], hops: int, damping: float
) -> None:
    with Session(engine) as session:
        _store(session, links)
        stored = session.execute(
            sa.select(NoteLink.source_pk, NoteLink.target_pk, NoteLink.weight).where(
                NoteLink.partition == OURS
            )
        ).all()
        whole = LinkGraph((int(a), int(b), float(w)) for a, b, w in stored)
        got = graphs.expand(session, OURS, seeds, hops, damping)
        session.rollback()
    assert got == whole.expand(seeds, hops, damping)


def test_other_partitions_links_are_never_walked(engine: sa.Engine) -> None:
    with Session(engine) as session:
        # 1 - 2 is ours; 2 - 3 and 1 - 4 are another partition's (keys can only collide
        # like this through a bug, which is what this guards).
        _store(session, [(OURS, 1, 2, 1.0), (THEIRS, 2, 3, 1.0), (THEIRS, 1, 4, 1.0)])
        got = graphs.expand(session, OURS, {1: 1.0}, 3, 1.0)
        session.rollback()
    assert set(got) == {2}


def test_reads_only_the_neighbourhood(engine: sa.Engine) -> None:
    """One hop reads the seeds' links and nothing else of a large partition."""
    with Session(engine) as session:
        _store(session, [(OURS, i, i + 1, 1.0) for i in range(0, 2000)])
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            graph = graphs.neighbourhood(session, OURS, [500], 1, 0.5)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        session.rollback()
    assert len(graph) == 2 and 499 in graph and 501 in graph
    assert len(statements) == 1


def test_same_on_a_real_store(memory_factory: Callable[..., Memory], db_url: str) -> None:
    """Both backends' statements, on links that ingest wrote: every note as a seed, one and
    two hops, against the whole graph of its partition; the other owner's links stay out."""
    texts = [
        f"I {verb} the {thing} every {when}."
        for verb in ("play", "practise", "clean")
        for thing in ("cello", "violin")
        for when in ("evening", "weekend")
    ]
    with memory_factory(db_url) as mem:
        for owner in ("alice", "bob"):
            mem.add(messages=[{"role": "user", "content": t} for t in texts], user_id=owner)
        partition = Scope(namespace="default", user_id="alice").partition
        with mem.runtime.db.read() as session:
            stored = session.execute(
                sa.select(NoteLink.source_pk, NoteLink.target_pk, NoteLink.weight).where(
                    NoteLink.partition == partition
                )
            ).all()
            ours = set(session.scalars(sa.select(Note.pk).where(Note.partition == partition)))
            assert stored, "similar notes should be linked"
            whole = LinkGraph((int(a), int(b), float(w)) for a, b, w in stored)
            for pk in ours:
                for hops in (1, 2):
                    got = graphs.expand(session, partition, {pk: 0.8}, hops, 0.5)
                    assert got == whole.expand({pk: 0.8}, hops, 0.5)
                    assert set(got) <= ours
