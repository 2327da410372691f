"""`add_many`: several adds in one call, stored exactly as the same adds sent one by one.

What must hold: (1) for any sequence of adds (repeats that merge, updates that supersede,
several owners, infer on and off) cut into batches of any size, the stored notes, episodes,
slots, history and events equal those of one add after another (SQLite and PostgreSQL);
(2) bad input in any item stores nothing, and the error names the item; (3) a batch sent
again with its idempotency key is stored once, also after a failure part-way; (4) the items'
embeddings are computed together (one embedding call for the batch's units)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from memsvc import Memory
from memsvc.db.models import Episode, Note, NoteHistory
from memsvc.embed import CachedEmbedder
from memsvc.errors import InvalidInput
from memsvc.services import ingest, ingest_batch
from tests.conftest import make_settings
from tests.services.test_writer_insert import _stored
from tests.services.test_writer_preload import T0

# Sentences that merge (exact repeats), supersede (a new value for a slot), link (shared
# topic) and differ; short and long (sentence parts from 30 words).
POOL = [
    "I live in Porto.",
    "Actually I live in Braga now.",
    "My sister Ana lives in Madrid and teaches chemistry.",
    "My favorite food is ramen.",
    "My favorite food is sushi these days.",
    "I adopted a beagle called Max last spring; he loves the park by the lake.",
    "Max the beagle chewed my running shoes again this morning.",
    "Beagles are lively! Walks by the lake sound perfect for Max.",
    "I started a pottery class on Tuesdays and made a blue bowl for my mother, who collects "
    "ceramics from every city she visits, mostly Lisbon, Kyoto and Oaxaca, and keeps them on "
    "a long shelf in her kitchen.",
    "We booked flights to Tokyo for the second week of April.",
]
USERS = ["alice", "bob"]


@st.composite
def adds(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        when = T0 + timedelta(days=3 * i)
        picks = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=4))
        roles = draw(
            st.lists(
                st.sampled_from(["user", "assistant"]), min_size=len(picks), max_size=len(picks)
            )
        )
        msgs = [
            {"role": r, "content": c, "timestamp": (when + timedelta(minutes=j)).isoformat()}
            for j, (r, c) in enumerate(zip(roles, picks, strict=True))
        ]
        item: dict[str, Any] = {
            "messages": msgs,
            "user_id": draw(st.sampled_from(USERS)),
            "session_id": f"s{i}",
            "metadata": {"n": i},
        }
        if draw(st.integers(0, 5)) == 0:
            item["infer"] = False
        out.append(item)
    return out


def _state(mem: Memory, users: list[str]) -> dict[str, Any]:
    with mem.runtime.db.read() as s:
        history = s.execute(
            select(Note.content, NoteHistory.event, NoteHistory.actor, NoteHistory.reason)
            .join(Note, Note.id == NoteHistory.note_id)
            .where(Note.user_id.in_(users))
        ).all()
    return {
        "owners": [_stored(mem, u) for u in users],
        "history": sorted(tuple(h) for h in history),
    }


def _events(results: list[Any]) -> list[list[tuple[str, str]]]:
    return [[(e.event, e.memory) for e in r.results] for r in results]


def _as(tag: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items with their owners renamed: each side of a comparison has partitions of its
    own in the one store."""
    return [{**item, "user_id": f"{tag}-{item['user_id']}"} for item in items]


@pytest.fixture
def cached_mem(tmp_path: Path, db_url: str, embedder: CachedEmbedder) -> Iterator[Memory]:
    """A store whose embedder remembers every text's vector on disk: a forward pass's
    float32 results depend on the batch's shapes (|diff| ~1e-7), so two orders of work give
    identical vectors only when each text is computed once. The orchestration is what is
    compared here; `test_batch_vectors_match` bounds the numeric difference."""
    cached = CachedEmbedder(embedder, cache_dir=tmp_path / "vectors")
    with Memory(make_settings(tmp_path, db_url), embedder=cached) as m:
        yield m


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=adds(), cut=st.integers(1, 6))
def test_same_memories_as_one_add_after_another(
    cached_mem: Memory, items: list[dict[str, Any]], cut: int
) -> None:
    note(f"items={items!r} cut={cut}")
    mem = cached_mem
    tag = uuid.uuid4().hex[:8]
    singles = [mem.add(**item) for item in _as(f"one{tag}", items)]
    batched = []
    for at in range(0, len(items), cut):
        batched += mem.add_many(_as(f"many{tag}", items[at : at + cut])).results
    assert _events(batched) == _events(singles)
    assert [len(r.episode_ids) for r in batched] == [len(r.episode_ids) for r in singles]
    one = _state(mem, [f"one{tag}-{u}" for u in USERS])
    many = _state(mem, [f"many{tag}-{u}" for u in USERS])
    assert _differences(many, one) == []


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two stored states differ, as readable paths (a failing example names the column)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for k in sorted(set(a) | set(b), key=str)
            for d in _differences(a.get(k), b.get(k), f"{path}/{k}")
        ]
    if isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}/{i}")
        ]
    return [] if a == b else [f"{path}: {a!r:.120} != {b!r:.120}"]


def _count(mem: Memory) -> int:
    with mem.runtime.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Episode)) or 0)


