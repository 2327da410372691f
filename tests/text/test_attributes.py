"""`AttributeWorkers`: worker processes and the memo change how fast offline attributes come,
never what they are; and an add stores the same notes with workers as without."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsvc import Memory
from memsvc.text.attributes import AttributeWorkers, Request, compute, offline_attributes
from tests.text._data import longmemeval_turns

T0 = datetime(2023, 5, 8, 13, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def workers() -> Iterator[AttributeWorkers]:
    pool = AttributeWorkers(processes=2, memo=64)
    yield pool
    pool.close()


def _real_requests(n: int) -> list[Request]:
    turns = longmemeval_turns()[:n]
    previous: list[str | None] = [None, *(t["content"] for t in turns[:-1])]
    return [(t["content"], t["role"], p, "builtin") for t, p in zip(turns, previous, strict=True)]


def test_workers_and_memo_give_what_one_process_gives(workers: AttributeWorkers) -> None:
    reqs = _real_requests(120)
    reqs += reqs[:30]  # repeats within one call
    expected = [asdict(compute(r)) for r in reqs]
    sent = workers.sent
    assert [asdict(a) for a in workers.compute_many(reqs)] == expected
    assert workers.sent > sent  # the pool really did the work
    hits = workers.hits
    # The memo keeps the 64 most recent distinct requests: the last 40 are all in it.
    assert [asdict(a) for a in workers.compute_many(reqs[80:120])] == expected[80:120]
    assert workers.hits == hits + 40


words = st.sampled_from(
    [
        "I",
        "my",
        "sister",
        "moved",
        "to",
        "Lisbon",
        "love",
        "hiking",
        "Rex",
        "dog",
        "is",
        "a",
        "vet",
        "we",
        "went",
        "yesterday",
        "favorite",
        "food",
        "sushi",
        "ok",
        "thanks",
        "!",
        "?",
        ".",
    ]
)
texts = st.lists(words, min_size=1, max_size=25).map(" ".join)
requests = st.tuples(
    texts,
    st.sampled_from(["user", "assistant", "agent", None]),
    st.none() | texts,
    st.just("builtin"),
)


@settings(max_examples=40, deadline=None)
@given(reqs=st.lists(requests, min_size=0, max_size=12))
def test_any_batch_is_answered_in_order_and_exactly(
    workers: AttributeWorkers, reqs: list[Request]
) -> None:
    got = workers.compute_many(reqs)
    assert [asdict(a) for a in got] == [
        asdict(offline_attributes(c, r, previous=p, method=m)) for c, r, p, m in reqs
    ]


def test_what_a_caller_changes_does_not_change_the_memo() -> None:
    pool = AttributeWorkers(processes=0, memo=8)
    req: Request = ("I moved to Lisbon with my dog Rex last spring.", "user", None, "builtin")
    first = pool.compute_many([req])[0]
    clean = asdict(first)
    first.keywords.append("tampered")
    first.slots.append(["x", "y"])
    assert asdict(pool.compute_many([req])[0]) == clean
    assert pool.hits == 1


def test_a_users_message_is_one_request_whatever_came_before() -> None:
    pool = AttributeWorkers(processes=0, memo=8)
    text = "I moved to Lisbon with my dog Rex last spring."
    first = pool.compute_many([(text, "user", "Where do you live?", "builtin")])
    again = pool.compute_many([(text, "user", "Any pets?", "builtin")])
    assert asdict(first[0]) == asdict(again[0]) == asdict(compute((text, "user", None, "builtin")))
    assert pool.hits == 1
    # An assistant reply's context is the message it answers: those stay apart.
    reply = pool.compute_many([("Yes, about 7 days.", "assistant", q, "builtin") for q in "ab"])
    assert reply[0].context != reply[1].context
    assert pool.hits == 1


def test_the_memo_is_bounded() -> None:
    pool = AttributeWorkers(processes=0, memo=3)
    reqs = [(f"Note number {i} about tea.", "user", None, "builtin") for i in range(10)]
    pool.compute_many(reqs)  # type: ignore[arg-type]
    assert len(pool._memo) == 3
    pool.compute_many(reqs[-3:])  # type: ignore[arg-type]
    assert pool.hits == 3


def test_a_closed_pool_still_answers() -> None:
    pool = AttributeWorkers(processes=2, memo=0)
    pool.close()
    reqs = _real_requests(12)
    assert [asdict(a) for a in pool.compute_many(reqs)] == [asdict(compute(r)) for r in reqs]
    assert pool.sent == 0


def _notes(mem: Memory, user: str) -> list[dict[str, Any]]:
    page = mem.get_all(user_id=user, limit=200)
    return sorted(
        (
            {
                "memory": m.memory,
                "keywords": m.keywords,
                "tags": m.tags,
                "context": m.context,
                "facts": m.facts,
            }
            for m in page.results
        ),
        key=lambda d: d["memory"],
    )


def test_an_add_stores_the_same_notes_with_workers(
    memory_factory: Callable[..., Memory], db_url: str
) -> None:
    turns = longmemeval_turns()[:40]
    messages = [
        {"role": t["role"], "content": t["content"], "timestamp": T0 + timedelta(minutes=i)}
        for i, t in enumerate(turns)
    ]
    got = []
    for cpu_workers in (0, 2):
        mem = memory_factory(db_url, ingest={"cpu_workers": cpu_workers})
        user = f"workers-{cpu_workers}"
        mem.add(messages, user_id=user, session_id="s1")
        got.append(_notes(mem, user))
    assert got[0] and got[0] == got[1]


@pytest.mark.parametrize(
    ("setting", "device", "cores", "expected"),
    [
        (None, "cpu", 16, 0),  # on a CPU the cores embed
        (None, "cuda", 16, 12),
        (None, "cuda:1", 64, 12),
        (None, "cuda", 4, 2),
        (None, "cuda", 2, 0),
        (None, "cuda", None, 0),
        (3, "cpu", 2, 3),  # a set value always wins
        (0, "cuda", 16, 0),
    ],
)
def test_the_default_worker_count(
    setting: int | None, device: str, cores: int | None, expected: int
) -> None:
    from memsvc.config import IngestSettings
    from memsvc.runtime import attribute_workers

    assert attribute_workers(IngestSettings(cpu_workers=setting), device, cores) == expected
