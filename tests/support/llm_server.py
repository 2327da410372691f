"""A real OpenAI-compatible chat server on 127.0.0.1 that answers from scripted rules.

Like a real model it counts tokens (here: whitespace-separated words) in ``usage`` and cuts
an answer longer than the request's ``max_tokens``, with ``finish_reason: "length"``.

Tests start it on a free port (see ``llm_fixtures.llm_server``) and point the real litellm
client at it, so every byte goes through litellm → openai SDK → httpx → HTTP → here.

Behaviour is an ordered list of :class:`Rule` s; the first rule whose matcher accepts a
request (and still has uses left) answers it, otherwise :attr:`FixtureLLMServer.default`
does (see ``llm_defaults``: plausible answers for every memsvc prompt). Actions build a
:class:`Reply`: JSON, text, prose around JSON, garbage, HTTP errors, delays, and
"fail N times then succeed". Every request is recorded in :attr:`FixtureLLMServer.requests`.

The request's prompt name comes from the ``X-Memsvc-Prompt`` header that memsvc's client
sends, so rules can target one task (``match=prompt("memorize")``).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "Action",
    "ChatRequest",
    "FixtureLLMServer",
    "Matcher",
    "Reply",
    "Rule",
    "count_tokens",
    "prompt",
]


@dataclass
class ChatRequest:
    """One received chat-completion request; ``status``/``usage`` are filled once answered."""

    model: str
    messages: list[dict[str, Any]]
    body: dict[str, Any]
    headers: dict[str, str]  # lower-cased names
    status: int | None = None
    usage: dict[str, int] | None = None

    @property
    def prompt(self) -> str | None:
        return self.headers.get("x-memsvc-prompt")

    @property
    def text(self) -> str:
        """All message contents, joined: what substring and regex matchers look at."""
        return "\n".join(str(m.get("content") or "") for m in self.messages)

    def message(self, role: str) -> str:
        """The last message with ``role`` (``""`` when there is none)."""
        found = [str(m.get("content") or "") for m in self.messages if m.get("role") == role]
        return found[-1] if found else ""


@dataclass
class Reply:
    """What the server sends back: an assistant message (status 200) or an error."""

    status: int = 200
    content: str | None = None
    # Raw body override: sent verbatim instead of the OpenAI envelope (errors, broken bodies).
    raw_body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    finish_reason: str = "stop"


Action = Callable[[ChatRequest], Reply]
Matcher = str | re.Pattern[str] | Callable[[ChatRequest], bool] | None


def prompt(name: str) -> Callable[[ChatRequest], bool]:
    """Matcher: requests made for the memsvc prompt ``name`` (e.g. ``"memorize"``)."""
    return lambda request: request.prompt == name


@dataclass
class Rule:
    match: Matcher
    action: Action
    # How many requests this rule may still answer; None = unlimited.
    times: int | None = None
    hits: int = 0

    def accepts(self, request: ChatRequest) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.match is None:
            return True
        if isinstance(self.match, str):
            return self.match in request.text
        if isinstance(self.match, re.Pattern):
            return self.match.search(request.text) is not None
        return bool(self.match(request))


def count_tokens(text: str) -> int:
    """The fixture's token count: whitespace-separated words (deterministic, tokenizer-free)."""
    return len(text.split())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: more concurrent clients than that on a busy
    # machine get their SYN dropped and retry it a second later, past the tests' timeouts.
    request_queue_size = 128
    # server_close() joins every handler thread, so nothing outlives stop().
    block_on_close = True
    owner: FixtureLLMServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out hangs up while we sleep: expected, not an error to print.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # HTTP/1.0: one request per connection, so no keep-alive thread lingers after a test.
    protocol_version = "HTTP/1.0"
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") in {"/v1/models", "/models"}:
            data = [{"id": "fixture", "object": "model", "created": 0, "owned_by": "memsvc-tests"}]
            self._send(200, json.dumps({"object": "list", "data": data}).encode(), {})
        else:
            self._send(404, _error_body(404, "not found"), {})

    def do_POST(self) -> None:
        if self.path.rstrip("/") not in {"/v1/chat/completions", "/chat/completions"}:
            self._send(404, _error_body(404, "not found"), {})
            return
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._send(400, _error_body(400, "request body is not JSON"), {})
            return
        request = ChatRequest(
            model=str(body.get("model", "")),
            messages=list(body.get("messages") or []),
            body=body,
            headers={k.lower(): v for k, v in self.headers.items()},
        )
        reply = self.server.owner.answer(request)
        if reply.delay_s and not self.server.owner.sleep(reply.delay_s):
            return  # the server is stopping: drop the request silently
        if reply.raw_body is not None or reply.status != 200:
            payload = reply.raw_body if reply.raw_body is not None else _error_body(reply.status)
            self._send(reply.status, payload, reply.headers)
            return
        content, finish_reason = reply.content or "", reply.finish_reason
        # Like a real model, stop at max_tokens (our tokens are words) and say so.
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if isinstance(limit, int) and count_tokens(content) > limit:
            content, finish_reason = _first_words(content, limit), "length"
        usage = {
            "prompt_tokens": count_tokens(request.text),
            "completion_tokens": count_tokens(content),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        request.usage = usage
        envelope = {
            "id": f"chatcmpl-fixture-{id(request):x}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": usage,
        }
        self._send(200, json.dumps(envelope).encode(), reply.headers)

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to deliver


def _first_words(text: str, count: int) -> str:
    words = list(re.finditer(r"\S+", text))
    return text[: words[count - 1].end()] if count > 0 else ""


def _error_body(status: int, message: str | None = None) -> bytes:
    text = message or f"fixture error {status}"
    return json.dumps(
        {"error": {"message": text, "type": "fixture_error", "code": status}}
    ).encode()


class FixtureLLMServer:
    """The server object tests use: ``.url`` (the ``/v1`` base), ``.rules``, ``.requests``."""

    def __init__(self, default: Action | None = None) -> None:
        from tests.support.llm_defaults import default_responder

        self.default: Action = default or default_responder
        self.rules: list[Rule] = []
        self.requests: list[ChatRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> FixtureLLMServer:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fixture-llm"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FixtureLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # -- scripting -----------------------------------------------------------------------
    def add(self, match: Matcher, action: Action, *, times: int | None = None) -> Rule:
        """Append a rule (first match wins, in insertion order)."""
        rule = Rule(match, action, times)
        with self._lock:
            self.rules.append(rule)
        return rule

    def reset(self) -> None:
        """Forget every rule and recorded request (the default responder stays)."""
        with self._lock:
            self.rules.clear()
            self.requests.clear()

    def requests_for(self, prompt_name: str) -> list[ChatRequest]:
        with self._lock:
            return [r for r in self.requests if r.prompt == prompt_name]

    # -- used by the handler ---------------------------------------------------------------
    def answer(self, request: ChatRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            rule = next((r for r in self.rules if r.accepts(request)), None)
            if rule is not None:
                rule.hits += 1
        action = rule.action if rule is not None else self.default
        try:
            reply = action(request)
        except Exception as exc:  # a broken test script must show up, not hang the client
            reply = Reply(status=500, raw_body=_error_body(500, f"fixture action failed: {exc!r}"))
        request.status = reply.status
        return reply

    def sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops first; True when the full delay elapsed."""
        return not self._stopping.wait(seconds)
