"""Every fault mode through the real path: LLMClient → litellm → HTTP → fixture server."""

from __future__ import annotations

import threading
import time

import pytest
from pydantic import BaseModel

from memsvc.llm.client import PROMPT_HEADER, LLMClient
from memsvc.llm.usage import LLMUsage
from tests.support.llm_actions import (
    broken_body,
    delay,
    fail_then,
    garbage,
    http_error,
    json_reply,
    prose_json,
    text_reply,
)
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import Action, FixtureLLMServer, prompt


class City(BaseModel):
    city: str
    since: int


GOOD = {"city": "Berlin", "since": 2023}


def client_for(server: FixtureLLMServer, **overrides: object) -> LLMClient:
    return LLMClient(llm_settings(server, **overrides))


def ask(client: LLMClient, usage: LLMUsage | None = None) -> City | None:
    # Any shipped prompt will do; "thought" takes three plain variables.
    return client.complete_json(
        "thought", City, usage=usage, question="Where?", answer="Berlin", memories="[1] x"
    )


def test_valid_json_one_request_and_tokens_from_server(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, json_reply(GOOD))
    usage = LLMUsage()
    assert ask(client_for(llm_server), usage) == City(city="Berlin", since=2023)
    (request,) = llm_server.requests
    assert request.model == "fixture"
    assert request.headers[PROMPT_HEADER.lower()] == "thought"
    assert request.body["temperature"] == 0.0 and request.body["max_tokens"] == 2048
    assert request.headers["authorization"] == "Bearer test"
    assert request.usage is not None
    assert usage.calls == 1 and usage.retries == 0 and usage.failed_calls == 0
    assert usage.prompt_tokens == request.usage["prompt_tokens"] > 0
    assert usage.completion_tokens == request.usage["completion_tokens"] > 0


@pytest.mark.parametrize(
    "action", [json_reply(GOOD, fenced=True), prose_json(GOOD)], ids=["fenced", "prose"]
)
def test_fences_and_prose_need_no_retry(llm_server: FixtureLLMServer, action: Action) -> None:
    llm_server.add(None, action)
    usage = LLMUsage()
    assert ask(client_for(llm_server), usage) == City(city="Berlin", since=2023)
    assert len(llm_server.requests) == 1 and usage.retries == 0


def test_garbage_then_ok_retries_with_repair_message(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, fail_then(1, garbage("no idea }{"), json_reply(GOOD)))
    usage = LLMUsage()
    assert ask(client_for(llm_server), usage) == City(city="Berlin", since=2023)
    first, second = llm_server.requests
    assert usage.calls == 1 and usage.retries == 1 and usage.failed_calls == 0
    # The retry shows the model its bad answer and why it was rejected.
    assert second.messages[: len(first.messages)] == first.messages
    assert second.messages[-2] == {"role": "assistant", "content": "no idea }{"}
    assert "could not be used" in second.messages[-1]["content"]
    served = [r.usage for r in llm_server.requests if r.usage is not None]
    assert usage.prompt_tokens == sum(u["prompt_tokens"] for u in served)


def test_schema_violation_is_retried(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, fail_then(1, json_reply({"city": "Berlin"}), json_reply(GOOD)))
    usage = LLMUsage()
    assert ask(client_for(llm_server), usage) is not None
    assert usage.retries == 1 and "since" in llm_server.requests[1].messages[-1]["content"]


def test_garbage_forever_gives_none(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, garbage())
    usage = LLMUsage()
    assert ask(client_for(llm_server, max_retries=2), usage) is None
    assert len(llm_server.requests) == 3
    assert usage.calls == 1 and usage.retries == 2 and usage.failed_calls == 1
    assert usage.completion_tokens > 0  # rejected answers still cost tokens


def test_429_then_ok_honours_retry_after(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, fail_then(1, http_error(429, retry_after=0.3), json_reply(GOOD)))
    usage = LLMUsage()
    started = time.perf_counter()
    assert ask(client_for(llm_server, backoff_s=0.001), usage) is not None
    assert time.perf_counter() - started >= 0.3
    assert len(llm_server.requests) == 2 and usage.retries == 1


def test_retry_after_is_capped(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, fail_then(1, http_error(429, retry_after=3600), json_reply(GOOD)))
    client = LLMClient(llm_settings(llm_server), max_wait_s=0.05)
    started = time.perf_counter()
    assert ask(client) is not None
    assert time.perf_counter() - started < 5


def test_timeout_then_ok(llm_server: FixtureLLMServer) -> None:
    # The slow answer takes 5 s, the timeout is 1 s: the retry's quick answer has the same
    # margin as every other test here on a loaded CI machine, and waiting it out would show.
    llm_server.add(None, fail_then(1, delay(5.0, json_reply(GOOD)), json_reply(GOOD)))
    usage = LLMUsage()
    started = time.perf_counter()
    assert ask(client_for(llm_server, timeout_s=1.0), usage) is not None
    assert time.perf_counter() - started < 4.5  # gave up on the slow answer, did not wait it out
    assert len(llm_server.requests) == 2 and usage.retries == 1


