"""Actions for the fixture LLM server's rules: each returns a callable ``ChatRequest -> Reply``.

Good answers (:func:`json_reply`, :func:`text_reply`) and every fault the client must survive:
prose around JSON, garbage, HTTP errors (429 with ``Retry-After``, 500, 401), a broken
response body, delays past the client's timeout, and "fail N times, then succeed".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from tests.support.llm_server import Action, ChatRequest, Reply

__all__ = [
    "broken_body",
    "delay",
    "fail_then",
    "garbage",
    "http_error",
    "json_reply",
    "prose_json",
    "sequence",
    "text_reply",
]

Payload = Any | Callable[[ChatRequest], Any]


def _resolve(payload: Payload, request: ChatRequest) -> Any:
    return payload(request) if callable(payload) else payload


def json_reply(payload: Payload, *, fenced: bool = False) -> Action:
    """Answer with ``payload`` as JSON (a value, or a callable of the request)."""

    def act(request: ChatRequest) -> Reply:
        text = json.dumps(_resolve(payload, request))
        return Reply(content=f"```json\n{text}\n```" if fenced else text)

    return act


def text_reply(text: str | Callable[[ChatRequest], str]) -> Action:
    """Answer with plain text."""
    return lambda request: Reply(content=str(_resolve(text, request)))


def prose_json(
    payload: Payload,
    *,
    before: str = "Sure! Here is what I found, as requested {in JSON}:\n",
    after: str = "\nI hope this helps. Let me know if you need anything [else].",
) -> Action:
    """JSON wrapped in chatty prose (with stray brackets), as small models often answer."""

    def act(request: ChatRequest) -> Reply:
        return Reply(content=before + json.dumps(_resolve(payload, request)) + after)

    return act


def garbage(text: str = 'I cannot comply }{ "notes": [ {index: oops ...') -> Action:
    """A 200 answer that contains no parseable JSON."""
    return lambda request: Reply(content=text)


def http_error(status: int, *, retry_after: float | None = None, message: str = "") -> Action:
    """An HTTP error (429, 500, 401, ...), optionally with a ``Retry-After`` header."""
    headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
    body = json.dumps(
        {"error": {"message": message or f"fixture {status}", "type": "fixture", "code": status}}
    ).encode()
    return lambda request: Reply(status=status, raw_body=body, headers=dict(headers))


def broken_body(status: int = 200) -> Action:
    """A response whose HTTP body is not JSON at all (a misbehaving proxy)."""
    return lambda request: Reply(status=status, raw_body=b"<html>bad gateway</html>")


def delay(seconds: float, then: Action) -> Action:
    """Answer like ``then`` after ``seconds`` (longer than the client timeout → timeout)."""

    def act(request: ChatRequest) -> Reply:
        reply = then(request)
        reply.delay_s = seconds
        return reply

    return act


def fail_then(failures: int, failure: Action, success: Action) -> Action:
    """The first ``failures`` requests get ``failure``, later ones ``success`` (thread-safe)."""
    return sequence([failure] * failures, then=success)


def sequence(actions: list[Action], *, then: Action) -> Action:
    """Answer request n with ``actions[n]``, and every request past the list with ``then``."""
    lock = threading.Lock()
    state = {"n": 0}

    def act(request: ChatRequest) -> Reply:
        with lock:
            n = state["n"]
            state["n"] = n + 1
        return (actions[n] if n < len(actions) else then)(request)

    return act
