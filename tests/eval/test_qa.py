"""QA mode against the fixture LLM server (real litellm → HTTP → scripted replies)."""

from __future__ import annotations

from memsvc_eval.qa import QA, format_memories

from memsvc.config import LLMSettings
from tests.support.llm_actions import text_reply
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import FixtureLLMServer, prompt

from .conftest import make_record

RED = {"memory": "I bought a red bike.", "event_time": "2023-05-27T10:00:00+00:00"}
SOUP = {"memory": "I like soup.", "event_time": "2023-05-20T08:30:00+00:00"}


def test_format_memories_puts_the_date_first() -> None:
    assert format_memories([RED, {"memory": "undated"}]) == [
        "[2023-05-27 10:00] I bought a red bike.",
        "undated",
    ]


def test_answer_then_judge(llm_server: FixtureLLMServer) -> None:
    qa = QA(llm_settings(llm_server))
    rec = make_record("q1", question="What colour is my bike?", answer="red")
    out = qa.run(rec, [RED, SOUP])
    # The fixture reader answers with its first memory; the judge finds "red" in it.
    assert out["hypothesis"] == "[2023-05-27 10:00] I bought a red bike."
    assert out["correct"] is True
    assert out["llm_calls"] == 2
    (answer_req,) = llm_server.requests_for("answer")
    assert "2023/05/30 (Tue) 12:00" in answer_req.text  # the question date
    assert "[1] [2023-05-27 10:00] I bought a red bike." in answer_req.text
    assert "[2] [2023-05-20 08:30] I like soup." in answer_req.text
    (judge_req,) = llm_server.requests_for("judge_default")
    assert "red" in judge_req.text


def test_wrong_memory_is_judged_wrong_and_types_pick_their_judge(
    llm_server: FixtureLLMServer,
) -> None:
    qa = QA(llm_settings(llm_server))
    rec = make_record("q2", qtype="temporal-reasoning", answer="red")
    assert qa.run(rec, [SOUP, RED])["correct"] is False
    assert len(llm_server.requests_for("judge_temporal")) == 1


def test_abstention_is_correct_when_the_reader_declines(llm_server: FixtureLLMServer) -> None:
    qa = QA(llm_settings(llm_server))
    rec = make_record("q3_abs", qtype="multi-session", answer="You never mentioned a bike.")
    out = qa.run(rec, [])
    assert "don't know" in (out["hypothesis"] or "")
    assert out["correct"] is True
    assert len(llm_server.requests_for("judge_abstention")) == 1


def test_no_verdict_is_none_not_false(llm_server: FixtureLLMServer) -> None:
    llm_server.add(prompt("judge_default"), text_reply("maybe, hard to say"))
    qa = QA(llm_settings(llm_server, max_retries=1))
    out = qa.run(make_record("q4"), [RED])
    assert out["hypothesis"] is not None
    assert out["correct"] is None


def test_qa_needs_an_llm() -> None:
    import pytest

    with pytest.raises(ValueError, match="QA mode needs an LLM"):
        QA(LLMSettings(model="none"))
