"""The full-text stage never tells one tenant what another tenant's memories say.

SQLite's FTS5 weighs a term by its document frequency; with every tenant's words in one
index, what other partitions held moved a partition's scores and order (revision 0013's
docstring: a tenant could tell whether any word occurred in other tenants' memories). Each
partition's terms are now tokens of their own (`memsvc.db.fulltext_terms`). Checked here:
what other partitions *say* never changes a partition's matches or scores (only how many
notes and words the store holds, bm25's N and mean length, may: the properties hold those
fixed); the triggers keep the index equal to the notes through inserts, updates, moves and
deletes; a note is found by each of its own words, whatever the text; and end to end, on
both backends, a user's search gives the same hits and scores before and after another user
of the same store writes notes full of the words searched."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from memsvc import Memory
from memsvc.config import DatabaseSettings
from memsvc.db.engine import make_engine
from memsvc.db.migrate import downgrade, upgrade
from memsvc.db.queries import fulltext
from memsvc.embed import CachedEmbedder
from memsvc.services.lexical import query_terms
from memsvc.text.tokenize import lexical_pieces
from tests.conftest import make_settings

COLUMNS = (
    "id, namespace, partition, kind, content, content_hash, keywords, tags, context, facts, "
    "search_text, slots, metadata, episode_ids, event_time, valid_from, status, enrichment, "
    "strength, last_recalled_at, recall_count, created_at, updated_at"
)
VALUES = (
    ":id, 'ns', :p, 'turn', 'c', :id, '[]', '[]', '', '[]', :text, '[]', '{}', '[]', "
    "'2024-01-01 00:00:00', '2024-01-01 00:00:00', 'active', 'offline', 1, "
    "'2024-01-01 00:00:00', 0, '2024-01-01 00:00:00', '2024-01-01 00:00:00'"
)
# Content words that stem to themselves, and as many that no other text uses.
VOCAB = ["zeus", "garden", "launch", "spring", "pottery", "camping", "sunset", "violin"]
OTHER = ["qwbx", "zqvk", "xkcdq", "vvqz", "bzzq", "kqxw", "wqzv", "zxqk"]
_words = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=6)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite store, copied for each example (migrating takes ~1 s)."""
    path = tmp_path_factory.mktemp("fts") / "template.db"
    engine = make_engine(DatabaseSettings(url=f"sqlite:///{path}"))
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[Any]:
    """`open_()`: a fresh copy of the template, as an engine (closed after the test)."""
    engines: list[sa.Engine] = []

    def open_() -> sa.Engine:
        path = tmp_path / f"s{len(engines)}.db"
        shutil.copy(template, path)
        engines.append(make_engine(DatabaseSettings(url=f"sqlite:///{path}")))
        return engines[-1]

    yield open_
    for engine in engines:
        engine.dispose()


def _add(conn: sa.Connection, note_id: str, partition: str, text: str) -> int:
    conn.execute(
        sa.text(f"INSERT INTO notes ({COLUMNS}) VALUES ({VALUES})"),
        {"id": note_id, "p": partition, "text": text},
    )
    return int(conn.execute(sa.text("SELECT pk FROM notes WHERE id = :i"), {"i": note_id}).scalar())


def _matches(engine: sa.Engine, partition: str, terms: list[str]) -> list[tuple[int, float]]:
    with Session(engine) as session:
        return fulltext.matches(session, partition=partition, terms=terms, limit=1000)


@settings_(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mine=st.lists(_words, min_size=1, max_size=6),
    theirs=st.lists(_words, min_size=1, max_size=12),
    asked=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=4, unique=True),
)
def test_what_others_say_never_moves_a_partitions_scores(
    store: Any, mine: list[list[str]], theirs: list[list[str]], asked: list[str]
) -> None:
    # Two stores with the same notes in partition "a"; partition "b" holds, note for note and
    # word for word, either the same vocabulary as "a" or words "a" never uses.
    results = []
    for other in (False, True):
        engine = store()
        with engine.begin() as conn:
            for i, words in enumerate(mine):
                _add(conn, f"a{i}", "ns/u/a", " ".join(words))
            for i, words in enumerate(theirs):
                said = [OTHER[VOCAB.index(w)] for w in words] if other else words
                _add(conn, f"b{i}", "ns/u/b", " ".join(said))
        results.append(_matches(engine, "ns/u/a", asked))
    assert results[0] == results[1]
    # and they are BM25 over "a"'s notes, as written out here (FTS5's k1 and b; the table's
    # mean length, every word being one token)
    want = _bm25(mine, asked, mean_length=sum(map(len, mine + theirs)) / len(mine + theirs))
    assert [pk for pk, _ in results[0]] == [pk for pk, _ in want]
    for (_, got), (_, expected) in zip(results[0], want, strict=True):
        assert math.isclose(got, expected, rel_tol=1e-9)


