"""Overload (issue 12, item 5) over real HTTP: a saturated class answers 429 with Retry-After
(and the SDK raises `Overloaded`), the LLM never holds an add past its bound (the note is
searchable at once, enrichment lands later from the job queue), and /healthz and /readyz
answer while every worker thread is busy."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from memsvc.api import create_app
from memsvc.api.overload import Gate, route_class
from memsvc.background import Task, Worker
from memsvc.client import APIStatusError, MemoryClient, Overloaded
from memsvc.client._base import retry_wait
from memsvc.client._exceptions import from_response
from memsvc.config import AdmissionSettings
from memsvc.db.models import Episode, Job, Note
from memsvc.embed import CachedEmbedder
from memsvc.runtime import Runtime
from tests.conftest import LiveServer, make_settings
from tests.support.llm_actions import delay
from tests.support.llm_defaults import default_responder
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import FixtureLLMServer, prompt

ROUND = [
    {"role": "user", "content": "I work night shifts as a nurse at the Charite in Berlin."},
    {"role": "assistant", "content": "Night shifts are hard; do you get enough sleep?"},
]


def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def slow_llm(server: FixtureLLMServer, seconds: float) -> None:
    server.add(prompt("memorize"), delay(seconds, default_responder))


@contextlib.contextmanager
def one_add_slot_held(
    tmp_path: Path,
    embedder: CachedEmbedder,
    llm_server: FixtureLLMServer,
    *,
    retry_after_s: float,
    llm_delay: float,
) -> Iterator[tuple[FastAPI, LiveServer, httpx.Client, Future[httpx.Response]]]:
    """A live server admitting one add at a time with no queue, whose only slot is held by
    an add waiting `llm_delay` s on the LLM: (app, server, client, that first add)."""
    llm = llm_settings(llm_server, timeout_s=10, wait_bound_s=30).model_dump()
    admission = {"add_concurrency": 1, "max_queue": 0, "retry_after_s": retry_after_s}
    app = create_app(make_settings(tmp_path, llm=llm, admission=admission), embedder=embedder)
    slow_llm(llm_server, llm_delay)
    with (
        LiveServer(app) as srv,
        httpx.Client(base_url=srv.url, timeout=60) as http,
        ThreadPoolExecutor(1) as pool,
    ):
        first = pool.submit(http.post, "/v1/memories", json={"messages": ROUND, "user_id": "u"})
        wait_until(lambda: len(llm_server.requests_for("memorize")) == 1, 30, "the first add")
        yield app, srv, http, first


def runtime_of(app: FastAPI) -> Runtime:
    rt: Runtime = app.state.runtime
    return rt


# --- the gate and the classes (no server) ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/v1/memories", "add"),
        ("POST", "/v1/thoughts/", "add"),
        ("POST", "/v1/memories/search", "search"),
        ("GET", "/v1/memories", "other"),
        ("DELETE", "/v1/users/u1", "other"),
        ("GET", "/healthz", None),
        ("GET", "/readyz", None),
        ("GET", "/metrics", None),
        ("GET", "/docs", None),
        ("GET", "/docs-assets/swagger-ui.css", None),
        ("GET", "/openapi.json", None),
    ],
)
def test_route_classes(method: str, path: str, expected: str | None) -> None:
    assert route_class(method, path) == expected


def test_gate_limits_queues_in_order_and_rejects_past_queue_and_wait() -> None:
    async def scenario() -> list[Any]:
        gate = Gate(limit=2, max_queue=2, max_wait_s=0.3)
        assert await gate.acquire() and await gate.acquire()  # both slots taken
        order: list[int] = []

        async def waiter(i: int) -> bool:
            ok = await gate.acquire()
            if ok:
                order.append(i)
            return ok

        w1 = asyncio.create_task(waiter(1))
        await asyncio.sleep(0)
        w2 = asyncio.create_task(waiter(2))
        await asyncio.sleep(0)
        full = await gate.acquire()  # queue full: refused at once
        gate.release()  # hands the slot to waiter 1, then waiter 2
        gate.release()
        got = [await w1, await w2]
        late = await gate.acquire()  # both slots held again, waits 0.3 s, then refused
        gate.release()
        gate.release()
        return [full, got, order, late, gate.active, gate.waiting, gate.rejected]

    full, got, order, late, active, waiting, rejected = asyncio.run(scenario())
    assert full is False and got == [True, True] and order == [1, 2] and late is False
    assert active == 0 and waiting == 0 and rejected == 2


def test_a_cancelled_waiter_leaves_no_trace() -> None:
    async def scenario() -> tuple[int, int, bool]:
        gate = Gate(limit=1, max_queue=5, max_wait_s=5)
        assert await gate.acquire()
        task = asyncio.create_task(gate.acquire())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.release()
        again = await asyncio.wait_for(gate.acquire(), 1)  # the slot was not lost
        gate.release()
        return gate.active, gate.waiting, again

    assert asyncio.run(scenario()) == (0, 0, True)


def test_sdk_reads_429_as_overloaded() -> None:
    body = {"error": {"code": "overloaded", "message": "busy", "details": {"retry_after_s": 2}}}
    exc = from_response(429, body, retry_after="3")
    assert isinstance(exc, Overloaded) and isinstance(exc, APIStatusError)
    assert exc.status == 429 and exc.retry_after == 3.0 and exc.code == "overloaded"
    assert from_response(429, body).retry_after == 2.0  # type: ignore[attr-defined]
    assert isinstance(from_response(429, "<html>slow down</html>"), Overloaded)  # a proxy's 429


# --- over real HTTP ---------------------------------------------------------------------------


def test_concurrent_adds_past_the_limit_get_429_and_store_nothing(
    tmp_path: Path, embedder: CachedEmbedder
) -> None:
    """One add at a time, no queue, six adds sent at once: the ones that find the slot taken
    are refused at once with Retry-After and the API's error shape; nothing of them is stored."""
    admission = {"add_concurrency": 1, "max_queue": 0}
    app = create_app(make_settings(tmp_path, admission=admission), embedder=embedder)
    barrier = threading.Barrier(6)

    def add(i: int) -> httpx.Response:
        barrier.wait()
        body = {"text": f"Fact {i}: I keep {i} plants on my balcony.", "user_id": "u"}
        return httpx.post(srv.url + "/v1/memories", json=body, timeout=60)

    with LiveServer(app) as srv, ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(add, range(6)))
        with runtime_of(app).db.read() as session:
            stored = len(list(session.scalars(select(Episode.id))))
    codes = sorted(r.status_code for r in answers)
    assert 200 in codes and 429 in codes and set(codes) == {200, 429}, codes
    for resp in answers:
        if resp.status_code == 429:
            assert resp.headers["retry-after"] == "1"
            assert resp.json()["error"]["code"] == "overloaded"
    assert stored == codes.count(200)


