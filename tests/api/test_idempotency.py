"""`Idempotency-Key` on adds: a retried request is stored once and answered like the first."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from memsvc import Memory
from memsvc.api import create_app
from memsvc.client import MemoryClient
from memsvc.config import Settings
from memsvc.db.models import Episode, Note
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings

BODY = {"user_id": "u", "messages": [{"role": "user", "content": "I moved to Porto in May."}]}


@pytest.fixture
def server(tmp_path: Path, db_url: str, embedder: CachedEmbedder) -> Iterator[LiveServer]:
    # Six adds at once must all be at work together for the race to be real; the default
    # admission (sized to the cores) would queue or refuse them with 429.
    admission = {"add_concurrency": 8, "max_wait_s": 60}
    settings = make_settings(
        tmp_path, db_url, api={"api_keys": {"ka": "A", "kb": "B"}}, admission=admission
    )
    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        yield srv


def _client(srv: LiveServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=srv.url, timeout=60, headers={"authorization": f"Bearer {key}"})


def _counts(srv: LiveServer) -> tuple[int, int]:
    rt = srv.server.config.app.state.runtime
    with rt.db.read() as session:
        episodes = session.scalar(select(func.count()).select_from(Episode))
        notes = session.scalar(select(func.count()).select_from(Note))
    return int(episodes or 0), int(notes or 0)


def test_retry_with_the_same_key_is_stored_once(server: LiveServer) -> None:
    with _client(server, "ka") as http:
        first = http.post("/v1/memories", json=BODY, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == 200, first.text
        counts = _counts(server)
        again = http.post("/v1/memories", json=BODY, headers={"Idempotency-Key": "k-1"})
        assert again.status_code == 200 and again.json() == first.json()
        assert _counts(server) == counts
        # Without a key, or with another key, the same body is a new add.
        assert (
            http.post("/v1/memories", json=BODY, headers={"Idempotency-Key": "k-2"}).status_code
            == 200
        )
        assert _counts(server)[0] == counts[0] + 1


def test_same_key_with_another_request_is_refused(server: LiveServer) -> None:
    with _client(server, "ka") as http:
        assert (
            http.post("/v1/memories", json=BODY, headers={"Idempotency-Key": "k"}).status_code
            == 200
        )
        counts = _counts(server)
        other = {**BODY, "user_id": "someone-else"}
        resp = http.post("/v1/memories", json=other, headers={"Idempotency-Key": "k"})
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_input"
        assert _counts(server) == counts


def test_keys_belong_to_a_namespace(server: LiveServer) -> None:
    with _client(server, "ka") as a, _client(server, "kb") as b:
        ra = a.post("/v1/memories", json=BODY, headers={"Idempotency-Key": "shared"})
        rb = b.post("/v1/memories", json=BODY, headers={"Idempotency-Key": "shared"})
        assert ra.status_code == rb.status_code == 200
        assert ra.json()["episode_ids"] != rb.json()["episode_ids"]  # two namespaces, two adds
        hits = b.post("/v1/memories/search", json={"query": "Porto", "user_id": "u"}).json()
        assert {h["id"] for h in hits["results"]} == {rb.json()["results"][0]["id"]}


def test_concurrent_retries_store_once(server: LiveServer) -> None:
    answers: list[Any] = []

    def send() -> None:
        with _client(server, "ka") as http:
            resp = http.post("/v1/memories", json=BODY, headers={"Idempotency-Key": "race"})
            answers.append((resp.status_code, resp.json()))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code == 200 for code, _ in answers), answers
    assert all(body == answers[0][1] for _, body in answers)
    assert _counts(server)[0] == 1


def test_bad_keys_are_4xx(server: LiveServer) -> None:
    with _client(server, "ka") as http:
        for key in ["", "x" * 256, "has space"]:
            resp = http.post("/v1/memories", json=BODY, headers={"Idempotency-Key": key})
            assert resp.status_code == 422, (key, resp.text)
        assert _counts(server) == (0, 0)


def test_sdk_and_in_process_memory_take_the_key(
    tmp_path: Path, settings: Settings, embedder: CachedEmbedder
) -> None:
    with Memory(settings, embedder=embedder) as mem:
        one = mem.add("I like green tea.", user_id="u", idempotency_key="m-1")
        two = mem.add("I like green tea.", user_id="u", idempotency_key="m-1")
        assert one == two and len(mem.get_all(user_id="u").results) == 1
    app = create_app(make_settings(tmp_path / "http"), embedder=embedder)
    with LiveServer(app) as srv, MemoryClient(srv.url) as client:
        one = client.add("I like black tea.", user_id="u", idempotency_key="c-1")
        two = client.add("I like black tea.", user_id="u", idempotency_key="c-1")
        assert one == two and len(client.get_all(user_id="u").results) == 1


def test_expired_keys_are_forgotten_and_purged(tmp_path: Path, embedder: CachedEmbedder) -> None:
    import time

    settings = make_settings(tmp_path, api={"idempotency_ttl_s": 0.2})
    with Memory(settings, embedder=embedder) as mem:
        mem.add("I like oolong.", user_id="u", idempotency_key="old", infer=False)
        time.sleep(0.3)
        assert mem.sweep().expired_keys == 1
        mem.add("I like oolong.", user_id="u", idempotency_key="old", infer=False)
        assert len(mem.get_all(user_id="u").results) == 2  # expired: a new add
