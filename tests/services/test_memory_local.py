"""The services through the in-process `Memory`, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memsvc import Memory
from memsvc.config import Settings
from memsvc.embed import CachedEmbedder
from memsvc.errors import InvalidInput, NotFound, ScopeRequired


@pytest.mark.parametrize("granularity", ["turn", "round"])
def test_granularity_turn_and_round(
    settings: Settings, embedder: CachedEmbedder, granularity: str
) -> None:
    settings.ingest.granularity = granularity  # type: ignore[assignment]
    turns = [
        {"role": "user", "content": "I adopted a golden retriever named Max."},
        {"role": "assistant", "content": "Congratulations! How old is Max?"},
        {"role": "user", "content": "He is two."},
    ]
    with Memory(settings, embedder=embedder) as m:
        res = m.add(turns, user_id="alice", session_id="s1", infer=False)
        assert len(res.episode_ids) == 3 and len(set(res.episode_ids)) == 3
        notes = [m.get(e.id or "", user_id="alice") for e in res.results]
    if granularity == "turn":
        assert [n.memory for n in notes] == [t["content"] for t in turns]
        assert [n.episode_ids for n in notes] == [[e] for e in res.episode_ids]
        assert notes[0].role == "user" and notes[0].kind == "turn"
    else:
        assert [n.memory for n in notes] == [
            "user: I adopted a golden retriever named Max.\n"
            "assistant: Congratulations! How old is Max?",
            "He is two.",
        ]
        assert notes[0].episode_ids == res.episode_ids[:2] and notes[0].kind == "round"
    assert notes[0].session_id == "s1" and notes[0].user_id == "alice"


def test_semantic_search_without_shared_keywords(mem: Memory) -> None:
    mem.add("My flat is in Kreuzberg, Berlin.", user_id="alice", infer=False)
    mem.add("I am allergic to peanuts.", user_id="alice", infer=False)
    mem.add("We bought a new car last year, a red Volvo.", user_id="alice", infer=False)
    hits = mem.search("which city is my home located in?", user_id="alice", top_k=3).results
    assert hits[0].memory == "My flat is in Kreuzberg, Berlin."
    assert hits[0].score > hits[1].score
    assert hits[0].episode_ids and hits[0].event_time is not None


def test_scopes_are_isolated(mem: Memory) -> None:
    mem.add("Alice's secret: the vault code is 1234.", user_id="alice", infer=False)
    mem.add("Bob likes jazz.", user_id="bob", infer=False)
    bob = mem.search("what is the vault code?", user_id="bob", top_k=10).results
    assert [h.memory for h in bob] == ["Bob likes jazz."]
    assert len(mem.get_all(user_id="bob").results) == 1
    with pytest.raises(ScopeRequired):
        mem.search("anything")


def test_narrowing_by_agent_and_session(mem: Memory) -> None:
    mem.add(
        "Planning a trip to Japan.", user_id="u", agent_id="travel", session_id="a", infer=False
    )
    mem.add("Planning a trip to Peru.", user_id="u", agent_id="travel", session_id="b", infer=False)
    mem.add("Planning the quarterly budget.", user_id="u", agent_id="finance", infer=False)
    travel = mem.search("trip", user_id="u", agent_id="travel").results
    assert sorted(h.memory for h in travel) == [
        "Planning a trip to Japan.",
        "Planning a trip to Peru.",
    ]
    only_b = mem.search("trip", user_id="u", session_id="b").results
    assert [h.memory for h in only_b] == ["Planning a trip to Peru."]


def test_as_of_hides_memories_from_the_future(mem: Memory) -> None:
    t0 = datetime(2023, 1, 10, tzinfo=UTC)
    mem.add("I started learning the violin.", user_id="u", timestamp=t0, infer=False)
    mem.add(
        "I gave my first violin recital.",
        user_id="u",
        timestamp=t0 + timedelta(days=200),
        infer=False,
    )
    before = mem.search("violin", user_id="u", as_of=t0 + timedelta(days=30)).results
    assert [h.memory for h in before] == ["I started learning the violin."]
    after = mem.search("violin", user_id="u", as_of=t0 + timedelta(days=365)).results
    assert len(after) == 2


def test_metadata_filters(mem: Memory) -> None:
    mem.add("Likes green tea.", user_id="u", metadata={"source": "chat", "n": 1}, infer=False)
    mem.add("Likes black coffee.", user_id="u", metadata={"source": "email", "n": 2}, infer=False)
    hits = mem.search("drinks", user_id="u", filters={"source": "email"}).results
    assert [h.memory for h in hits] == ["Likes black coffee."]
    assert (
        mem.search("drinks", user_id="u", filters={"n": 1}).results[0].memory == "Likes green tea."
    )
    assert mem.search("drinks", user_id="u", filters={"source": "sms"}).results == []


def test_filters_widen_the_candidate_pool(mem: Memory) -> None:
    texts = [f"Note number {i} about gardening and tomatoes." for i in range(120)]
    mem.add(texts, user_id="u", infer=False)
    mem.add("A rare note about gardening.", user_id="u", metadata={"rare": True}, infer=False)
    hits = mem.search("gardening", user_id="u", filters={"rare": True}, top_k=5).results
    assert [h.memory for h in hits] == ["A rare note about gardening."]


def test_update_reembeds_and_records_history(mem: Memory) -> None:
    mid = mem.add("I drive a blue bicycle to work.", user_id="u", infer=False).results[0].id
    mem.add("My favourite food is sushi.", user_id="u", infer=False)
    updated = mem.update(mid, "I take the train to work.", metadata={"edited": True}, user_id="u")
    assert updated.memory == "I take the train to work." and updated.metadata == {"edited": True}
    top = mem.search("commuting by rail", user_id="u", top_k=1).results[0]
    assert top.id == mid
    events = [h.event for h in mem.history(mid, user_id="u")]
    assert events == ["ADD", "UPDATE"]
    assert mem.history(mid, user_id="u")[1].old_memory == "I drive a blue bicycle to work."


def test_delete_and_delete_all(mem: Memory) -> None:
    ids = [
        r.id
        for r in mem.add(["one fact", "two facts", "three facts"], user_id="u", infer=False).results
    ]
    mem.delete(ids[0], user_id="u")
    with pytest.raises(NotFound):
        mem.get(ids[0], user_id="u")
    assert [h.event for h in mem.history(ids[0], user_id="u")] == ["ADD", "DELETE"]
    assert ids[0] not in {h.id for h in mem.search("fact", user_id="u").results}
    assert mem.delete_all(user_id="u").deleted == 2
    assert mem.search("fact", user_id="u").results == []


def test_erase_user_removes_everything(mem: Memory) -> None:
    mid = mem.add("Private diary entry.", user_id="gone", infer=False).results[0].id
    mem.add("Someone else's note.", user_id="stays", infer=False)
    assert mem.erase_user("gone").deleted == 1
    with pytest.raises(NotFound):
        mem.history(mid, user_id="gone")
    assert mem.get_all(user_id="gone").results == []
    assert len(mem.get_all(user_id="stays").results) == 1
    with pytest.raises(NotFound):
        mem.erase_user("gone")


def test_cursor_pagination_visits_every_memory_once(mem: Memory) -> None:
    texts = [f"memory {i}" for i in range(7)]
    mem.add(texts, user_id="u", infer=False)
    seen: list[str] = []
    cursor = None
    while True:
        page = mem.get_all(user_id="u", limit=3, cursor=cursor)
        seen += [m.memory for m in page.results]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == texts
    with pytest.raises(InvalidInput):
        mem.get_all(user_id="u", cursor="garbage!")


def test_invalid_input_changes_nothing(mem: Memory) -> None:
    with pytest.raises(InvalidInput):
        mem.add([{"role": "user", "content": "   "}], user_id="u")
    with pytest.raises(InvalidInput):
        mem.add([], user_id="u")
    with pytest.raises(InvalidInput):
        mem.search("q", user_id="u", top_k=0)
    assert mem.get_all(user_id="u").results == []


def test_survives_restart_and_rebuilds_a_missing_index(
    settings: Settings, embedder: CachedEmbedder
) -> None:
    with Memory(settings, embedder=embedder) as m:
        m.add("The spare key is under the blue flowerpot.", user_id="u", infer=False)
    with Memory(settings, embedder=embedder) as m:  # saved index folder is reused
        assert (
            m.search("where is the key hidden?", user_id="u")
            .results[0]
            .memory.startswith("The spare key")
        )
    import shutil

    shutil.rmtree(settings.index_path)
    with Memory(settings, embedder=embedder) as m:  # rebuilt from the database
        assert (
            m.search("where is the key hidden?", user_id="u")
            .results[0]
            .memory.startswith("The spare key")
        )


def test_stale_index_is_rebuilt(settings: Settings, embedder: CachedEmbedder) -> None:
    with Memory(settings, embedder=embedder) as m:
        m.add("First note about sailing.", user_id="u", infer=False)
    # Simulate a crash after a commit but before the index was saved: the saved folder holds
    # one note while the database holds two.
    snapshot = settings.index_path.parent / "snap"
    import shutil

    shutil.copytree(settings.index_path, snapshot)
    with Memory(settings, embedder=embedder) as m:
        m.add("Second note about kayaking.", user_id="u", infer=False)
    shutil.rmtree(settings.index_path)
    shutil.copytree(snapshot, settings.index_path)
    with Memory(settings, embedder=embedder) as m:
        hits = m.search("paddling a kayak", user_id="u").results
        assert hits[0].memory == "Second note about kayaking."


def test_a_search_view_ranks_with_its_own_settings_and_owns_nothing(mem: Memory) -> None:
    mem.add(["I adore hiking in the Alps.", "My favourite food is ramen."], user_id="v")
    other = mem.settings.model_copy(deep=True)
    other.recall.lexical = False
    view = mem.search_view(other)
    hit = view.search("what do I like to eat?", user_id="v", explain=True).results[0]
    assert hit.memory == "My favourite food is ramen."
    assert "lexical" not in (hit.explain or {})
    view.close()  # closes nothing: the store stays usable
    assert "lexical" in (mem.search("ramen", user_id="v", explain=True).results[0].explain or {})


def test_a_growing_partition_switches_to_spann_transparently(
    settings: Settings, embedder: CachedEmbedder
) -> None:
    import time

    from memsvc.services.scope import Scope

    settings.index.spann_threshold = 150
    settings.index.spann = {"posting_size": 16}
    settings.ingest.parts_min_words = 0  # short notes with parts: the parts index grows too
    topics = ["hiking", "baking", "chess", "sailing", "pottery", "jazz", "running", "knitting"]
    texts = [
        f"Note {i}: I spent the weekend {t} with friend number {i}. It was fun. "
        f"We plan to do more {t} in week {i % 7}."
        for i in range(200)
        for t in [topics[i % len(topics)]]
    ]
    with Memory(settings, embedder=embedder) as mem:
        mem.add(texts[:100], user_id="big", infer=False)
        target = mem.add(
            "My cousin Aurelio taught me to tune a harpsichord last spring.",
            user_id="big",
            infer=False,
        ).results[0]
        mem.add(texts[100:], user_id="big", infer=False)
        partition = Scope("default", "big", None, None).partition
        deadline = time.monotonic() + 60
        kinds = {}
        while time.monotonic() < deadline:  # the switch is rebuilt in the background
            kinds = {p: k for p, (k, _) in mem.runtime.indexes.loaded().items()}
            if kinds.get(partition) == kinds.get(f"{partition}#parts") == "spann":
                break
            time.sleep(0.1)
        assert mem.runtime.indexes.kind(partition) == "spann"
        assert mem.runtime.indexes.loaded()[f"{partition}#parts"][0] == "spann"
        hit = mem.search("who showed me how to tune an instrument?", user_id="big").results[0]
        assert hit.id == target.id
        # Writes after the switch reach the SPANN indexes too.
        late = mem.add("I adopted a three-legged cat named Tripod.", user_id="big").results[0]
        assert mem.search("what pet did I adopt?", user_id="big").results[0].id == late.id


def test_a_failed_index_update_rebuilds_both_indexes_from_the_database(
    mem: Memory, embedder: CachedEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memsvc.index.flat import FlatIndex
    from memsvc.services.scope import Scope

    mem.runtime.settings.ingest.parts_min_words = 0  # a short note with parts (both indexes)
    mem.add("I keep my passport in the blue folder. It expires next year.", user_id="f")
    real_add = FlatIndex.add
    calls = {"n": 0}

    def failing_add(self: FlatIndex, ids: object, vectors: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:  # the key index's update after the commit
            raise RuntimeError("disk full")
        real_add(self, ids, vectors)  # type: ignore[arg-type]

    monkeypatch.setattr(FlatIndex, "add", failing_add)
    with pytest.raises(RuntimeError, match="disk full"):
        mem.add("My bike lock code is 4471. I change it every spring.", user_id="f")
    monkeypatch.setattr(FlatIndex, "add", real_add)
    # The write was committed: both indexes are rebuilt from the database on next use.
    hit = mem.search("what is the code of my bike lock?", user_id="f").results[0]
    assert "4471" in hit.memory
    partition = Scope("default", "f", None, None).partition
    _, pks, _ = mem.runtime.indexes.search_parts(partition, embedder.embed_query("bike lock"), 10)
    assert len(set(pks.tolist())) == 2  # the parts index holds both notes' parts again
