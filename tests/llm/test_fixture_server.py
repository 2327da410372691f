"""The fixture server itself: protocol, rule order, recording, clean shutdown."""

from __future__ import annotations

import json
import re
import socket
import threading

import httpx
import pytest

from tests.support.llm_actions import http_error, sequence, text_reply
from tests.support.llm_server import ChatRequest, FixtureLLMServer


def chat(server: FixtureLLMServer, content: str, prompt_name: str = "") -> httpx.Response:
    headers = {"X-Memsvc-Prompt": prompt_name} if prompt_name else {}
    body = {"model": "fixture", "messages": [{"role": "user", "content": content}]}
    return httpx.post(f"{server.url}/chat/completions", json=body, headers=headers, timeout=5)


def test_openai_envelope_and_models(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, text_reply("two words"))
    data = chat(llm_server, "one two three").json()
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"] == {"role": "assistant", "content": "two words"}
    assert data["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    models = httpx.get(f"{llm_server.url}/models", timeout=5).json()
    assert [m["id"] for m in models["data"]] == ["fixture"]


def test_rules_first_match_wins_and_times_run_out(llm_server: FixtureLLMServer) -> None:
    llm_server.add("Berlin", text_reply("substring"), times=1)
    llm_server.add(re.compile(r"\bBer\w+"), text_reply("regex"))
    llm_server.add(lambda r: r.prompt == "p", text_reply("callable"))
    replies = [
        chat(llm_server, "to Berlin").json()["choices"][0]["message"]["content"],
        chat(llm_server, "to Berlin").json()["choices"][0]["message"]["content"],
        chat(llm_server, "x", "p").json()["choices"][0]["message"]["content"],
        chat(llm_server, "x", "unknown").json()["choices"][0]["message"]["content"],
    ]
    assert replies == ["substring", "regex", "callable", "OK"]
    assert [r.prompt for r in llm_server.requests] == [None, None, "p", "unknown"]
    assert llm_server.rules[0].hits == 1
    llm_server.reset()
    assert llm_server.rules == [] and llm_server.requests == []


def test_http_errors_carry_headers(llm_server: FixtureLLMServer) -> None:
    llm_server.add(None, sequence([http_error(429, retry_after=2)], then=http_error(401)))
    first, second = chat(llm_server, "a"), chat(llm_server, "b")
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    assert second.status_code == 401 and "error" in second.json()
    assert [r.status for r in llm_server.requests] == [429, 401]


def test_failing_script_surfaces_as_500(llm_server: FixtureLLMServer) -> None:
    def broken(request: ChatRequest) -> str:
        raise RuntimeError("bug in test script")

    llm_server.add(None, text_reply(broken))
    response = chat(llm_server, "a")
    assert response.status_code == 500 and "bug in test script" in response.text


def test_bad_request_body(llm_server: FixtureLLMServer) -> None:
    response = httpx.post(f"{llm_server.url}/chat/completions", content=b"{nope", timeout=5)
    assert response.status_code == 400
    assert json.loads(response.text)["error"]["code"] == 400


def test_stop_closes_port_and_threads() -> None:
    server = FixtureLLMServer().start()
    port = int(server.url.split(":")[2].split("/")[0])
    assert chat(server, "hi").status_code == 200
    server.stop()
    assert not any(t.name == "fixture-llm" for t in threading.enumerate())
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass
    server.stop()  # idempotent