def test_500_forever_gives_none_and_counts(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, http_error(500))
    usage = LLMUsage()
    client = client_for(llm_server, max_retries=3)
    assert ask(client, usage) is None
    assert len(llm_server.requests) == 4
    assert usage == LLMUsage(calls=1, failed_calls=1, retries=3)
    assert client.totals == usage


def test_broken_response_body_is_retried(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, fail_then(1, broken_body(), json_reply(GOOD)))
    assert ask(client_for(llm_server)) is not None
    assert len(llm_server.requests) == 2


@pytest.mark.parametrize("status", [401, 400, 404])
def test_client_errors_are_not_retried(llm_server: FixtureLLMServer, status: int) -> None:
    llm_server.add(None, http_error(status))
    usage = LLMUsage()
    assert ask(client_for(llm_server, max_retries=3), usage) is None
    assert len(llm_server.requests) == 1
    assert usage == LLMUsage(calls=1, failed_calls=1, retries=0)


def test_unreachable_server_gives_none(llm_server: FixtureLLMServer) -> None:
    settings = llm_settings(llm_server, max_retries=1)
    llm_server.stop()  # the port is now closed: connection refused
    usage = LLMUsage()
    assert LLMClient(settings).complete_text("repair", usage=usage, error="x") is None
    assert usage == LLMUsage(calls=1, failed_calls=1, retries=1)


def test_complete_text_strips_and_retries_empty(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, fail_then(1, text_reply("   "), text_reply("  hello \n")))
    usage = LLMUsage()
    assert client_for(llm_server).complete_text("repair", usage=usage, error="e") == "hello"
    assert usage.retries == 1


def test_rules_can_target_one_prompt(llm_server: FixtureLLMServer) -> None:
    llm_server.add(prompt("repair"), text_reply("scripted"))
    client = client_for(llm_server)
    assert client.complete_text("repair", error="e") == "scripted"
    # Another prompt falls through to the default responder.
    assert client.complete_text("judge_default", question="q", answer="a", hypothesis="a") == "yes"


def test_close_stops_retrying(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, http_error(503, retry_after=10))
    client = LLMClient(llm_settings(llm_server, max_retries=5))
    threading.Timer(0.2, client.close).start()
    started = time.perf_counter()
    assert ask(client) is None
    assert time.perf_counter() - started < 3
    assert len(llm_server.requests) == 1
    assert ask(client) is None and len(llm_server.requests) == 1  # closed: no more calls


def test_concurrent_calls_share_usage_safely(llm_server: FixtureLLMServer) -> None:
    # The first four requests fail with a 500 and slow answers overlap: every call must
    # still succeed, and the shared counters must add up exactly.
    llm_server.add(None, fail_then(4, http_error(500), delay(0.05, json_reply(GOOD))))
    # A generous timeout: this test counts retries caused by the 500s, and on a loaded CI
    # machine a 0.05 s answer among eight threads can take longer than the fixtures' 1 s.
    client = client_for(llm_server, max_retries=3, timeout_s=30.0)
    usage = LLMUsage()
    results: list[City | None] = []
    lock = threading.Lock()

    def worker() -> None:
        value = ask(client, usage)
        with lock:
            results.append(value)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [City(city="Berlin", since=2023)] * 8
    assert usage.calls == 8 and usage.failed_calls == 0
    assert usage.retries == 4 == len(llm_server.requests) - 8
    served = [r.usage for r in llm_server.requests if r.usage is not None]
    assert usage.prompt_tokens == sum(u["prompt_tokens"] for u in served)
    assert client.totals == usage


class Words(BaseModel):
    words: list[str]


def test_truncated_answer_is_retried_with_a_bigger_budget(llm_server: FixtureLLMServer) -> None:
    # 50 words of JSON: cut at 20, then at 40 (still invalid), complete at 80.
    llm_server.add(None, json_reply({"words": [f"w{i}" for i in range(49)]}))
    usage = LLMUsage()
    client = client_for(llm_server, max_tokens=20, max_retries=3)
    result = client.complete_json(
        "thought", Words, usage=usage, question="q", answer="a", memories="m"
    )
    assert result is not None and len(result.words) == 49
    assert [r.body["max_tokens"] for r in llm_server.requests] == [20, 40, 80]
    # A truncation is not the model's mistake: no repair message is added.
    assert all(len(r.messages) == len(llm_server.requests[0].messages) for r in llm_server.requests)
    assert usage.retries == 2


def test_truncation_growth_stops_at_four_times(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, json_reply({"words": [f"w{i}" for i in range(200)]}))
    client = client_for(llm_server, max_tokens=10, max_retries=4)
    answer = client.complete_json(
        "thought", Words, max_tokens=5, question="q", answer="a", memories="m"
    )
    assert answer is None
    assert [r.body["max_tokens"] for r in llm_server.requests] == [5, 10, 20, 20, 20]
