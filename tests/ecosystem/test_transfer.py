"""Export → import into an empty store gives the same store: search results, history, links
and timestamps; on SQLite and on PostgreSQL, through the services, the CLI and HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from memsvc import Memory
from memsvc.api import create_app
from memsvc.embed import CachedEmbedder
from memsvc.errors import InvalidInput
from memsvc.services import transfer
from memsvc.services.scope import Scope
from tests.conftest import PG_URL, LiveServer, make_settings

QUERIES = [
    "what is the name of my dog?",
    "where do I live now?",
    "which food am I allergic to?",
    "what did I do at the weekend?",
]


@pytest.fixture
def other_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as `db_url`."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _fill(m: Memory) -> None:
    m.add(
        [
            {
                "role": "user",
                "content": "I adopted a golden retriever puppy named Max.",
                "timestamp": "2024-03-02T10:00:00Z",
            },
            {"role": "assistant", "content": "Lovely! How old is he?"},
            {
                "role": "user",
                "content": "Max is ten weeks old, a golden retriever puppy.",
                "timestamp": "2024-03-02T10:01:00Z",
            },
        ],
        user_id="alice",
        session_id="s1",
    )
    m.add(
        "I live in a flat in Kreuzberg, Berlin.",
        user_id="alice",
        session_id="s1",
        timestamp="2024-03-02T10:05:00Z",
    )
    m.add(
        "I am allergic to peanuts.",
        user_id="alice",
        session_id="s2",
        timestamp="2024-04-10T09:00:00Z",
    )
    m.add(
        "At the weekend I went hiking in the Harz mountains with Max.",
        user_id="alice",
        session_id="s3",
        timestamp="2024-05-20T18:00:00Z",
    )
    m.add(
        "I moved to Lisbon; I live in Lisbon now.",
        user_id="alice",
        session_id="s4",
        timestamp="2024-09-01T12:00:00Z",
    )
    m.add("Bob's secret: he collects stamps.", user_id="bob", timestamp="2024-05-01T00:00:00Z")
    flat = next(r for r in m.get_all(user_id="alice").results if "Kreuzberg" in r.memory)
    m.update(flat.id, "I live in a flat in Kreuzberg, Berlin, near the canal.", user_id="alice")
    allergy = next(r for r in m.get_all(user_id="alice").results if "peanuts" in r.memory)
    m.update(allergy.id, status="forgotten", user_id="alice")


def _hits(m: Memory) -> list[list[tuple[str, str, float]]]:
    out = []
    for q in QUERIES:
        res = m.search(q, user_id="alice", top_k=5, reinforce=False, include_forgotten=True)
        out.append([(h.id, h.memory, round(h.score, 4)) for h in res.results])
    return out


def _history(m: Memory, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    # The row number (`id`) is the store's own; everything else must survive the trip.
    return {i: [h.model_dump(exclude={"id"}) for h in m.history(i, user_id="alice")] for i in ids}


def _same_ranking(got: list[Any], expected: list[Any], tolerance: float) -> bool:
    for g, e in zip(got, expected, strict=True):
        assert [h[:2] for h in g] == [h[:2] for h in e]
        assert [h[2] for h in g] == pytest.approx([h[2] for h in e], abs=tolerance)
    return True


def _export(m: Memory, **kwargs: Any) -> list[dict[str, Any]]:
    with m.runtime.db.read() as session:
        records = list(transfer.export_records(session=session, namespace="default", **kwargs))
    assert records[0]["type"] == "memsvc-export"
    return records


def _parts(m: Memory) -> dict[str, Any]:
    """What `import_records` takes from the store's runtime."""
    rt = m.runtime
    return {
        "ingest": rt.settings.ingest,
        "indexes": rt.indexes,
        "embedder": rt.embedder,
    }


def _import(m: Memory, records: list[dict[str, Any]]) -> transfer.ImportResult:
    with m.runtime.db.session() as session:
        return transfer.import_records(
            session=session, **_parts(m), namespace="default", records=records
        )