@pytest.mark.slow
def test_saturated_class_answers_429_with_retry_after(
    tmp_path: Path, embedder: CachedEmbedder, llm_server: FixtureLLMServer
) -> None:
    """One add at a time and no queue: a second concurrent add is over capacity."""
    with one_add_slot_held(tmp_path, embedder, llm_server, retry_after_s=2, llm_delay=2.0) as (
        app,
        srv,
        http,
        first,
    ):
        t = time.perf_counter()
        resp = http.post("/v1/memories", json={"text": "I like tea.", "user_id": "u"})
        assert time.perf_counter() - t < 1.0  # refused at once, not after a wait
        assert resp.status_code == 429 and resp.headers["retry-after"] == "2"
        body = resp.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
        assert body["error"]["code"] == "overloaded"
        assert body["error"]["details"]["route_class"] == "add"
        # Other classes and the probes are not held by the add class's limit.
        search = {"query": "where do I work?", "user_id": "u"}
        assert http.post("/v1/memories/search", json=search).status_code == 200
        assert http.get("/healthz").status_code == 200
        with MemoryClient(srv.url, max_retries=0) as client, pytest.raises(Overloaded) as info:
            client.add("I like coffee.", user_id="u")
        assert info.value.retry_after == 2.0
        assert first.result().status_code == 200
        with runtime_of(app).db.read() as session:  # nothing of the refused adds was stored
            contents = set(session.scalars(select(Episode.content)))
        assert contents == {m["content"] for m in ROUND}
        # Capacity is back once the first add has finished (its slot is freed when its
        # request ends, a moment after the client has the response).
        tea = {"text": "I like tea.", "user_id": "u"}
        wait_until(lambda: http.post("/v1/memories", json=tea).status_code == 200, 10, "a slot")


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_the_llm_never_holds_an_add_past_its_bound(
    db: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    embedder: CachedEmbedder,
    llm_server: FixtureLLMServer,
) -> None:
    url = f"sqlite:///{tmp_path / 'memsvc.db'}" if db == "sqlite" else None
    url = url or request.getfixturevalue("pg_schema")
    bound, llm_delay = 0.5, 2.5
    slow_llm(llm_server, llm_delay)
    llm = llm_settings(llm_server, timeout_s=10, wait_bound_s=bound).model_dump()
    settings = make_settings(tmp_path, url, llm=llm, background=True)
    app = create_app(settings, embedder=embedder)
    with LiveServer(app) as srv, MemoryClient(srv.url) as client:
        t = time.perf_counter()
        res = client.add(ROUND, user_id="u", wait=True)
        took = time.perf_counter() - t
        assert took < bound + 1.5 < llm_delay, took  # did not wait for the LLM
        assert res.pending_enrichment == 1 and res.llm.failed_calls == 1
        note_id = res.results[0].id
        hits = client.search("where does the user work as a nurse?", user_id="u", top_k=3)
        assert note_id in [h.id for h in hits.results]  # searchable at once
        rt = runtime_of(app)

        def enriched() -> bool:
            with rt.db.read() as session:
                done = list(session.scalars(select(Job.status))) == ["done"]
                note = session.scalar(select(Note.enrichment).where(Note.id == note_id))
                return done and note == "llm"

        assert not enriched()
        # The durable job queue calls the LLM again (without the bound) and applies it.
        wait_until(enriched, 30, "enrichment from the job queue")
        with rt.db.read() as session:
            note = session.scalars(select(Note).where(Note.id == note_id)).one()
        assert note.context.startswith("The user talks about")  # the fixture LLM's answer
        assert len(llm_server.requests_for("memorize")) == 2  # the abandoned call and the job's
        hits = client.search("where does the user work as a nurse?", user_id="u", top_k=3)
        assert note_id in [h.id for h in hits.results]


