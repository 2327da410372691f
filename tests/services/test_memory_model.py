"""The memory model end to end: TiM merge/supersede, A-MEM links and evolution, MemoryBank
decay, thoughts — with no LLM (offline heuristics) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memsvc import Memory
from memsvc.errors import InvalidInput

T0 = datetime(2023, 3, 1, 10, tzinfo=UTC)
MOVE = T0 + timedelta(days=120)


def _texts(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.memory for h in hits]


def test_paris_to_berlin_supersedes_with_history(mem: Memory) -> None:
    old = mem.add("I live in Paris, near the Canal Saint-Martin.", user_id="u", timestamp=T0)
    assert old.results[0].event == "ADD"
    mem.add("I play tennis on Sundays.", user_id="u", timestamp=T0 + timedelta(days=3))
    new = mem.add(
        [{"role": "user", "content": "Big news: I moved to Berlin last week!"}],
        user_id="u",
        timestamp=MOVE,
    )
    event = new.results[0]
    assert event.event == "SUPERSEDE" and event.target_id == old.results[0].id
    assert event.previous_memory == "I live in Paris, near the Canal Saint-Martin."

    now_hits = _texts(mem.search("where do I live?", user_id="u", top_k=3).results)
    assert "Berlin" in now_hits[0]
    assert not any("Paris" in t for t in now_hits)

    before = _texts(
        mem.search("where do I live?", user_id="u", top_k=3, as_of=MOVE - timedelta(days=1)).results
    )
    assert "Paris" in before[0]
    assert not any("Berlin" in t for t in before)

    paris = mem.get(old.results[0].id, user_id="u")
    assert paris.valid_to == MOVE and paris.superseded_by == event.id
    assert [h.event for h in mem.history(paris.id, user_id="u")] == ["ADD", "SUPERSEDE"]


def test_same_fact_twice_is_one_note_with_strength_two(mem: Memory) -> None:
    first = mem.add("My favourite colour is teal.", user_id="u", timestamp=T0)
    second = mem.add("my favourite colour is teal. ", user_id="u", timestamp=T0 + timedelta(days=1))
    assert second.results[0].event == "MERGE" and second.results[0].id == first.results[0].id
    notes = mem.get_all(user_id="u").results
    assert len(notes) == 1 and notes[0].strength == 2.0
    assert len(notes[0].episode_ids) == 2  # provenance of both kept
    assert [h.event for h in mem.history(notes[0].id, user_id="u")] == ["ADD", "MERGE"]


def test_filler_is_noop_but_its_episode_is_kept(mem: Memory) -> None:
    res = mem.add([{"role": "user", "content": "ok thanks!"}], user_id="u")
    assert [e.event for e in res.results] == ["NOOP"] and res.results[0].id is None
    assert len(res.episode_ids) == 1
    assert mem.get_all(user_id="u").results == []


def test_related_notes_are_linked_and_expanded_at_recall(mem: Memory) -> None:
    a = mem.add(
        "I'm training for the Berlin marathon in September.", user_id="u", timestamp=T0
    ).results[0]
    b = mem.add(
        "My marathon training plan has long runs on Saturdays.", user_id="u", timestamp=T0
    ).results[0]
    links = mem.links(b.id, user_id="u")
    assert [link.id for link in links] == [a.id]
    assert links[0].direction == "out" and "shared" in links[0].reason
    assert [link.id for link in mem.links(a.id, user_id="u")] == [b.id] and mem.links(
        a.id, user_id="u"
    )[0].direction == "in"
    mem.add("I bought a new espresso machine.", user_id="u", timestamp=T0)
    hits = mem.search("Saturday long runs", user_id="u", top_k=3, explain=True).results
    by_id = {h.id: h for h in hits}
    assert b.id in by_id and a.id in by_id
    assert hits[0].explain is not None and "similarity" in hits[0].explain


def test_offline_evolution_propagates_tags_with_history(mem: Memory) -> None:
    first = mem.add(
        "I started learning to bake sourdough bread at home.", user_id="u", timestamp=T0
    ).results[0]
    before = set(mem.get(first.id, user_id="u").tags)
    mem.add(
        "My sourdough bread baking at home keeps improving.",
        user_id="u",
        timestamp=T0 + timedelta(days=2),
    )
    evolved = [h for h in mem.history(first.id, user_id="u") if h.event == "EVOLVE"]
    if evolved:  # evolution only fires when the new note brings tags the old one lacks
        assert set(mem.get(first.id, user_id="u").tags) > before
        assert evolved[0].before is not None and evolved[0].after is not None
    assert mem.links(first.id, user_id="u")


def test_unused_note_is_forgotten_after_a_simulated_year_and_restorable(mem: Memory) -> None:
    old = mem.add(
        "The wifi password at the cabin is 'pinecone42'.", user_id="u", timestamp=T0
    ).results[0]
    fresh = mem.add(
        "I adopted a cat named Miso.", user_id="u", timestamp=T0 + timedelta(days=365)
    ).results[0]
    result = mem.sweep()
    assert result.forgotten == 1
    assert (
        mem.get(old.id, user_id="u").status == "forgotten"
        and mem.get(fresh.id, user_id="u").status == "active"
    )
    assert old.id not in {h.id for h in mem.search("cabin wifi password", user_id="u").results}
    with_forgotten = mem.search("cabin wifi password", user_id="u", include_forgotten=True).results
    assert with_forgotten[0].id == old.id
    restored = mem.update(old.id, status="active", user_id="u")
    assert restored.status == "active" and restored.strength == 2.0
    assert mem.search("cabin wifi password", user_id="u", top_k=1).results[0].id == old.id
    assert mem.sweep().forgotten == 0  # restoring reinforced it: the next sweep keeps it
    assert [h.event for h in mem.history(old.id, user_id="u")] == ["ADD", "FORGET", "RESTORE"]


def test_recall_reinforces_and_slows_forgetting(mem: Memory) -> None:
    kept = mem.add("My passport expires in 2031.", user_id="u", timestamp=T0).results[0]
    faded = mem.add("The plumber's name was Greg.", user_id="u", timestamp=T0).results[0]
    for day in (30, 60, 90, 120):
        hits = mem.search(
            "when does my passport expire?", user_id="u", top_k=1, as_of=T0 + timedelta(days=day)
        )
        assert hits.results[0].id == kept.id
    mem.sync()
    assert (
        mem.get(kept.id, user_id="u").strength == 5.0
        and mem.get(kept.id, user_id="u").recall_count == 4
    )
    mem.add("Unrelated later note.", user_id="u", timestamp=T0 + timedelta(days=200))
    mem.sweep()
    assert (
        mem.get(kept.id, user_id="u").status == "active"
        and mem.get(faded.id, user_id="u").status == "forgotten"
    )


def test_search_can_skip_reinforcement(mem: Memory) -> None:
    note = mem.add("I keep my bike in the basement.", user_id="u").results[0]
    mem.search("where is my bike?", user_id="u", reinforce=False)
    mem.sync()
    assert mem.get(note.id, user_id="u").strength == 1.0


def test_thoughts_link_to_sources_and_can_come_first(mem: Memory) -> None:
    src = mem.add("I get migraines when I skip breakfast.", user_id="u", timestamp=T0).results[0]
    mem.add("I usually skip breakfast on workdays.", user_id="u", timestamp=T0)
    thought = mem.add_thought(
        "The user's workday migraines are probably caused by skipping breakfast.",
        user_id="u",
        source_ids=[src.id],
        timestamp=T0 + timedelta(days=1),
    ).results[0]
    assert thought.event == "ADD"
    assert mem.get(thought.id or "", user_id="u").kind == "thought"
    kinds = {(link.id, link.kind) for link in mem.links(thought.id or "", user_id="u")}
    assert (src.id, "derived_from") in kinds
    hits = mem.search("why do I get headaches?", user_id="u", thoughts_first=True, top_k=3).results
    assert hits[0].kind == "thought"
    with pytest.raises(InvalidInput):
        mem.add_thought("A thought about nothing.", user_id="u", source_ids=["no-such-id"])
    assert sum(1 for n in mem.get_all(user_id="u").results if n.kind == "thought") == 1


def test_out_of_order_replay_keeps_the_later_value_current(mem: Memory) -> None:
    mem.add("I moved to Berlin.", user_id="u", timestamp=MOVE)
    late = mem.add(
        "I live in Paris.", user_id="u", timestamp=T0
    )  # an older statement, ingested later
    assert late.results[0].event == "SUPERSEDE"
    assert "Berlin" in mem.search("where do I live?", user_id="u", top_k=1).results[0].memory
    assert (
        "Paris"
        in mem.search("where do I live?", user_id="u", top_k=1, as_of=T0 + timedelta(days=1))
        .results[0]
        .memory
    )
