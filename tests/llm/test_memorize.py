"""The batched memorize call: batching, handles, partial failures, usage."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pytest

from memsvc.llm.client import LLMClient
from memsvc.llm.tasks import MAX_NOTE_CHARS, TOKENS_PER_NOTE, Candidate, NewNote, memorize
from memsvc.llm.usage import LLMUsage
from tests.support.llm_actions import http_error, json_reply
from tests.support.llm_defaults import default_memorize, memorize_op_when, memorize_request
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import ChatRequest, FixtureLLMServer, prompt

PARIS = Candidate(
    handle="4f1c-note-paris",
    content="The user lives in Paris and works at a bakery.",
    keywords=("Paris", "bakery"),
    tags=("home",),
    context="The user's home city.",
    timestamp=datetime(2022, 3, 1, 9, 30),
)
DOG = Candidate(handle="9a7e-note-dog", content="The user adopted a beagle called Max.")


def turn(index: int, content: str, *candidates: Candidate) -> NewNote:
    return NewNote(
        index=index,
        role="user",
        content=content,
        timestamp=datetime(2023, 5, 20, 14, 3),
        session_context="session s1",
        candidates=candidates,
    )


@pytest.mark.parametrize(("count", "batch_size"), [(1, 4), (4, 4), (10, 4), (7, 1), (5, 16)])
def test_one_request_per_chunk(llm_server: FixtureLLMServer, count: int, batch_size: int) -> None:
    client = LLMClient(llm_settings(llm_server, batch_size=batch_size))
    notes = [turn(100 + i, f"I bought {i} bicycles in Amsterdam", PARIS) for i in range(count)]
    usage = LLMUsage()
    decisions = memorize(client, notes, usage=usage)
    requests = llm_server.requests_for("memorize")
    assert len(requests) == math.ceil(count / batch_size) == usage.calls
    assert len(requests) == len(llm_server.requests)  # nothing else was called
    assert [d.index for d in decisions if d is not None] == [n.index for n in notes]
    assert all(d is not None and "Amsterdam" in d.keywords for d in decisions)
    assert usage.prompt_tokens == sum(r.usage["prompt_tokens"] for r in requests if r.usage)
    assert usage.completion_tokens == sum(r.usage["completion_tokens"] for r in requests if r.usage)


def test_prompt_lists_notes_and_shared_candidates_once(llm_server: FixtureLLMServer) -> None:
    client = LLMClient(llm_settings(llm_server))
    memorize(client, [turn(0, "I moved to Berlin", PARIS, DOG), turn(1, "Max loves Berlin", DOG)])
    notes, memories = memorize_request(llm_server.requests[0])
    assert [m["handle"] for m in memories] == ["m1", "m2"]  # DOG listed once for both notes
    assert memories[0]["content"] == PARIS.content and memories[0]["keywords"] == [
        "Paris",
        "bakery",
    ]
    assert memories[0]["time"] == "2022-03-01 09:30 (Tue)"
    assert [n["candidates"] for n in notes] == [["m1", "m2"], ["m2"]]
    assert notes[0] | {"candidates": []} == {
        "index": 0,
        "role": "user",
        "time": "2023-05-20 14:03 (Sat)",
        "session": "session s1",
        "content": "I moved to Berlin",
        "candidates": [],
    }
    assert PARIS.handle not in llm_server.requests[0].text  # the model only sees m1, m2


def test_supersede_comes_back_with_the_callers_handle(llm_server: FixtureLLMServer) -> None:
    decide = memorize_op_when("SUPERSEDE", new_contains="Berlin", old_contains="Paris")
    llm_server.add(prompt("memorize"), json_reply(decide))
    client = LLMClient(llm_settings(llm_server))
    moved, dog = memorize(
        client,
        [turn(7, "I moved to Berlin last month", DOG, PARIS), turn(8, "The beagle is fine", DOG)],
    )
    assert moved is not None and dog is not None
    assert moved.operation.op == "SUPERSEDE" and moved.operation.target == PARIS.handle
    assert dog.operation.op == "ADD" and dog.operation.target is None
    assert [link.target for link in dog.links] == [DOG.handle]  # shares the word "beagle"


def unknown_handles(request: ChatRequest) -> dict[str, Any]:
    payload = default_memorize(request)
    first, second, third = payload["notes"]
    first["operation"] = {"op": "SUPERSEDE", "target": "m9", "reason": "made up"}
    first["links"] = [{"target": "m1", "reason": "ok"}, {"target": "m9"}, {"target": "m1"}]
    first["evolve"] = [
        {"target": "m1", "context": "The user's former home city."},
        {"target": "m5", "tags": ["x"]},
        {"target": "m1", "context": None, "tags": None},
    ]
    second["operation"] = {"op": "MERGE", "target": None}
    third["operation"] = {"op": "NOOP", "target": "m1"}
    return payload


def test_unknown_handles_are_dropped(llm_server: FixtureLLMServer) -> None:
    llm_server.add(prompt("memorize"), json_reply(unknown_handles))
    client = LLMClient(llm_settings(llm_server))
    notes = [
        turn(0, "I moved to Berlin", PARIS),
        turn(1, "Berlin again", PARIS),
        turn(2, "ok", PARIS),
    ]
    first, second, third = memorize(client, notes)
    assert first is not None and second is not None and third is not None
    assert first.operation.op == "ADD" and first.operation.target is None
    assert "m9" in first.operation.reason
    assert [(link.target, link.reason) for link in first.links] == [(PARIS.handle, "ok")]
    assert [(e.target, e.context) for e in first.evolve] == [
        (PARIS.handle, "The user's former home city.")
    ]
    assert second.operation.op == "ADD"
    assert third.operation.op == "NOOP" and third.operation.target is None


def test_failed_chunk_gives_none_for_its_notes_only(llm_server: FixtureLLMServer) -> None:
    llm_server.add("Tokyo", http_error(500))  # every request that carries the second chunk
    client = LLMClient(llm_settings(llm_server, batch_size=2, max_retries=1))
    notes = [turn(i, f"Trip {i} to {'Tokyo' if i in (2, 3) else 'Rome'}") for i in range(5)]
    usage = LLMUsage()
    decisions = memorize(client, notes, usage=usage)
    assert [d is not None for d in decisions] == [True, True, False, False, True]
    assert usage.calls == 3 and usage.failed_calls == 1 and usage.retries == 1
    assert len(llm_server.requests) == 4


def test_note_missing_from_answer_gives_none(llm_server: FixtureLLMServer) -> None:
    def drop_second(request: ChatRequest) -> dict[str, Any]:
        payload = default_memorize(request)
        payload["notes"] = [n for n in payload["notes"] if n["index"] != 1] + [
            {"index": 0, "keywords": ["duplicate"]},  # a repeated index: the first one wins
            {"index": 42},  # an index no note has: ignored
        ]
        return payload

    llm_server.add(prompt("memorize"), json_reply(drop_second))
    decisions = memorize(
        LLMClient(llm_settings(llm_server)), [turn(i, f"Paris {i}") for i in range(3)]
    )
    assert [d.index if d else None for d in decisions] == [0, None, 2]
    assert decisions[0] is not None and decisions[0].keywords != ["duplicate"]


def test_long_content_is_clipped(llm_server: FixtureLLMServer) -> None:
    memorize(LLMClient(llm_settings(llm_server)), [turn(0, "word " * 5000)])
    (note,), _ = memorize_request(llm_server.requests[0])
    assert len(note["content"]) <= MAX_NOTE_CHARS


def test_empty_input_makes_no_call(llm_server: FixtureLLMServer) -> None:
    assert memorize(LLMClient(llm_settings(llm_server)), []) == []
    assert llm_server.requests == []


def test_output_budget_grows_with_the_chunk(llm_server: FixtureLLMServer) -> None:
    client = LLMClient(llm_settings(llm_server, batch_size=16, max_tokens=1000))
    memorize(client, [turn(i, f"Note {i} about Lisbon") for i in range(18)])
    budgets = [r.body["max_tokens"] for r in llm_server.requests]
    assert budgets == [16 * TOKENS_PER_NOTE, 1000]
