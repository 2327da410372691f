"""Real replicas: `memsvc serve` processes on one PostgreSQL schema, each with its own data
folder, driven over HTTP. Searches run on the vector index alone (lexical channel off), so a
hit proves the serving replica's in-memory index holds the note."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.replicas.serve import Replica, wait_until

USERS = ["ana", "ben", "cho"]
THINGS = ["violin", "garden", "kayak", "bakery", "comet", "lantern", "glacier", "tiger"]


def fact(i: int) -> str:
    return f"Note {i}: I wrote about the {THINGS[i % len(THINGS)]} number {i * 7919 % 1000}."


@pytest.fixture
def cluster(
    pg_schema: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[list[Replica]]:
    n = int(request.param)
    replicas = [Replica(f"r{i}", pg_schema, tmp_path / f"r{i}") for i in range(n)]
    try:
        replicas[0].start()  # the first one migrates the fresh schema
        replicas[0].wait_ready()
        for r in replicas[1:]:
            r.start()
        for r in replicas[1:]:
            r.wait_ready()
        yield replicas
    finally:
        for r in replicas:
            r.stop()


def visible_everywhere(
    replicas: list[Replica], client: httpx.Client, acked: dict[str, tuple[str, str]]
) -> bool:
    for memory_id, (text, user) in acked.items():
        for r in replicas:
            if memory_id not in r.search_ids(client, text, user):
                return False
    return True


def found(r: Replica, client: httpx.Client, memory_id: str, text: str, user: str) -> bool:
    return memory_id in r.search_ids(client, text, user)


def consistent(replicas: list[Replica], client: httpx.Client) -> bool:
    counts = {r.index_vectors(client) for r in replicas}
    return len(counts) == 1 and counts != {0}


@pytest.mark.slow  # ~20 s, mostly two model loads: tests/replicas/test_two_replicas.py is lean
@pytest.mark.parametrize("cluster", [2], indirect=True)
def test_two_replicas_agree(cluster: list[Replica]) -> None:
    """Lean: two processes, three dozen operations; each write is found through the other
    replica within 1 s, and both end with the same index contents."""
    a, b = cluster
    lags: list[float] = []
    acked: dict[str, tuple[str, str]] = {}
    with httpx.Client(timeout=30) as client:
        for user in USERS:  # both replicas hold every partition in memory
            for r in cluster:
                r.search_ids(client, "anything", user)
        for i in range(12):
            writer, reader = (a, b) if i % 2 == 0 else (b, a)
            text, user = fact(i), USERS[i % len(USERS)]
            memory_id = writer.add(client, text, user)
            acked[memory_id] = (text, user)
            lags.append(wait_until(partial(found, reader, client, memory_id, text, user), 1.0))
        deleted = list(acked)[:3]
        for j, memory_id in enumerate(deleted):  # deletes through either replica
            r = cluster[j % 2]
            res = client.delete(
                f"{r.url}/v1/memories/{memory_id}", params={"user_id": acked.pop(memory_id)[1]}
            )
            assert res.status_code == 200, res.text
        wait_until(lambda: consistent(cluster, client), 1.0)
        assert visible_everywhere(cluster, client, acked)
        before = a.index_vectors(client)
        res = client.delete(f"{b.url}/v1/users/{USERS[0]}")  # erasure through B
        assert res.status_code == 200, res.text
        wait_until(lambda: a.index_vectors(client) < before, 1.0)
        wait_until(lambda: consistent(cluster, client), 1.0)
    mean = sum(lags) / len(lags)
    print(f"2 replicas: catch-up max {max(lags) * 1000:.0f} ms, mean {mean * 1000:.0f} ms")


@pytest.mark.slow
@pytest.mark.parametrize("cluster", [3], indirect=True)
def test_three_replicas_under_load_with_one_killed(cluster: list[Replica]) -> None:
    """Writes and searches through three replicas; r2 is SIGKILLed mid-load and restarted.
    No error on r0 and r1, no acknowledged write lost, every replica consistent at the end."""
    acked: dict[str, tuple[str, str]] = {}
    errors: list[str] = []
    lags: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()
    down = threading.Event()  # r2 is being killed / restarted: its failures are expected
    counter = iter(range(100_000))

    def writer(r: Replica, rng: random.Random) -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                with lock:
                    i = next(counter)
                text, user = fact(i), rng.choice(USERS)
                try:
                    memory_id = r.add(client, text, user)
                except (httpx.HTTPError, KeyError) as exc:
                    if r.name != "r2" or not down.is_set():
                        errors.append(f"{r.name} add: {exc!r}")
                    time.sleep(0.2)
                    continue
                with lock:
                    acked[memory_id] = (text, user)
                other = cluster[(cluster.index(r) + 1) % 2]  # r0 <-> r1, r2 -> r1
                try:
                    lags.append(
                        wait_until(partial(found, other, client, memory_id, text, user), 1.0)
                    )
                except (AssertionError, httpx.HTTPError) as exc:
                    errors.append(f"{memory_id} on {other.name}: {exc!r}")

    def searcher(r: Replica, rng: random.Random) -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                try:
                    r.search_ids(client, f"the {rng.choice(THINGS)}", rng.choice(USERS))
                except httpx.HTTPError as exc:
                    if r.name != "r2" or not down.is_set():
                        errors.append(f"{r.name} search: {exc!r}")
                    time.sleep(0.2)

    threads = [
        threading.Thread(target=f, args=(r, random.Random(k)), daemon=True)
        for k, (f, r) in enumerate((f, r) for r in cluster for f in (writer, searcher))
    ]
    for t in threads:
        t.start()
    time.sleep(8)
    down.set()
    cluster[2].kill()  # mid-load: its requests in flight fail, the others carry on
    time.sleep(2)
    cluster[2].start()
    cluster[2].wait_ready()
    time.sleep(1)
    down.clear()
    time.sleep(8)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:5]
    assert len(acked) >= 30
    with httpx.Client(timeout=30) as client:
        for user in USERS:  # no acknowledged write lost: the database has every one
            mine = {m for m, (_, u) in acked.items() if u == user}
            assert mine <= cluster[0].list_ids(client, user)
        assert visible_everywhere(cluster, client, acked)
        wait_until(lambda: consistent(cluster, client), 1.0)
        final = fact(next(counter))
        memory_id = cluster[2].add(client, final, USERS[0])
        for r in cluster:  # a write through the restarted replica reaches all within 1 s
            wait_until(partial(found, r, client, memory_id, final, USERS[0]), 1.0)
    lags.sort()
    print(
        f"3 replicas: {len(acked)} writes acknowledged, catch-up p50 "
        f"{lags[len(lags) // 2] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms"
    )
