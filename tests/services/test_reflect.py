"""Think-in-Memory post-thinking: POST /v1/thoughts/reflect keeps what an answer concluded,
linked to its sources — distilled by the LLM (fixture server), or the answer itself offline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from memsvc import Memory
from memsvc.api import create_app
from memsvc.client import InvalidInput, MemoryClient
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings
from tests.support.llm_actions import json_reply
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import FixtureLLMServer, prompt

T0 = datetime(2024, 5, 2, 9, tzinfo=UTC)
QUESTION = "How long have I lived in Berlin?"
ANSWER = "You moved to Berlin in May 2023, so about a year."


def _source(client: Memory | MemoryClient) -> str:
    res = client.add("I moved to Berlin in May 2023.", user_id="u", timestamp=T0, infer=False)
    return res.results[0].id or ""


def test_offline_keeps_the_answer_linked_to_its_sources(
    tmp_path: Path, embedder: CachedEmbedder
) -> None:
    with (
        LiveServer(create_app(make_settings(tmp_path), embedder=embedder)) as srv,
        MemoryClient(srv.url) as client,
    ):
        src = _source(client)
        res = client.reflect(QUESTION, ANSWER, source_ids=[src], user_id="u", timestamp=T0)
        thought = res.results[0]
        assert thought.event == "ADD" and thought.memory == ANSWER
        note = client.get(thought.id or "", user_id="u")
        assert note.kind == "thought" and note.metadata["question"] == QUESTION
        assert note.metadata["distilled_by"] == "offline"
        links = client.links(thought.id or "", user_id="u")
        assert (src, "derived_from") in [
            (link.id, link.kind) for link in links
        ]  # also A-MEM "related"
        hits = client.search(
            "when did I move?", user_id="u", thoughts_first=True, kinds=["thought"]
        )
        assert hits.results[0].id == thought.id
        with pytest.raises(InvalidInput):  # another owner's memory is no source
            client.reflect(QUESTION, ANSWER, source_ids=[src], user_id="someone-else")


@pytest.fixture
def mem(tmp_path: Path, embedder: CachedEmbedder, llm_server: FixtureLLMServer) -> Iterator[Memory]:
    settings = make_settings(tmp_path, llm=llm_settings(llm_server).model_dump())
    with Memory(settings, embedder=embedder) as m:
        yield m


def test_llm_distils_the_statement(mem: Memory, llm_server: FixtureLLMServer) -> None:
    src = _source(mem)
    llm_server.add(
        prompt("thought"),
        json_reply(
            {
                "statement": "The user has lived in Berlin since May 2023.",
                "keywords": ["Berlin"],
                "keep": True,
            }
        ),
    )
    res = mem.reflect(QUESTION, ANSWER, source_ids=[src], user_id="u", timestamp=T0)
    assert res.results[0].memory == "The user has lived in Berlin since May 2023."
    assert res.llm.calls >= 1
    sent = llm_server.requests_for("thought")[0]
    assert "I moved to Berlin in May 2023." in str(sent.messages)
    note = mem.get(res.results[0].id or "", user_id="u")
    assert note.metadata["distilled_by"] == "llm"


def test_llm_says_nothing_worth_keeping(mem: Memory, llm_server: FixtureLLMServer) -> None:
    llm_server.add(prompt("thought"), json_reply({"statement": "", "keywords": [], "keep": False}))
    before = len(mem.get_all(user_id="u").results)
    res = mem.reflect("What is my cat's name?", "I don't know.", user_id="u")
    assert [r.event for r in res.results] == ["NOOP"]
    assert len(mem.get_all(user_id="u").results) == before
