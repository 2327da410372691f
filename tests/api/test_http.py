"""The HTTP API over real HTTP (uvicorn on 127.0.0.1): routes, error shapes, limits, auth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from memsvc.api import create_app
from memsvc.config import Settings
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings


@pytest.fixture
def server(settings: Settings, embedder: CachedEmbedder) -> Iterator[LiveServer]:
    settings.api.max_body_bytes = 20_000
    settings.api.max_messages = 5
    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        yield srv


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def _error(resp: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def _count(http: httpx.Client, user: str) -> int:
    return len(http.get("/v1/memories", params={"user_id": user}).json()["results"])


def test_add_search_get_update_delete_round_trip(http: httpx.Client) -> None:
    added = http.post(
        "/v1/memories",
        json={
            "messages": [
                {
                    "role": "user",
                    "content": "I just started a job as a pastry chef.",
                    "timestamp": "2024-03-01T09:00:00Z",
                },
                {"role": "assistant", "content": "Congratulations on the new job!"},
            ],
            "user_id": "alice",
            "session_id": "s-1",
            "metadata": {"channel": "web"},
        },
    )
    assert added.status_code == 200, added.text
    body = added.json()
    assert [r["event"] for r in body["results"]] == ["ADD"]  # one round: user turn + reply
    mid = body["results"][0]["id"]

    hits = http.post(
        "/v1/memories/search", json={"query": "what is my occupation?", "user_id": "alice"}
    )
    assert hits.status_code == 200
    results = hits.json()["results"]
    assert results[0]["id"] == mid
    top = next(h for h in results if h["id"] == mid)
    assert top["session_id"] == "s-1" and top["metadata"] == {"channel": "web"}
    assert top["event_time"].startswith("2024-03-01T09:00:00")
    assert top["episode_ids"] == body["episode_ids"]

    # Id routes name their owner, as searches do; without one it is a clear 4xx.
    assert http.get(f"/v1/memories/{mid}").status_code == 422
    owner = {"user_id": "alice"}
    got = http.get(f"/v1/memories/{mid}", params=owner).json()
    assert got["memory"] == (
        "user: I just started a job as a pastry chef.\nassistant: Congratulations on the new job!"
    )

    patched = http.patch(f"/v1/memories/{mid}", params=owner, json={"metadata": {"channel": "app"}})
    assert patched.json()["metadata"] == {"channel": "app"}
    history = http.get(f"/v1/memories/{mid}/history", params=owner).json()
    assert [h["event"] for h in history] == ["ADD", "UPDATE"]

    assert http.delete(f"/v1/memories/{mid}", params=owner).json()["deleted"] == 1
    _error(http.get(f"/v1/memories/{mid}", params=owner), 404, "not_found")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"text": "no scope"}, "scope_required"),
        ({"user_id": "u"}, "invalid_input"),
        ({"user_id": "u", "text": "a", "messages": [{"content": "b"}]}, "invalid_input"),
        ({"user_id": "u", "messages": []}, "invalid_input"),
        ({"user_id": "u", "messages": [{"role": "user"}]}, "invalid_input"),
        ({"user_id": "u", "text": "   "}, "invalid_input"),
        ({"user_id": "u", "text": "x", "unknown_field": 1}, "invalid_input"),
        ({"user_id": "", "text": "x"}, "invalid_input"),
        ({"user_id": "u", "text": "x", "timestamp": "not a date"}, "invalid_input"),
        ({"user_id": "u", "messages": [{"content": f"m{i}"} for i in range(6)]}, "invalid_input"),
    ],
)
def test_bad_writes_get_a_clear_422_and_change_nothing(
    http: httpx.Client, payload: dict[str, object], code: str
) -> None:
    _error(http.post("/v1/memories", json=payload), 422, code)
    assert _count(http, "u") == 0


def test_malformed_json_and_oversized_bodies(http: httpx.Client) -> None:
    bad = http.post(
        "/v1/memories", content=b"{not json", headers={"content-type": "application/json"}
    )
    _error(bad, 400, "bad_request")  # not JSON at all: a malformed request, not invalid data
    big = http.post("/v1/memories", json={"user_id": "u", "text": "x" * 30_000})
    err = _error(big, 413, "payload_too_large")
    assert err["details"] == {"limit": 20_000}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted while streaming
        yield b'{"user_id": "u", "text": "'
        for _ in range(30):
            yield b"y" * 1000
        yield b'"}'

    _error(
        http.post("/v1/memories", content=chunks(), headers={"content-type": "application/json"}),
        413,
        "payload_too_large",
    )
    assert _count(http, "u") == 0


def test_search_and_list_validation(http: httpx.Client) -> None:
    _error(http.post("/v1/memories/search", json={"query": "x"}), 422, "scope_required")
    _error(
        http.post("/v1/memories/search", json={"query": "", "user_id": "u"}), 422, "invalid_input"
    )
    _error(
        http.post("/v1/memories/search", json={"query": "x", "user_id": "u", "top_k": 10_000}),
        422,
        "invalid_input",
    )
    _error(http.get("/v1/memories"), 422, "scope_required")
    _error(http.get("/v1/memories", params={"user_id": "u", "cursor": "!!"}), 422, "invalid_input")
    _error(http.get("/v1/memories/abc/history", params={"user_id": "u"}), 404, "not_found")
    _error(http.delete("/v1/users/nobody"), 404, "not_found")
    _error(http.get("/v1/nothing-here"), 404, "not_found")
    _error(http.put("/v1/memories/abc", json={}), 405, "method_not_allowed")


def test_health_and_openapi(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz").json()
    assert ready["status"] == "ok" and ready["dim"] == 384
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    for path, methods in {
        "/v1/memories": {"get", "post", "delete"},
        "/v1/memories/search": {"post"},
        "/v1/memories/{memory_id}": {"get", "patch", "delete"},
        "/v1/memories/{memory_id}/history": {"get"},
        "/v1/users/{user_id}": {"delete"},
    }.items():
        assert methods <= set(paths[path]), path
    add_schema = paths["/v1/memories"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert add_schema["$ref"].endswith("/MemoryCreate")


def test_api_keys_map_to_isolated_namespaces(tmp_path: Path, embedder: CachedEmbedder) -> None:
    settings = make_settings(tmp_path, api={"api_keys": {"key-a": "team-a", "key-b": "team-b"}})
    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        a = httpx.Client(base_url=srv.url, headers={"authorization": "Bearer key-a"})
        b = httpx.Client(base_url=srv.url, headers={"x-api-key": "key-b"})
        anon = httpx.Client(base_url=srv.url)
        mid = a.post("/v1/memories", json={"text": "team A roadmap", "user_id": "u"}).json()[
            "results"
        ][0]["id"]
        assert (
            b.post("/v1/memories/search", json={"query": "roadmap", "user_id": "u"}).json()[
                "results"
            ]
            == []
        )
        owner = {"user_id": "u"}
        _error(b.get(f"/v1/memories/{mid}", params=owner), 404, "not_found")
        _error(anon.get(f"/v1/memories/{mid}", params=owner), 401, "unauthorized")
        assert a.get(f"/v1/memories/{mid}", params=owner).status_code == 200
        for client in (a, b, anon):
            client.close()


def test_a_bug_answers_500_json_and_the_connection_survives(
    settings: Settings, embedder: CachedEmbedder
) -> None:
    app = create_app(settings, embedder=embedder)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    with LiveServer(app) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        err = _error(client.get("/boom"), 500, "internal_error")
        assert "a bug" not in str(err)  # no internals leak to the caller
        # The same keep-alive connection still serves the next request.
        assert client.get("/healthz").status_code == 200
        assert client.get("/boom").status_code == 500


def test_a_memory_survives_a_server_restart(settings: Settings, embedder: CachedEmbedder) -> None:
    body = {"user_id": "alice", "text": "I moved into a flat in Kreuzberg last week."}
    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        added = httpx.post(f"{srv.url}/v1/memories", json=body, timeout=60)
        assert added.status_code == 200, added.text
    # A new server process over the same data folder: database and index folder reloaded.
    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        query = {"user_id": "alice", "query": "which neighbourhood is her home in?", "top_k": 1}
        hits = httpx.post(f"{srv.url}/v1/memories/search", json=query, timeout=60).json()
        assert hits["results"][0]["memory"] == body["text"]


def test_metrics_count_requests_by_route_template(http: httpx.Client) -> None:
    http.post("/v1/memories", json={"user_id": "m", "text": "I keep bees in my garden."})
    http.post("/v1/memories/search", json={"user_id": "m", "query": "hobbies"})
    http.get("/v1/memories/00000000-0000-0000-0000-000000000000", params={"user_id": "u"})  # 404
    resp = http.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    lines = resp.text.splitlines()
    assert 'memsvc_http_requests_total{method="POST",route="/v1/memories",status="200"} 1' in lines
    assert (
        'memsvc_http_requests_total{method="GET",route="/v1/memories/{memory_id}",status="404"} 1'
        in lines
    )
    search = [ln for ln in lines if ln.startswith("memsvc_http_request_seconds_count")]
    assert any('route="/v1/memories/search"' in ln and ln.endswith(" 1") for ln in search)
    assert 'memsvc_index_partitions{kind="flat"} 2' in lines  # keys + parts of one user
    assert "memsvc_llm_calls_total 0" in lines
    assert "memsvc_index_compactions_total 0" in lines  # flat indexes: nothing to compact
    assert "default/u/m" not in resp.text  # partitions are counted, never named