@pytest.mark.slow
def test_probes_answer_while_every_worker_thread_is_busy(
    tmp_path: Path, embedder: CachedEmbedder, llm_server: FixtureLLMServer
) -> None:
    """Admission off and no LLM bound (the old behaviour): 45 adds each hold a pool thread for
    the LLM's 3 s, so the pool's 40 threads are all taken; the probes must not notice."""
    slow_llm(llm_server, 3.0)
    llm = llm_settings(llm_server, timeout_s=20, wait_bound_s=None, batch_size=16).model_dump()
    settings = make_settings(tmp_path, llm=llm, admission={"enabled": False})
    with (
        LiveServer(create_app(settings, embedder=embedder)) as srv,
        httpx.Client(base_url=srv.url, timeout=60) as http,
        ThreadPoolExecutor(45) as pool,
    ):
        adds = [
            pool.submit(
                httpx.post,
                srv.url + "/v1/memories",
                json={"text": f"Fact {i}: I collect stamps from country {i}.", "user_id": "u"},
                timeout=60,
            )
            for i in range(45)
        ]
        wait_until(lambda: len(llm_server.requests_for("memorize")) >= 40, 30, "a full pool")
        for path in ("/healthz", "/readyz"):
            t = time.perf_counter()
            resp = http.get(path)
            assert resp.status_code == 200, resp.text
            assert time.perf_counter() - t < 0.5, path
        # Proof the pool really was full: a sync route waits for a thread meanwhile.
        t = time.perf_counter()
        assert http.get("/v1/memories", params={"user_id": "u"}).status_code == 200
        assert time.perf_counter() - t > 0.5
        assert all(f.result().status_code == 200 for f in adds)