@settings_(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mine=st.lists(_words, min_size=1, max_size=8),
    asked=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=4, unique=True),
)
def test_a_store_of_one_partition_ranks_the_same(
    store: Any, mine: list[list[str]], asked: list[str]
) -> None:
    """Alone in its store, a partition is ranked by FTS5's bm25 directly (no candidates, no
    counts): the same BM25 as the ranking of a partition among others."""
    engine = store()
    with engine.begin() as conn:
        for i, words in enumerate(mine):
            _add(conn, f"a{i}", "ns/u/a", " ".join(words))
    got = _matches(engine, "ns/u/a", asked)
    want = _bm25(mine, asked, mean_length=sum(map(len, mine)) / len(mine))
    assert [pk for pk, _ in got] == [pk for pk, _ in want]
    for (_, score), (_, expected) in zip(got, want, strict=True):
        assert math.isclose(score, expected, rel_tol=1e-6)


def _bm25(docs: list[list[str]], asked: list[str], mean_length: float) -> list[tuple[int, float]]:
    """(pk, score) of the notes holding any word asked, best first (pks from 1, in order)."""
    n = len(docs)
    out = []
    for pk, words in enumerate(docs, start=1):
        score = 0.0
        for term in asked:
            tf = words.count(term)
            if tf:
                held = sum(term in d for d in docs)
                idf = max(math.log((n - held + 0.5) / (held + 0.5)), 1e-6)
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(words) / mean_length))
        if score:
            out.append((pk, score))
    return sorted(out, key=lambda kv: (-kv[1], kv[0]))


_op = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(["ns/u/a", "ns/u/b"]), _words),
    st.tuples(st.just("edit"), st.integers(0, 20), _words),
    st.tuples(st.just("move"), st.integers(0, 20), st.sampled_from(["ns/u/a", "ns/u/b"])),
    st.tuples(st.just("delete"), st.integers(0, 20), st.none()),
)


@settings_(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(_op, min_size=1, max_size=25))
def test_the_index_follows_every_write(store: Any, ops: list[tuple[str, Any, Any]]) -> None:
    engine = store()
    notes: dict[int, tuple[str, list[str]]] = {}  # pk -> (partition, words): the truth
    with engine.begin() as conn:
        for n, (op, a, b) in enumerate(ops):
            pks = sorted(notes)
            if op == "add":
                notes[_add(conn, f"n{n}", a, " ".join(b))] = (a, b)
            elif pks and op == "edit":
                pk = pks[a % len(pks)]
                conn.execute(
                    sa.text("UPDATE notes SET search_text = :t WHERE pk = :pk"),
                    {"t": " ".join(b), "pk": pk},
                )
                notes[pk] = (notes[pk][0], b)
            elif pks and op == "move":
                pk = pks[a % len(pks)]
                conn.execute(
                    sa.text("UPDATE notes SET partition = :p WHERE pk = :pk"), {"p": b, "pk": pk}
                )
                notes[pk] = (b, notes[pk][1])
            elif pks and op == "delete":
                pk = pks[a % len(pks)]
                conn.execute(sa.text("DELETE FROM notes WHERE pk = :pk"), {"pk": pk})
                del notes[pk]
    for partition in ("ns/u/a", "ns/u/b"):
        for word in VOCAB:
            want = {pk for pk, (p, words) in notes.items() if p == partition and word in words}
            assert {pk for pk, _ in _matches(engine, partition, [word])} == want, (partition, word)
    with engine.connect() as conn:  # FTS5's own check of its index against its content
        conn.execute(sa.text("INSERT INTO notes_fts(notes_fts) VALUES ('integrity-check')"))


@settings_(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=120))
def test_a_note_is_found_by_each_of_its_words(store: Any, text: str) -> None:
    engine = store()
    with engine.begin() as conn:
        pk = _add(conn, "n", "ns/u/a", text)
    for term in query_terms(text):
        assert pk in {p for p, _ in _matches(engine, "ns/u/a", [term])}, term
        assert _matches(engine, "ns/u/b", [term]) == []