def test_round_trip_gives_the_same_store(
    tmp_path: Path, db_url: str, other_url: str, embedder: CachedEmbedder
) -> None:
    alice = Scope("default", "alice")
    with Memory(make_settings(tmp_path / "a", db_url), embedder=embedder) as a:
        _fill(a)
        records = _export(a, scope=alice)
        kinds = [r["type"] for r in records]
        assert {"episode", "note", "link", "history"} <= set(kinds)
        assert not any("stamps" in json.dumps(r) for r in records)  # bob stays out
        with a.runtime.db.read() as session:
            count = transfer.count_records(session=session, namespace="default", scope=alice)
        assert count == len(records) - 1
        expected = _hits(a)
        notes = [r["id"] for r in records if r["type"] == "note"]
        expected_history = _history(a, notes)
        whole = _export(a)  # the whole namespace: alice and bob
        assert any("stamps" in json.dumps(r) for r in whole)

    with Memory(make_settings(tmp_path / "b", other_url), embedder=embedder) as b:
        result = _import(b, records)
        assert result.notes == len(notes) and result.reembedded == 0
        assert result.links == kinds.count("link") and result.history == kinds.count("history")
        # Full-text statistics span the whole store (bob's notes too), so until bob is
        # imported as well the lexical part of a score may differ a little.
        assert _same_ranking(_hits(b), expected, tolerance=5e-3)
        assert _history(b, notes) == expected_history
        again = _export(b, scope=alice)
        assert again[1:] == records[1:]  # every row, id and timestamp as it was
        # Importing twice changes nothing.
        second = _import(b, records)
        assert (second.notes, second.episodes, second.links, second.history) == (0, 0, 0, 0)
        assert second.skipped == len(records) - 1
        assert b.get_all(user_id="bob").results == []
        rest = _import(b, whole)  # now the whole namespace: bob's rows come in, alice's skip
        assert rest.notes == 1 and rest.skipped == len(records) - 1
        assert _hits(b) == expected


def test_import_without_vectors_reembeds(tmp_path: Path, embedder: CachedEmbedder) -> None:
    with Memory(make_settings(tmp_path / "a"), embedder=embedder) as a:
        _fill(a)
        records = _export(a, scope=Scope("default", "alice"), embeddings=False)
        expected = _hits(a)
    assert not any("embedding" in r for r in records if r["type"] == "note")
    with Memory(make_settings(tmp_path / "c"), embedder=embedder) as c:
        result = _import(c, records)
        assert result.reembedded == result.notes > 0
        assert _same_ranking(_hits(c), expected, tolerance=5e-3)


def test_mem0_export_imports(tmp_path: Path, embedder: CachedEmbedder) -> None:
    mem0 = {
        "results": [
            {
                "id": str(uuid.uuid4()),
                "memory": "Is vegetarian and avoids dairy",
                "hash": "x",
                "metadata": {"source": "chat"},
                "categories": ["food"],
                "created_at": "2024-07-20T01:10:31.046000-07:00",
                "user_id": "carol",
            },
            {
                "id": str(uuid.uuid4()),
                "memory": "Works as a nurse in Porto",
                "created_at": "2024-07-21T08:00:00Z",
            },
        ]
    }
    path = tmp_path / "mem0.json"
    path.write_text(json.dumps(mem0, indent=2))  # pretty-printed: one JSON document
    with Memory(make_settings(tmp_path / "m"), embedder=embedder) as m:
        with m.runtime.db.session() as session:
            result = transfer.import_records(
                session=session,
                **_parts(m),
                namespace="default",
                records=transfer.read_file(path),
                user_id="carol",
            )
        assert (result.notes, result.episodes, result.history) == (2, 2, 2)
        hit = m.search("what does she eat?", user_id="carol", top_k=1).results[0]
        assert hit.memory == "Is vegetarian and avoids dairy"
        assert hit.metadata["categories"] == ["food"]
        assert hit.event_time is not None and hit.event_time.isoformat().startswith("2024-07-20")
        job = m.search("what is her job?", user_id="carol", top_k=1).results[0]
        assert job.id == mem0["results"][1]["id"]  # mem0's ids are kept
        assert [h.event for h in m.history(job.id, user_id="carol")] == ["ADD"]


def test_http_export_import_honours_api_keys(tmp_path: Path, embedder: CachedEmbedder) -> None:
    keys = {"api": {"api_keys": {"key-a": "team-a", "key-b": "team-b"}}}
    a_app = create_app(make_settings(tmp_path / "a", **keys), embedder=embedder)
    b_app = create_app(make_settings(tmp_path / "b", **keys), embedder=embedder)
    ka, kb = {"authorization": "Bearer key-a"}, {"authorization": "Bearer key-b"}
    with LiveServer(a_app) as a, LiveServer(b_app) as b, httpx.Client(timeout=60) as http:
        body = {"user_id": "alice", "text": "My dog Max is a golden retriever."}
        assert http.post(f"{a.url}/v1/memories", json=body, headers=ka).status_code == 200
        assert http.get(f"{a.url}/v1/export").status_code == 401
        exported = http.get(f"{a.url}/v1/export", params={"user_id": "alice"}, headers=ka)
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("application/x-ndjson")
        lines = exported.text.splitlines()
        assert [json.loads(x)["type"] for x in lines].count("note") == 1
        other = http.get(f"{a.url}/v1/export", headers=kb).text.splitlines()  # team-b: nothing
        assert [json.loads(x)["type"] for x in other] == ["memsvc-export"]

        ndjson = {**kb, "content-type": "application/x-ndjson"}
        imported = http.post(f"{b.url}/v1/import", content=exported.content, headers=ndjson)
        assert imported.status_code == 200, imported.text
        assert imported.json()["notes"] == 1
        search = {"user_id": "alice", "query": "what breed is my dog?"}
        hits = http.post(f"{b.url}/v1/memories/search", json=search, headers=kb).json()
        assert hits["results"][0]["memory"] == "My dog Max is a golden retriever."
        hits = http.post(f"{b.url}/v1/memories/search", json=search, headers=ka).json()
        assert hits["results"] == []  # imported into team-b only
        bad = http.post(f"{b.url}/v1/import", content=b"{not json\n", headers=kb)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMSVC_")}
    env |= {"HF_HUB_OFFLINE": "1", "MEMSVC_DATA_DIR": str(data_dir)}
    env["MEMSVC_EMBED__QUERY_ENGINE"] = "torch"
    exe = str(Path(sys.executable).parent / "memsvc")
    out = subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return out


