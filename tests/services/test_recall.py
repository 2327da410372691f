"""Recall beyond dense search: lexical index (FTS5 / PostgreSQL), fusion, time awareness,
link expansion — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memsvc import Memory
from memsvc.config import Settings
from memsvc.embed import CachedEmbedder
from memsvc.services.lexical import lexical_candidates, query_terms
from memsvc.services.scope import Scope

T0 = datetime(2024, 6, 3, 12, tzinfo=UTC)
FILLER = [
    "I went for a long walk by the river this morning.",
    "My coworker recommended a podcast about history.",
    "We are repainting the living room in a light grey.",
    "The bakery downtown has great croissants.",
    "I need to renew my gym membership soon.",
    "My brother is visiting next month with his kids.",
    "I have been reading a novel about a lighthouse keeper.",
    "The printer at the office keeps jamming.",
]


def test_query_terms_drop_stopwords_and_punctuation() -> None:
    assert query_terms("What's my locker code? Is it 4471-B?") == ["locker", "code", "4471"]
    assert query_terms("the a of") == []


def test_lexical_index_finds_codes_dense_search_misses(mem: Memory) -> None:
    mem.add(FILLER, user_id="u", timestamp=T0, infer=False)
    target = mem.add(
        "Note to self: gate code QX4471 for the storage unit.",
        user_id="u",
        timestamp=T0,
        infer=False,
    )
    hits = mem.search("QX4471", user_id="u", top_k=3, explain=True).results
    assert hits[0].id == target.results[0].id
    assert hits[0].explain is not None and hits[0].explain.get("lexical") == 1.0


def test_lexical_index_follows_updates_and_deletes(mem: Memory) -> None:
    mem.add(FILLER, user_id="u", timestamp=T0, infer=False)
    note = mem.add(
        "The spare key is with neighbour Oyelaran.", user_id="u", timestamp=T0, infer=False
    ).results[0]
    mem.update(note.id or "", "The spare key is with neighbour Brzezinski.", user_id="u")
    hits = mem.search("Brzezinski", user_id="u", top_k=1, explain=True).results
    assert hits[0].id == note.id and (hits[0].explain or {}).get("lexical") == 1.0
    old = mem.search("Oyelaran", user_id="u", top_k=3, explain=True).results
    assert all("lexical" not in (h.explain or {}) for h in old)
    mem.delete(note.id or "", user_id="u")
    assert all(h.id != note.id for h in mem.search("Brzezinski", user_id="u").results)


def test_lexical_search_respects_scopes(mem: Memory) -> None:
    mem.add("Project Zanzibar kickoff is on Monday.", user_id="a", infer=False)
    mem.add(FILLER[:2], user_id="b", infer=False)
    assert all("Zanzibar" not in h.memory for h in mem.search("Zanzibar", user_id="b").results)


def test_lexical_candidates_come_from_the_partition_alone(mem: Memory) -> None:
    # Many tenants share one full-text index: a query must rank only its own partition's
    # documents (and never return another's), whoever else uses the same words.
    for user in ("a", "b", "c"):
        mem.add(["Zanzibar trip planning.", f"Zanzibar notes of {user}."], user_id=user)
    mem.update(
        mem.get_all(user_id="c").results[0].id or "", "Nothing about islands here.", user_id="c"
    )
    for user in ("a", "b", "c"):
        partition = Scope("default", user, None, None).partition
        with mem.runtime.db.read() as session:
            hits = lexical_candidates(session, partition, "zanzibar", 10)
            owners = {pk_to_owner(session, pk) for pk, _ in hits}
        assert owners == {user}
        assert len(hits) == (1 if user == "c" else 2)


def pk_to_owner(session: object, pk: int) -> str:
    from memsvc.db.models import Note

    note = session.get(Note, pk)  # type: ignore[attr-defined]
    assert note is not None
    return str(note.user_id)


def test_time_expression_prefers_memories_from_that_range(mem: Memory) -> None:
    as_of = T0 + timedelta(days=60)
    mem.add("I cooked a mushroom risotto for dinner.", user_id="u", timestamp=T0)
    mem.add("I cooked a lentil curry for dinner.", user_id="u", timestamp=as_of - timedelta(days=5))
    mem.add("I cooked a pumpkin soup for dinner.", user_id="u", timestamp=T0 + timedelta(days=20))
    hits = mem.search(
        "what did I cook last week?", user_id="u", top_k=3, as_of=as_of, explain=True
    ).results
    assert "lentil curry" in hits[0].memory and (hits[0].explain or {}).get("time")
    plain = mem.search("what did I cook?", user_id="u", top_k=3, as_of=as_of, explain=True).results
    assert all("time" not in (h.explain or {}) for h in plain)  # no expression, no range


def test_time_range_brings_in_memories_dense_search_did_not_rank(mem: Memory) -> None:
    from memsvc.schemas import SearchRequest
    from memsvc.services import gather, query
    from memsvc.text.timeexpr import parse_time_range

    mem.add(FILLER, user_id="u", timestamp=T0, infer=False)
    odd = mem.add(
        "Tried archery with friends.", user_id="u", timestamp=T0 + timedelta(days=40), infer=False
    )
    as_of = T0 + timedelta(days=54)
    question = "what did I do two weeks ago?"
    assert parse_time_range(question, as_of) is not None
    rt = mem.runtime
    pool: dict = {}  # type: ignore[type-arg]
    with rt.db.read() as session:
        req = SearchRequest(query=question, user_id="u", as_of=as_of)
        q = query.build(
            session=session,
            settings=rt.settings,
            embedder=rt.embedder,
            scope=Scope("default", "u"),
            req=req,
        )
        assert q.span is not None  # the query object parsed the range once
        gather.time_range(session, q, pool)
    assert [c.note.id for c in pool.values()] == [odd.results[0].id]
    assert all(c.via == "time" and c.in_time_range for c in pool.values())


def test_current_value_questions_prefer_recent_memories(mem: Memory) -> None:
    mem.add("I have 3 houseplants.", user_id="u", timestamp=T0, infer=False)
    mem.add("I have 5 houseplants.", user_id="u", timestamp=T0 + timedelta(days=30), infer=False)
    hits = mem.search(
        "how many houseplants do I have now?", user_id="u", top_k=2, explain=True
    ).results
    assert hits[0].memory == "I have 5 houseplants." and (hits[0].explain or {}).get("recency")


@pytest.mark.parametrize("fusion", ["rrf", "linear"])
def test_both_fusions_rank_the_obvious_answer_first(
    settings: Settings, embedder: CachedEmbedder, fusion: str
) -> None:
    settings.recall.fusion = fusion  # type: ignore[assignment]
    with Memory(settings, embedder=embedder) as mem:
        mem.add(FILLER, user_id="u", timestamp=T0, infer=False)
        want = mem.add(
            "My daughter's piano teacher is Mrs. Lindqvist.", user_id="u", timestamp=T0, infer=False
        )
        hits = mem.search(
            "who teaches my daughter piano?", user_id="u", top_k=3, explain=True
        ).results
    assert hits[0].id == want.results[0].id
    assert set(hits[0].explain or {}) >= {"similarity", "relevance", "score"}


ASSISTANT_REPLY = (
    "Great goal! Start by adding a short walk after each meal, take the stairs, park further "
    "away, set hourly reminders to move, walk during phone calls, and track your progress "
    "weekly. Gradually raise your target by 500 steps every week so it stays sustainable."
)


def test_a_side_remark_in_a_long_round_is_found_through_its_part(mem: Memory) -> None:
    mem.add(
        [
            {
                "role": "user",
                "content": "I want to increase my daily step count, any tips? By the way, my "
                "sister Ngozi just adopted a retired greyhound called Biscuit. Also, what "
                "shoes are best for long walks on pavement?",
            },
            {"role": "assistant", "content": ASSISTANT_REPLY},
        ],
        user_id="u",
        session_id="s1",
        timestamp=T0,
    )
    mem.add(FILLER, user_id="u", session_id="s2", timestamp=T0 + timedelta(days=1))
    hit = mem.search("what dog did my sister get?", user_id="u", top_k=3, explain=True).results[0]
    assert "Biscuit" in hit.memory
    parts = hit.explain or {}
    assert parts["part"] > parts["similarity"]  # the sentence matched better than the round


def test_parts_follow_updates_deletes_and_rebuilds(
    mem: Memory, settings: Settings, embedder: CachedEmbedder
) -> None:
    settings.ingest.parts_min_words = 0  # these short notes get parts (the threshold: its own test)
    note = mem.add(
        "I keep my passport in the blue folder. My bike lock code is 4471.", user_id="u"
    ).results[0]
    partition = Scope("default", "u", None, None).partition
    q = embedder.embed_query("where is my passport?")

    def part_pks() -> list[int]:
        _, pks, _ = mem.runtime.indexes.search_parts(partition, q, 10)
        return sorted(set(pks.tolist()))

    assert len(part_pks()) == 1
    mem.update(note.id or "", "Nothing to see.", user_id="u")  # one sentence: no parts any more
    assert part_pks() == []
    mem.update(
        note.id or "", "The passport is in the drawer. The spare key is under the mat.", user_id="u"
    )
    assert len(part_pks()) == 1
    mem.close()
    # A fresh process with the index folder gone rebuilds both indexes from the database.
    import shutil

    shutil.rmtree(settings.index_path)
    with Memory(settings, embedder=embedder) as again:
        _, pks, nums = again.runtime.indexes.search_parts(partition, q, 10)
        assert sorted(nums.tolist()) == [0, 1]
        again.delete(note.id or "", user_id="u")
        _, pks, _ = again.runtime.indexes.search_parts(partition, q, 10)
        assert pks.size == 0


def test_session_granularity_makes_one_summary_note_scored_on_its_parts(
    settings: Settings, embedder: CachedEmbedder
) -> None:
    settings.ingest.granularity = "session"
    with Memory(settings, embedder=embedder) as mem:
        res = mem.add(
            [
                {"role": "user", "content": "I need tips for my daily step count."},
                {"role": "assistant", "content": ASSISTANT_REPLY},
                {
                    "role": "user",
                    "content": "Thanks! By the way, I have been using my new Omron blood "
                    "pressure monitor every morning. What shoes are good for walking?",
                },
                {"role": "assistant", "content": "Cushioned running shoes work well."},
            ],
            user_id="u",
            session_id="s1",
            timestamp=T0,
        )
        assert len(res.results) == 1 and len(res.episode_ids) == 4
        mem.add(FILLER, user_id="u", session_id="s2", timestamp=T0 + timedelta(days=1))
        hit = mem.search("which health devices do I use?", user_id="u", explain=True).results[0]
        assert hit.kind == "summary" and hit.session_id == "s1"
        assert len(hit.episode_ids) == 4  # provenance: every message of the session
        assert "Omron" in hit.memory  # the digest keeps the user's informative statements
        assert (hit.explain or {}).get("part", 0) > (hit.explain or {}).get("similarity", 1)
