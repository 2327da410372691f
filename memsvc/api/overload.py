"""Admission control: a bounded number of requests of each class at work, a bounded queue in
front of it, and `429 Too Many Requests` with `Retry-After` past that.

Why: sync endpoints run on a thread pool (40 threads). Unbounded, a burst of slow adds fills
it, every later request (searches included) waits for a thread, clients time out, and the
threads keep doing work nobody waits for any more. Here each route class has its own limit
of requests at work (their sum stays under the pool's size, so API work alone never fills
it); requests over the limit wait on the event loop, which costs no thread, in FIFO order;
a request that finds the queue full, or waits longer than its class's bound (`max_wait_s`,
`search_max_wait_s`), is answered 429 at once. Health, readiness, metrics and docs are never
held: they are exempt.

Plain ASGI middleware (not a dependency): it decides before the body is read or a thread is
taken. All state lives on the event loop's thread, so it needs no lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections import deque
from typing import Literal

from starlette.types import ASGIApp, Receive, Scope, Send

from memsvc.config import AdmissionSettings

RouteClass = Literal["add", "search", "other"]
EXEMPT = (
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs-assets",
    "/redoc",
    "/ui",
)


def route_class(method: str, path: str) -> RouteClass | None:
    """The admission class of a request, or None when it is exempt."""
    path = path.rstrip("/") or "/"
    if path == "/" or any(path == p or path.startswith(p + "/") for p in EXEMPT):
        return None
    if method == "POST" and path in ("/v1/memories", "/v1/memories/batch", "/v1/thoughts"):
        return "add"
    if method == "POST" and path == "/v1/memories/search":
        return "search"
    return "other"


class Gate:
    """At most `limit` holders; up to `max_queue` waiters in FIFO order, each for at most
    `max_wait_s`. Used from one event loop only."""

    def __init__(self, limit: int, max_queue: int, max_wait_s: float) -> None:
        self.limit = limit
        self.max_queue = max_queue
        self.max_wait_s = max_wait_s
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.rejected = 0

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> bool:
        """True once a slot is held (release it later); False: over capacity, answer 429."""
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return True
        if len(self._waiters) >= self.max_queue or self.max_wait_s <= 0:
            self.rejected += 1
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.max_wait_s)
            return True
        except TimeoutError:
            if waiter.done():  # handed a slot in the same tick as the timeout: keep it
                return True
            waiter.cancel()
            self.rejected += 1
            return False
        except asyncio.CancelledError:  # the client went away while waiting
            if waiter.done() and not waiter.cancelled():
                self.release()
            waiter.cancel()
            raise
        finally:
            if not waiter.done() or waiter.cancelled():
                self._remove(waiter)

    def release(self) -> None:
        """Free a slot, handing it straight to the oldest live waiter (FIFO, no barging)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on: `active` stays the same
                return
        self.active -= 1

    def _remove(self, waiter: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):  # already handed a slot and popped
            self._waiters.remove(waiter)


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, settings: AdmissionSettings, *, llm: bool = False) -> None:
        self.app = app
        self.settings = settings
        s = settings
        adds, searches = s.limits(llm=llm)
        self.gates: dict[RouteClass, Gate] = {
            "add": Gate(adds, s.max_queue, s.max_wait_s),
            "search": Gate(searches, s.max_queue, s.search_max_wait_s),
            "other": Gate(s.other_concurrency, s.max_queue, s.max_wait_s),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.settings.enabled:
            await self.app(scope, receive, send)
            return
        kind = route_class(scope["method"], scope["path"])
        if kind is None:
            await self.app(scope, receive, send)
            return
        gate = self.gates[kind]
        if not await gate.acquire():
            await self._reject(send, kind, gate)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            gate.release()

    async def _reject(self, send: Send, kind: RouteClass, gate: Gate) -> None:
        retry = max(1, math.ceil(self.settings.retry_after_s))
        body = json.dumps(
            {
                "error": {
                    "code": "overloaded",
                    "message": f"the server is at capacity for {kind} requests; retry after "
                    f"{retry} s",
                    "details": {
                        "route_class": kind,
                        "limit": gate.limit,
                        "queued": gate.waiting,
                        "retry_after_s": retry,
                    },
                }
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