def test_bad_item_stores_nothing_and_is_named(memory_factory: Callable[..., Memory]) -> None:
    mem = memory_factory(api={"max_content_chars": 200})
    good = {"messages": [{"role": "user", "content": "I live in Porto."}], "user_id": "alice"}
    too_long = {"text": "x " * 150, "user_id": "bob"}
    with pytest.raises(InvalidInput) as err:
        mem.add_many([good, good, too_long, good])
    assert err.value.message.startswith("items.2"), err.value.message
    assert _count(mem) == 0
    # Caught by the request model before the service: a missing scope, an unknown argument.
    for bad in ({"text": "no owner"}, {"text": "hi", "user_id": "u", "colour": "red"}):
        with pytest.raises(InvalidInput) as err:
            mem.add_many([good, bad])
        assert err.value.message.startswith("items.1"), err.value.message
    with pytest.raises(InvalidInput):
        mem.add_many([])
    assert _count(mem) == 0


def test_too_many_items(memory_factory: Callable[..., Memory]) -> None:
    mem = memory_factory(api={"max_batch_items": 3})
    item = {"text": "I live in Porto.", "user_id": "alice"}
    with pytest.raises(InvalidInput) as err:
        mem.add_many([item] * 4)
    assert err.value.details == {"limit": 3}
    assert _count(mem) == 0
    assert len(mem.add_many([item] * 3).results) == 3


def test_retry_after_a_failure_part_way_stores_each_item_once(
    memory_factory: Callable[..., Memory], monkeypatch: pytest.MonkeyPatch
) -> None:
    mem = memory_factory()
    items = [
        {"text": f"Fact {i}: the heron nests by pier {i}.", "user_id": "alice"} for i in range(5)
    ]
    finish, calls = ingest.finish, []

    def failing(**kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return finish(**kw)

    with monkeypatch.context() as m:
        m.setattr(ingest, "finish", failing)
        with pytest.raises(RuntimeError):
            mem.add_many(items, idempotency_key="load-1")
    assert _count(mem) == 2  # the items before the failure stay stored
    first = mem.add_many(items, idempotency_key="load-1")
    again = mem.add_many(items, idempotency_key="load-1")
    assert _count(mem) == 5
    assert again == first
    # The same key with other items is a client error, and stores nothing.
    with pytest.raises(InvalidInput):
        mem.add_many(
            [*items[:4], {"text": "Something else.", "user_id": "alice"}], idempotency_key="load-1"
        )
    assert _count(mem) == 5


def test_one_embedding_call_for_the_batch(memory_factory: Callable[..., Memory]) -> None:
    mem = memory_factory()
    embedder = mem.runtime.embedder
    calls: list[int] = []
    embed = embedder.embed

    def counted(texts: list[str]) -> Any:
        calls.append(len(texts))
        return embed(texts)

    embedder.embed = counted  # type: ignore[method-assign]
    try:
        items = [
            {"text": f"Fact {i}: the heron nests by pier {i} of the old harbour.", "user_id": "u"}
            for i in range(8)
        ]
        mem.add_many(items)
    finally:
        del embedder.embed
    assert calls[0] == 8, calls  # every item's key in the first call


def test_batch_vectors_match(memory_factory: Callable[..., Memory]) -> None:
    """Without a cache, a batch's vectors differ from one add's only by float noise."""
    mem = memory_factory()
    texts = POOL[:6]
    for i, t in enumerate(texts):
        mem.add(text=t, user_id=f"one-{i}", infer=False)
    mem.add_many([{"text": t, "user_id": f"many-{i}", "infer": False} for i, t in enumerate(texts)])
    with mem.runtime.db.read() as s:
        rows = s.execute(select(Note.user_id, Note.embedding)).all()
    vec = {u: np.frombuffer(e, dtype=np.float32) for u, e in rows}
    for i in range(len(texts)):
        assert float(vec[f"one-{i}"] @ vec[f"many-{i}"]) > 0.99999


def test_large_batches_are_prepared_in_chunks_of_whole_items(
    memory_factory: Callable[..., Memory], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past PREPARE_UNITS units a batch is prepared chunk by chunk (an item never split), and
    what is stored does not change."""
    monkeypatch.setattr(ingest_batch, "PREPARE_UNITS", 3)
    prepared: list[int] = []
    prepare = ingest.prepare_units

    def spy(units: list[Any], **kw: Any) -> None:
        prepared.append(len(units))
        prepare(units, **kw)

    monkeypatch.setattr(ingest, "prepare_units", spy)
    mem = memory_factory()
    items = [
        {
            "messages": [f"Fact {i}: the heron nests by pier {i}.", "And it sings at dawn."]
            if i % 3 == 0
            else [f"Fact {i}: the heron nests by pier {i}."],
            "user_id": "u",
        }
        for i in range(7)
    ]
    batched = mem.add_many(items).results
    # Units per item 2,1,1,2,1,1,2: chunks (2,1) (1,2) (1,1) (2) of at most 3 units each.
    assert prepared == [3, 3, 2, 2]
    singles = [mem.add(**{**item, "user_id": "v"}) for item in items]
    assert _events(batched) == _events(singles)