def test_a_blocking_lane_does_not_stall_the_others() -> None:
    """A slow LLM job (its own lane) must not hold up reinforcement flushes and index saves."""
    release, ticks = threading.Event(), []
    tasks = [
        Task("slow-llm-job", 0.01, lambda: release.wait(10), lane="llm", first_after_s=0),
        Task("reinforce", 0.01, lambda: ticks.append(time.monotonic())),
    ]
    worker = Worker(tasks)
    worker.start()
    try:
        wait_until(lambda: len(ticks) >= 5, 5, "the main lane to tick while the LLM lane blocks")
    finally:
        release.set()
        worker.stop()


def test_sdk_sends_a_429_again_after_retry_after(
    tmp_path: Path, embedder: CachedEmbedder, llm_server: FixtureLLMServer
) -> None:
    """One add at a time, no queue: while a slow add holds the slot, the SDK's add is refused,
    waits Retry-After, and is stored exactly once; with retries off it raises `Overloaded`."""
    with one_add_slot_held(tmp_path, embedder, llm_server, retry_after_s=1, llm_delay=1.5) as (
        app,
        srv,
        _,
        first,
    ):
        with MemoryClient(srv.url, max_retries=0) as client, pytest.raises(Overloaded):
            client.add("I like green tea.", user_id="u", infer=False)
        t = time.perf_counter()
        with MemoryClient(srv.url, max_retries=5) as client:
            res = client.add("I like coffee.", user_id="u", infer=False)
        assert time.perf_counter() - t >= 1.0  # it was refused at least once and waited
        assert [r.event for r in res.results] == ["ADD"]
        assert first.result().status_code == 200
        with runtime_of(app).db.read() as session:
            contents = sorted(session.scalars(select(Episode.content)))
        assert contents == sorted([m["content"] for m in ROUND] + ["I like coffee."])


@pytest.mark.parametrize(
    ("status", "header", "attempt", "expected"),
    [
        (429, "2", 0, 2.0),
        (429, None, 0, 1.0),  # no Retry-After: one second
        (429, "Wed, 21 Oct 2026 07:28:00 GMT", 1, 1.0),  # an HTTP date is not parsed
        (429, "3600", 0, 30.0),  # capped
        (429, "-5", 0, 0.0),
        (429, "2", 2, None),  # retries spent
        (503, "2", 0, None),  # only 429 means "nothing was done"
        (200, None, 0, None),
    ],
)
def test_retry_wait(status: int, header: str | None, attempt: int, expected: float | None) -> None:
    headers = {"retry-after": header} if header is not None else {}
    response = httpx.Response(status, headers=headers)
    assert retry_wait(response, attempt, max_retries=2) == expected


def test_admission_limits_follow_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, expected in [(1, (1, 2)), (2, (1, 2)), (8, (4, 8)), (64, (8, 16)), (None, (1, 2))]:
        monkeypatch.setattr("memsvc.config.os.cpu_count", lambda c=cores: c)
        assert AdmissionSettings().limits() == expected
        assert AdmissionSettings().limits(llm=True)[0] == min(16, max(8, (cores or 2) // 2))
    assert AdmissionSettings(add_concurrency=3, search_concurrency=5).limits() == (3, 5)