CONVERSATION = [
    "We planned the Zeus launch for the spring.",
    "We planned the garden party for the spring.",
    "My sister plays the violin at the garden party.",
]


def _alices_results(mem: Memory) -> list[tuple[str, float, dict[str, float] | None]]:
    res = mem.search("zeus garden violin", user_id="alice", top_k=5, explain=True, reinforce=False)
    return [(h.memory, h.score, h.explain) for h in res.results]


T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)  # fixed times: retention must not follow the clock


def _alices_notes(mem: Memory) -> None:
    for i, text in enumerate(CONVERSATION):
        message = {"role": "user", "content": text, "timestamp": T0 + timedelta(minutes=i)}
        mem.add([message], user_id="alice", infer=False)


def _bobs_notes(mem: Memory, bobs_words: tuple[str, str]) -> None:
    one, two = bobs_words
    for i in range(30):
        mem.add(
            [
                {
                    "role": "user",
                    "content": f"Note {i}: the {one} merger and the {two} deal.",
                    "timestamp": T0 + timedelta(minutes=i),
                }
            ],
            user_id="bob",
            infer=False,
        )


def test_another_users_words_never_change_my_results_sqlite(
    tmp_path: Path, embedder: CachedEmbedder
) -> None:
    """The leak as a user met it (revision 0013's docstring), on the embedded default: two
    stores where alice holds the same notes and bob as many notes of as many words, in one
    her words (Zeus, violin), in the other words she never uses. Her hits, scores and
    explain parts must be the same in both: nothing in them may depend on what bob wrote."""
    got = []
    for name, words in (("same", ("Zeus", "violin")), ("other", ("Qwbx", "Zqvk"))):
        mem = Memory(make_settings(tmp_path / name), embedder=embedder)
        try:
            _alices_notes(mem)
            _bobs_notes(mem, words)
            got.append(_alices_results(mem))
        finally:
            mem.close()
    assert got[0] and "lexical" in (got[0][0][2] or {})
    assert got[0] == got[1]


def test_another_users_words_never_change_my_results_postgres(
    pg_schema: str, tmp_path: Path, embedder: CachedEmbedder
) -> None:
    """PostgreSQL ranks full text by the document alone (`ts_rank_cd`): alice's results are
    the same before and after bob fills the store with her words."""
    mem = Memory(make_settings(tmp_path, pg_schema), embedder=embedder)
    try:
        _alices_notes(mem)
        before = _alices_results(mem)
        _bobs_notes(mem, ("Zeus", "violin"))
        after = _alices_results(mem)
    finally:
        mem.close()
    assert before and "lexical" in (before[0][2] or {})
    assert after == before


def test_downgrade_and_upgrade_keep_every_note_findable(tmp_path: Path) -> None:
    """Revision 0013 both ways on a populated store: back at 0012 the notes are found the old
    way (the partition's token and the words), and at 0013 again by their tagged terms."""
    engine = make_engine(DatabaseSettings(url=f"sqlite:///{tmp_path / 'm.db'}"))
    try:
        upgrade(engine)
        with engine.begin() as conn:
            a = _add(conn, "a", "ns/u/a", "The Zeus launch in spring")
            b = _add(conn, "b", "ns/u/b", "A Zeus statue in the garden")
        downgrade(engine, "0012")
        with engine.connect() as conn:
            old = "SELECT rowid FROM notes_fts WHERE notes_fts MATCH :m"
            token = "p" + b"ns/u/a".hex().upper() + "0" * 64
            got = conn.execute(sa.text(old), {"m": f'ptoken : {token} AND "zeus"'}).all()
            assert [r[0] for r in got] == [a]
        upgrade(engine)
        assert [pk for pk, _ in _matches(engine, "ns/u/a", ["zeus"])] == [a]
        assert [pk for pk, _ in _matches(engine, "ns/u/b", ["zeus", "garden"])] == [b]
    finally:
        engine.dispose()


_TRICKY = st.sampled_from(
    [
        *"aZé1,.'’-_ 9İK²ß日本sS\u0301",
        "'s",
        "1,234",
        "1,2345",
        "2,000.5",
        "It's",
        "0.00A",
        "a-1,000",
    ]
)


@settings_(max_examples=3000, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_TRICKY, max_size=30).map("".join)))
def test_every_query_term_is_among_the_indexed_pieces(text: str) -> None:
    """The fast path of `lexical_pieces` (one expression) and the query's `words` agree."""
    assert set(query_terms(text)) <= set(lexical_pieces(text))
