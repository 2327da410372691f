"""The memory model with an LLM: the real litellm path against the fixture OpenAI-compatible
server on 127.0.0.1 — batching, scripted TiM decisions, and failures that lose nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from memsvc import Memory
from memsvc.db.models import Job
from memsvc.embed import CachedEmbedder
from tests.conftest import make_settings
from tests.support.llm_actions import delay, garbage, json_reply
from tests.support.llm_defaults import default_memorize, memorize_op_when
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import FixtureLLMServer, prompt

T0 = datetime(2024, 1, 8, 9, tzinfo=UTC)


@pytest.fixture
def mem(tmp_path: Path, embedder: CachedEmbedder, llm_server: FixtureLLMServer) -> Iterator[Memory]:
    settings = make_settings(tmp_path, llm=llm_settings(llm_server).model_dump())
    with Memory(settings, embedder=embedder) as m:
        yield m


def test_one_batched_call_per_chunk_and_usage_reported(
    mem: Memory, llm_server: FixtureLLMServer
) -> None:
    turns = [
        {"role": "user", "content": f"Fact number {i}: I collect {kind} stamps."}
        for i, kind in enumerate(["French", "Dutch", "Polish", "Greek", "Irish", "Czech", "Swiss"])
    ]
    res = mem.add(turns, user_id="u", timestamp=T0)
    calls = llm_server.requests_for("memorize")
    assert len(calls) == 2  # 7 notes, batch_size 4
    assert res.llm.calls == 2 and res.llm.prompt_tokens > 0 and res.llm.completion_tokens > 0
    assert res.llm.calls / len(turns) <= 1
    note = mem.get(res.results[0].id or "", user_id="u")
    assert note.context.startswith("The user talks about")  # from the LLM, not the heuristics
    assert [h.event for h in mem.history(note.id, user_id="u")] == ["ADD"] and mem.history(
        note.id, user_id="u"
    )[0].actor == "llm"


def test_llm_decides_a_supersede_the_heuristics_cannot_see(
    mem: Memory, llm_server: FixtureLLMServer
) -> None:
    old = mem.add("The team standup is at 9am every weekday.", user_id="u", timestamp=T0).results[0]
    llm_server.add(
        prompt("memorize"),
        json_reply(memorize_op_when("SUPERSEDE", new_contains="10am", old_contains="standup")),
    )
    new = mem.add(
        "From next week the standup happens at 10am.",
        user_id="u",
        timestamp=T0 + timedelta(days=30),
    ).results[0]
    assert new.event == "SUPERSEDE" and new.target_id == old.id
    assert "10am" in mem.search("when is standup?", user_id="u", top_k=1).results[0].memory
    assert (
        "9am"
        in mem.search("when is standup?", user_id="u", top_k=1, as_of=T0 + timedelta(days=1))
        .results[0]
        .memory
    )


def test_add_many_decides_each_item_with_the_llm_against_the_items_before_it(
    mem: Memory, llm_server: FixtureLLMServer
) -> None:
    """The LLM's supersession of a fact stored by an earlier item of the same batch: items
    are decided in order, each against what the ones before it stored."""
    llm_server.add(
        prompt("memorize"),
        json_reply(memorize_op_when("SUPERSEDE", new_contains="10am", old_contains="standup")),
    )
    old, new = mem.add_many(
        [
            {"text": "The team standup is at 9am every weekday.", "user_id": "u", "timestamp": T0},
            {
                "text": "From next week the standup happens at 10am.",
                "user_id": "u",
                "timestamp": T0 + timedelta(days=30),
            },
        ]
    ).results
    assert old.results[0].event == "ADD" and old.llm.calls == 1
    assert new.results[0].event == "SUPERSEDE" and new.results[0].target_id == old.results[0].id
    assert new.llm.calls == 1
    assert "10am" in mem.search("when is standup?", user_id="u", top_k=1).results[0].memory


def test_llm_merge_keeps_one_note_with_strength_two(
    mem: Memory, llm_server: FixtureLLMServer
) -> None:
    first = mem.add("I'm vegetarian since 2015.", user_id="u", timestamp=T0).results[0]
    llm_server.add(
        prompt("memorize"),
        json_reply(memorize_op_when("MERGE", new_contains="meat", old_contains="vegetarian")),
    )
    # Worded differently but no new number, name or polarity (issue 14: those are not merged).
    text = "Meat has been off my plate for years, as a vegetarian."
    again = mem.add(text, user_id="u", timestamp=T0 + timedelta(days=5)).results[0]
    assert again.event == "MERGE" and again.id == first.id
    assert text in mem.get(first.id, user_id="u").facts  # the merged wording stays findable
    assert (
        mem.get(first.id, user_id="u").strength == 2.0
        and len(mem.get_all(user_id="u").results) == 1
    )


@pytest.mark.parametrize("fault", ["garbage", "timeout"])
def test_llm_failure_loses_nothing_and_enriches_later(
    mem: Memory, llm_server: FixtureLLMServer, fault: str
) -> None:
    action = garbage() if fault == "garbage" else delay(3.0, json_reply(default_memorize))
    rule = llm_server.add(prompt("memorize"), action)
    res = mem.add(
        [{"role": "user", "content": "My landlord is called Mrs. Okafor."}],
        user_id="u",
        timestamp=T0,
    )
    assert res.results[0].event == "ADD" and res.pending_enrichment == 1
    assert res.llm.failed_calls == 1
    note_id = res.results[0].id or ""
    assert "Okafor" in mem.search("who is my landlord?", user_id="u", top_k=1).results[0].memory
    with mem.runtime.db.read() as session:
        job = session.scalars(select(Job)).one()
        assert job.status == "pending" and job.payload == {"note_ids": [note_id]}
    llm_server.rules.remove(rule)  # the LLM is back
    mem.sync()
    enriched = mem.get(note_id, user_id="u")
    assert enriched.context.startswith("The user talks about")
    assert [h.event for h in mem.history(note_id, user_id="u")] == ["ADD", "ENRICH"]
    with mem.runtime.db.read() as session:
        assert session.scalars(select(Job.status)).all() == ["done"]


def test_wait_false_acknowledges_first_and_enriches_from_the_queue(
    mem: Memory, llm_server: FixtureLLMServer
) -> None:
    res = mem.add(
        [{"role": "user", "content": "I ride a green Vespa to work."}], user_id="u", wait=False
    )
    assert res.llm.calls == 0 and res.pending_enrichment == 1
    assert llm_server.requests_for("memorize") == []
    assert mem.search("how do I commute?", user_id="u").results  # searchable at once
    mem.sync()
    assert len(llm_server.requests_for("memorize")) == 1
    assert mem.get(res.results[0].id or "", user_id="u").context.startswith("The user talks about")


def test_queued_duplicate_is_folded_into_its_target(
    mem: Memory, llm_server: FixtureLLMServer
) -> None:
    first = mem.add("I'm allergic to shellfish.", user_id="u", timestamp=T0).results[0]
    dup = mem.add(
        "Shellfish gives me a bad allergic reaction.",
        user_id="u",
        wait=False,
        timestamp=T0 + timedelta(days=1),
    ).results[0]
    assert dup.event == "ADD"
    llm_server.add(
        prompt("memorize"),
        json_reply(
            memorize_op_when("MERGE", new_contains="reaction", old_contains="allergic to shellfish")
        ),
    )
    mem.sync()
    notes = mem.get_all(user_id="u").results
    assert [n.id for n in notes] == [first.id] and notes[0].strength == 2.0
    assert [h.event for h in mem.history(dup.id or "", user_id="u")] == ["ADD", "ENRICH", "DELETE"]
    assert mem.search("seafood allergy", user_id="u", top_k=5).results[0].id == first.id


def test_queued_enrichment_keeps_content_only_keys_when_expansion_is_off(
    tmp_path: Path, embedder: CachedEmbedder, llm_server: FixtureLLMServer
) -> None:
    import numpy as np

    from memsvc.db.models import Note

    settings = make_settings(
        tmp_path, llm=llm_settings(llm_server).model_dump(), ingest={"key_expansion": False}
    )
    with Memory(settings, embedder=embedder) as mem:
        text = "I ride a green Vespa to work."
        res = mem.add([{"role": "user", "content": text}], user_id="u", wait=False)
        mem.sync()
        assert mem.get(res.results[0].id or "", user_id="u").context.startswith(
            "The user talks about"
        )
        with mem.runtime.db.read() as session:
            note = session.scalars(select(Note).where(Note.id == res.results[0].id)).one()
            assert note.search_text == text
            stored = np.frombuffer(note.embedding or b"", dtype=np.float32)
        # The vector is the content's, as the lexical key is: the LLM's attributes do not
        # leak into a content-only key.
        assert np.allclose(stored, embedder.embed([text])[0], atol=1e-5)
