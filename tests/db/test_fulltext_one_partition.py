"""SQLite full text when the store holds one partition (`db.queries.fulltext.matches` leaves
the partition token out of the MATCH): the same hits and scores as the statement with it,
and once a second partition exists, the token is back and no hit is ever another
partition's."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from memsvc import Memory
from memsvc.db.models import Note
from memsvc.db.queries import fulltext
from memsvc.embed import CachedEmbedder
from memsvc.services.lexical import query_terms
from tests.conftest import make_settings
from tests.services.test_fulltext_searcher import TURNS

MINE = TURNS  # one user's conversation, shared with the full-text worker tests
THEIRS = [
    "The other tenant's beagle is called Rex and lives in Lisbon near the bakery.",
    "Their bakery secret: custard tarts with lemon zest, Max loves them.",
]
WORDS = sorted({w for t in MINE + THEIRS for w in query_terms(t)})


def with_token(
    session: Session, partition: str, terms: list[str], limit: int
) -> list[tuple[int, float]]:
    """The reference: the statement with the partition token, whatever the store holds."""
    words = " OR ".join(f'"{t}"' for t in terms)
    match = f"ptoken : {fulltext.partition_token(partition)} AND ({words})"
    rows = session.execute(
        text(
            "SELECT rowid, bm25(notes_fts, 1.0, 0.0) AS s FROM notes_fts "
            "WHERE notes_fts MATCH :m ORDER BY s LIMIT :n"
        ),
        {"m": match, "n": limit},
    ).all()
    return [(int(pk), -float(s)) for pk, s in rows]


def partition_of(mem: Memory, user: str) -> str:
    with mem.runtime.db.read() as s:
        part = s.scalar(select(Note.partition).where(Note.user_id == user).limit(1))
    assert part is not None
    return part


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: CachedEmbedder) -> Iterator[Memory]:
    """One user's SQLite store, shared by the examples (they only read)."""
    with Memory(make_settings(tmp_path_factory.mktemp("fts-one")), embedder=embedder) as mem:
        mem.add(messages=[{"role": "user", "content": t} for t in MINE], user_id="a", wait=True)
        yield mem


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=6, unique=True),
    limit=st.integers(1, 12),
)
def test_one_partition_same_hits_as_with_the_token(
    store: Memory, words: list[str], limit: int
) -> None:
    part = partition_of(store, "a")
    with store.runtime.db.read() as s:
        assert fulltext.matches(s, partition=part, terms=words, limit=limit) == with_token(
            s, part, words, limit
        )


def test_a_second_partition_brings_the_token_back(
    memory_factory: Callable[..., Memory],
) -> None:
    mem = memory_factory()
    mem.add(messages=[{"role": "user", "content": t} for t in MINE], user_id="a", wait=True)
    mine = partition_of(mem, "a")
    terms = query_terms("Does Max like the bakery's custard tarts in Lisbon?")
    with mem.runtime.db.read() as s:
        alone = fulltext.matches(s, partition=mine, terms=terms, limit=20)
    mem.add(messages=[{"role": "user", "content": t} for t in THEIRS], user_id="b", wait=True)
    theirs = partition_of(mem, "b")
    with mem.runtime.db.read() as s:
        their_pks = set(s.scalars(select(Note.pk).where(Note.partition == theirs)))
        for part in (mine, theirs):
            hits = fulltext.matches(s, partition=part, terms=terms, limit=20)
            assert hits == with_token(s, part, terms, 20)
        now = fulltext.matches(s, partition=mine, terms=terms, limit=20)
    assert their_pks and not their_pks & {pk for pk, _ in now}
    # The same notes of `a` match; only bm25's table-wide statistics moved.
    assert {pk for pk, _ in now} == {pk for pk, _ in alone}
