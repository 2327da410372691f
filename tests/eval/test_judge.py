"""The eval's reader and judge (memsvc_eval.judge): through the fixture server, and their
reply parsing (the final ``Answer:`` line, the yes/no verdict, the prompt per question type)."""

from __future__ import annotations

import pytest
from memsvc_eval.judge import (
    answer_question,
    final_answer,
    judge_answer,
    judge_prompt_name,
    parse_verdict,
)

from memsvc.config import LLMSettings
from memsvc.llm.client import LLMClient
from memsvc.llm.usage import LLMUsage
from tests.support.llm_actions import fail_then, text_reply
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


def test_disabled_client_answers_and_judges_nothing() -> None:
    client = LLMClient(LLMSettings(model="none"))
    assert answer_question(client, question="q", question_date="d", memories=[]) is None
    verdict = judge_answer(
        client, question_type="x", question="q", answer="a", hypothesis="h", abstention=False
    )
    assert verdict is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1] The user moved in May.\nAnswer: Berlin", "Berlin"),
        ("notes...\n**Answer:** 18 days", "18 days"),
        ("Answer: Paris\nwait, re-reading.\nFinal answer: Berlin.", "Berlin."),
        ("Just Berlin.", "Just Berlin."),
    ],
)
def test_final_answer(text: str, expected: str) -> None:
    assert final_answer(text) == expected


def test_final_answer_rejects_empty() -> None:
    with pytest.raises(ValueError):
        final_answer("notes\nAnswer:   ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("No.", False),
        ("Yes, the response matches the reference.", True),
        ('{"correct": false}', False),
        ('{"verdict": "yes", "reason": "same"}', True),
        ("The response gives the updated city, so: yes", True),
        ("Correct", True),
    ],
)
def test_parse_verdict(text: str, expected: bool) -> None:
    assert parse_verdict(text) is expected


@pytest.mark.parametrize("text", ["", "maybe", "maybe yes, maybe no"])
def test_parse_verdict_ambiguous(text: str) -> None:
    with pytest.raises(ValueError):
        parse_verdict(text)


def test_judge_prompt_by_question_type() -> None:
    assert judge_prompt_name("temporal-reasoning") == "judge_temporal"
    assert judge_prompt_name("knowledge-update") == "judge_knowledge_update"
    assert judge_prompt_name("single-session-preference") == "judge_preference"
    assert judge_prompt_name("multi-session") == "judge_default"
    assert judge_prompt_name("single-session-user") == "judge_default"
    assert judge_prompt_name("temporal-reasoning", abstention=True) == "judge_abstention"
