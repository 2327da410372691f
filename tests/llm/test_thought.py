"""TiM's post-answer thought (distill_thought) through the fixture server."""

from __future__ import annotations

from memsvc.llm.client import LLMClient
from memsvc.llm.tasks import distill_thought, numbered
from tests.support.llm_actions import json_reply
from tests.support.llm_defaults import tagged
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import FixtureLLMServer, prompt


def test_distill_thought(llm_server: FixtureLLMServer) -> None:
    client = LLMClient(llm_settings(llm_server))
    draft = distill_thought(
        client,
        question="Where does the user live now?",
        answer="The user lives in Berlin since May 2023.",
        memories=["The user moved to Berlin in May 2023."],
    )
    assert draft is not None and draft.keep
    assert draft.statement == "The user lives in Berlin since May 2023."
    assert "Berlin" not in draft.keywords and "user" in draft.keywords
    assert tagged(llm_server.requests[0], "memories") == "[1] The user moved to Berlin in May 2023."


def test_thought_not_worth_keeping(llm_server: FixtureLLMServer) -> None:
    llm_server.add(prompt("thought"), json_reply({"statement": "", "keywords": [], "keep": True}))
    client = LLMClient(llm_settings(llm_server))
    draft = distill_thought(client, question="q", answer="I don't know.", memories=[])
    assert draft is not None and draft.keep is False


def test_numbered_clips_each_memory() -> None:
    assert numbered([], 10) == "(none)"
    assert numbered(["a  b", "x" * 20], 10) == "[1] a b\n[2] " + "x" * 9 + "…"
