"""Reader, judge and thought tasks through the fixture server."""

from __future__ import annotations

import pytest

from memsvc.llm.client import LLMClient
from memsvc.llm.qa import answer_question, judge_answer
from memsvc.llm.tasks import distill_thought
from memsvc.llm.usage import LLMUsage
from tests.support.llm_actions import fail_then, json_reply, text_reply
from tests.support.llm_defaults import tagged
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import FixtureLLMServer, prompt


def test_answer_uses_chain_of_note_and_returns_final_line(llm_server: FixtureLLMServer) -> None:
    reply = "[2] (2023-05-01) The user moved to Berlin.\nMost recent memory wins.\nAnswer: Berlin"
    llm_server.add(prompt("answer"), text_reply(reply))
    usage = LLMUsage()
    answer = answer_question(
        LLMClient(llm_settings(llm_server)),
        question="Where does the user live?",
        question_date="2023/06/01 (Thu) 10:00",
        memories=[
            "(2022-03-01) The user lives in Paris.",
            "(2023-05-01) The user moved to Berlin.",
        ],
        usage=usage,
    )
    assert answer == "Berlin" and usage.calls == 1
    (request,) = llm_server.requests
    assert "Answer:" in request.message("system")  # the Chain-of-Note instructions
    assert tagged(request, "memories") == (
        "[1] (2022-03-01) The user lives in Paris.\n[2] (2023-05-01) The user moved to Berlin."
    )
    assert "Current date: 2023/06/01 (Thu) 10:00" in request.message("user")


def test_answer_without_memories_abstains_by_default(llm_server: FixtureLLMServer) -> None:
    client = LLMClient(llm_settings(llm_server))
    answer = answer_question(
        client, question="What is my cat's name?", question_date="d", memories=[]
    )
    assert answer is not None and "don't know" in answer
    assert tagged(llm_server.requests[0], "memories") == "(none)"


@pytest.mark.parametrize(
    ("question_type", "abstention", "expected_prompt"),
    [
        ("temporal-reasoning", False, "judge_temporal"),
        ("knowledge-update", False, "judge_knowledge_update"),
        ("single-session-preference", False, "judge_preference"),
        ("multi-session", False, "judge_default"),
        ("knowledge-update", True, "judge_abstention"),
    ],
)
def test_judge_picks_prompt_by_type(
    llm_server: FixtureLLMServer, question_type: str, abstention: bool, expected_prompt: str
) -> None:
    llm_server.add(None, text_reply("Yes."))
    verdict = judge_answer(
        LLMClient(llm_settings(llm_server)),
        question_type=question_type,
        question="How many days?",
        answer="18 days",
        hypothesis="It took 19 days.",
        abstention=abstention,
    )
    assert verdict is True
    (request,) = llm_server.requests
    assert request.prompt == expected_prompt
    assert tagged(request, "reference") == "18 days"
    assert tagged(request, "response") == "It took 19 days."


def test_judge_defaults_from_fixture(llm_server: FixtureLLMServer) -> None:
    client = LLMClient(llm_settings(llm_server))

    def judge(hypothesis: str, abstention: bool = False) -> bool | None:
        return judge_answer(
            client,
            question_type="single-session-user",
            question="Which city?",
            answer="Berlin",
            hypothesis=hypothesis,
            abstention=abstention,
        )

    assert judge("The user lives in Berlin now.") is True
    assert judge("Paris.") is False
    assert judge("I don't know; the memories do not contain this.", abstention=True) is True
    assert judge("Berlin.", abstention=True) is False


def test_ambiguous_verdict_is_retried(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, fail_then(1, text_reply("Hmm, hard to say."), text_reply("no")))
    usage = LLMUsage()
    verdict = judge_answer(
        LLMClient(llm_settings(llm_server)),
        question_type="multi-session",
        question="q",
        answer="a",
        hypothesis="b",
        abstention=False,
        usage=usage,
    )
    assert verdict is False and usage.retries == 1


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