@pytest.mark.slow
def test_cli_export_then_import(tmp_path: Path, embedder: CachedEmbedder) -> None:
    with Memory(make_settings(tmp_path / "a"), embedder=embedder) as a:
        _fill(a)
        expected = _hits(a)
    path = tmp_path / "alice.jsonl"
    out = _cli("export", "--user-id", "alice", "-o", str(path), data_dir=tmp_path / "a")
    assert "export: 100%" in out.stderr  # the progress bar, on stderr
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[0]["scope"]["user_id"] == "alice"
    out = _cli("import", str(path), data_dir=tmp_path / "b")
    assert "import: 100%" in out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["notes"] == sum(r["type"] == "note" for r in records)
    with Memory(make_settings(tmp_path / "b"), embedder=embedder) as b:
        assert _same_ranking(_hits(b), expected, tolerance=5e-3)


@pytest.mark.parametrize(
    "line",
    [
        '{"type": "note", "content": "no id"}',
        '{"type": "episode", "id": "e1", "role": "user", "content": "x", "event_time": "t"}',
        '{"type": "note", "id": "n1", "content": "x", "event_time": "2024-01-01T00:00:00Z"}',
        '{"type": "note", "id": "n1", "user_id": "u", "content": "x", '
        '"event_time": "2024-01-01T00:00:00Z", "strength": "strong"}',
        '{"type": "something"}',
        "[1, 2]",
        # Values the API refuses everywhere: NUL, NaN (SQLite would store both as they are).
        '{"type": "note", "id": "n1", "user_id": "u", "content": "x\\u0000y", '
        '"event_time": "2024-01-01T00:00:00Z"}',
        '{"type": "note", "id": "n1", "user_id": "u", "content": "x", '
        '"event_time": "2024-01-01T00:00:00Z", "metadata": {"v": NaN}}',
    ],
)
def test_bad_records_are_invalid_input(tmp_path: Path, embedder: CachedEmbedder, line: str) -> None:
    with Memory(make_settings(tmp_path), embedder=embedder) as m:
        with m.runtime.db.session() as session, pytest.raises(InvalidInput):
            transfer.import_records(
                session=session,
                **_parts(m),
                namespace="default",
                records=list(transfer.parse_lines([line])),
            )
        assert m.get_all(user_id="u").results == []


def test_http_import_and_export_edge_cases(tmp_path: Path, embedder: CachedEmbedder) -> None:
    with (
        LiveServer(create_app(make_settings(tmp_path), embedder=embedder)) as srv,
        httpx.Client(base_url=srv.url, timeout=60) as http,
    ):
        for body in (b"", b"  \n", b"\xff\xfe"):
            resp = http.post("/v1/import", content=body)
            assert resp.status_code == 422, resp.text
        bad = '{"type": "note", "id": "n1", "user_id": "u", "content": "x", '
        bad += '"event_time": "2024-01-01T00:00:00Z", "strength": "strong"}'
        resp = http.post("/v1/import", content=bad.encode())
        assert resp.status_code == 422 and "SELECT" not in resp.text and "INSERT" not in resp.text
        owner = "Zoë-王"  # not Latin-1: must still give a valid header
        http.post("/v1/memories", json={"text": "I like tea.", "user_id": owner, "infer": False})
        resp = http.get("/v1/export", params={"user_id": owner})
        assert resp.status_code == 200
        assert "filename*=UTF-8''" in resp.headers["content-disposition"]
        assert any(
            json.loads(line).get("content") == "I like tea." for line in resp.text.splitlines()
        )
