"""`POST /v1/memories/batch` over real HTTP (SQLite and PostgreSQL): the items land in the
caller's namespace only; a bad item is a 422 naming it and stores nothing; a retry with the
batch's Idempotency-Key stores once; the SDK over HTTP answers as `Memory` in process."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from memsvc import Memory
from memsvc.api import create_app
from memsvc.client import MemoryClient
from memsvc.embed import CachedEmbedder
from tests.api.test_bad_input import _error_shape_problem, row_counts
from tests.conftest import LiveServer, make_settings

KEYS = {"key-a": "nsA", "key-b": "nsB"}
ITEMS: list[dict[str, Any]] = [
    {
        "user_id": "bob",
        "session_id": f"s{i}",
        "messages": [
            {"role": "user", "content": text, "timestamp": f"2026-0{i + 1}-02T09:00:00Z"},
            {"role": "assistant", "content": "Noted!", "timestamp": f"2026-0{i + 1}-02T09:01:00Z"},
        ],
    }
    for i, text in enumerate(
        ["I live in Porto.", "My sister Ana teaches chemistry.", "Actually I live in Braga now."]
    )
]


@pytest.fixture
def server(tmp_path: Path, db_url: str, embedder: CachedEmbedder) -> Iterator[LiveServer]:
    settings = make_settings(
        tmp_path, db_url, api={"api_keys": KEYS, "max_content_chars": 500, "max_batch_items": 4}
    )
    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        yield srv


def _http(srv: LiveServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=srv.url, timeout=60, headers={"authorization": f"Bearer {key}"})


def test_items_land_in_the_callers_namespace_only(server: LiveServer) -> None:
    with _http(server, "key-a") as a, _http(server, "key-b") as b:
        resp = a.post("/v1/memories/batch", json={"items": ITEMS})
        assert resp.status_code == 200, resp.text
        results = resp.json()["results"]
        assert [len(r["episode_ids"]) for r in results] == [2, 2, 2]
        found = a.post("/v1/memories/search", json={"query": "where do I live?", "user_id": "bob"})
        assert "Braga" in found.json()["results"][0]["memory"]
        # Another tenant's "bob" sees none of it, by search, list or episode id.
        other = b.post("/v1/memories/search", json={"query": "where do I live?", "user_id": "bob"})
        assert other.status_code == 200 and other.json()["results"] == []
        assert b.get("/v1/memories", params={"user_id": "bob"}).json()["results"] == []
        episode = results[0]["episode_ids"][0]
        assert b.get(f"/v1/episodes/{episode}", params={"user_id": "bob"}).status_code == 404


@pytest.mark.parametrize(
    "items",
    [
        [*ITEMS[:2], {"user_id": "bob", "text": "x" * 501}],  # over max_content_chars
        [*ITEMS, ITEMS[0], ITEMS[1]],  # over max_batch_items
        [ITEMS[0], {"text": "no owner"}],
        [ITEMS[0], {"user_id": "bob", "messages": []}],
        [],
    ],
    ids=["too-long", "too-many", "no-scope", "no-messages", "empty"],
)
def test_bad_item_is_a_422_and_stores_nothing(
    server: LiveServer, db_url: str, items: list[dict[str, Any]]
) -> None:
    engine = sa.create_engine(db_url)
    try:
        before = row_counts(engine)
        with _http(server, "key-a") as a:
            resp = a.post("/v1/memories/batch", json={"items": items})
        assert _error_shape_problem(resp, 422) is None, resp.text
        assert row_counts(engine) == before
    finally:
        engine.dispose()


def test_retry_with_the_same_key_is_stored_once(server: LiveServer, db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        with MemoryClient(server.url, api_key="key-a") as client:
            first = client.add_many(ITEMS, idempotency_key="backlog-7")
            after_first = row_counts(engine)
            again = client.add_many(ITEMS, idempotency_key="backlog-7")
        assert again == first
        assert row_counts(engine) == after_first
    finally:
        engine.dispose()


def test_http_answers_as_in_process(
    server: LiveServer, tmp_path: Path, embedder: CachedEmbedder
) -> None:
    with MemoryClient(server.url, api_key="key-a") as client:
        remote = client.add_many(ITEMS)
    with Memory(make_settings(tmp_path / "local"), embedder=embedder) as mem:
        local = mem.add_many(ITEMS)
    assert [[(e.event, e.memory) for e in r.results] for r in remote.results] == [
        [(e.event, e.memory) for e in r.results] for r in local.results
    ]


def test_concurrent_batches_and_adds_on_one_owner_lose_nothing(
    tmp_path: Path, db_url: str, embedder: CachedEmbedder
) -> None:
    """Batches and single adds to the same owner at once, from several clients: every message
    is stored once and every answer is a 200 (each item is an add; they interleave as adds do)."""
    admission = {"add_concurrency": 6, "max_wait_s": 60}
    settings = make_settings(tmp_path, db_url, admission=admission)
    sent: list[str] = []

    def client(n: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=srv.url, timeout=120) as http:
            for r in range(2):
                texts = [
                    f"Client {n} round {r} item {i}: the heron nests by pier {i}." for i in range(3)
                ]
                sent.extend(texts)
                if n % 2:
                    body = {"items": [{"user_id": "bob", "text": t} for t in texts]}
                    statuses.append(http.post("/v1/memories/batch", json=body).status_code)
                else:
                    for t in texts:
                        resp = http.post("/v1/memories", json={"user_id": "bob", "text": t})
                        statuses.append(resp.status_code)
        return statuses

    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        with ThreadPoolExecutor(6) as pool:
            statuses = [s for part in pool.map(client, range(6)) for s in part]
        engine = sa.create_engine(db_url)
        try:
            with engine.connect() as conn:
                stored = conn.execute(sa.text("SELECT content FROM episodes")).scalars().all()
        finally:
            engine.dispose()
    assert set(statuses) == {200}, statuses
    assert sorted(stored) == sorted(sent)
