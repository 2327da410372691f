"""Recall's neighbour stage (memsvc.services.neighbours): the message next to one of the best
single-message hits joins the results, never from another conversation or owner, never past
the query's filters, and never around a round (which already holds its reply)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from memsvc import Memory

T0 = datetime(2023, 5, 8, 13, 0, tzinfo=UTC)
QUERY = "Which breed of puppy did Melanie's sister Anna get?"
# Over 30 words (longer turns are keyed without the message before them,
# memsvc.config.IngestSettings.context_max_words), and sharing no word with the query.
ANSWER = (
    "Oh, it's a tiny golden one called Biscuit. He chews every shoe in the house, sleeps all "
    "afternoon, and she already signed him up for obedience classes at the community centre "
    "near her flat in town."
)


def _turns(*turns: tuple[str, str], day: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "name": who,
            "content": text,
            "timestamp": T0 + timedelta(days=day, minutes=i),
        }
        for i, (who, text) in enumerate(turns)
    ]


def _fill(mem: Memory, user: str = "u") -> None:
    mem.add(
        _turns(
            ("Caroline", "My brother is repainting his kitchen this month."),
            ("Melanie", "My sister Anna got a new puppy last week! Guess which breed."),
            ("Caroline", ANSWER),
            ("Melanie", "We are going to the lake on Sunday to swim."),
        ),
        user_id=user,
        session_id=f"{user}-s1",
        infer=False,
    )
    mem.add(
        _turns(
            ("Caroline", "I finished reading a novel about sailors."),
            ("Melanie", "I want to adopt a dog too, maybe a beagle puppy."),
            ("Caroline", "A beagle would love your garden."),
            day=3,
        ),
        user_id=user,
        session_id=f"{user}-s2",
        infer=False,
    )


@pytest.fixture
def open_mem(memory_factory: Callable[..., Memory], db_url: str) -> Callable[..., Memory]:
    """Memory over one store (SQLite and PostgreSQL), as a factory of recall settings."""

    def open_(**recall: Any) -> Memory:
        base = {"session_diversity": 0.0, "graph_hops": 0}
        return memory_factory(db_url, recall={**base, **recall})

    return open_


def _rank(hits: list[Any], text: str) -> int | None:
    return next((i for i, h in enumerate(hits) if text in h.memory), None)


def test_the_reply_next_to_a_hit_joins_and_rises(open_mem: Callable[..., Memory]) -> None:
    plain = open_mem(neighbour_weight=0.0)
    _fill(plain)
    _fill(plain, user="v")  # the same conversation under another owner
    before = plain.search(QUERY, user_id="u", top_k=4, explain=True).results
    plain.close()

    mem = open_mem(neighbour_weight=0.5)
    hits = mem.search(QUERY, user_id="u", top_k=4, explain=True).results
    assert all(h.user_id == "u" and h.session_id and h.session_id.startswith("u-") for h in hits)
    at = _rank(hits, ANSWER)
    assert at is not None, [h.memory for h in hits]
    answer = hits[at]
    assert (answer.explain or {}).get("neighbour", 0) > 0
    was = _rank(before, ANSWER)
    assert was is None or was > at  # it rose
    # The bonus comes from the message before it in its own conversation.
    question = _rank(hits, "Guess which breed")
    assert question is not None and question < at


def test_no_neighbour_past_the_filters_or_around_rounds(
    open_mem: Callable[..., Memory], tmp_path: Path
) -> None:
    mem = open_mem(neighbour_weight=0.5)
    _fill(mem)
    reply = next(n for n in mem.get_all(user_id="u").results if ANSWER in n.memory)
    mem.update(reply.id, status="forgotten", user_id="u")
    hits = mem.search(QUERY, user_id="u", top_k=7, explain=True).results
    assert _rank(hits, ANSWER) is None  # forgotten stays out, neighbour or not
    # A metadata filter the neighbour does not match keeps it out too.
    mem.add(
        _turns(("Caroline", "Anna's puppy breed is a corgi."), ("Melanie", "So cute!"), day=9),
        user_id="u",
        session_id="u-s3",
        metadata={"topic": "pets"},
        infer=False,
    )
    filtered = mem.search(QUERY, user_id="u", top_k=5, filters={"topic": "pets"}).results
    assert filtered and all(h.metadata.get("topic") == "pets" for h in filtered)


def test_rounds_get_no_neighbours(open_mem: Callable[..., Memory]) -> None:
    mem = open_mem(neighbour_weight=0.5)
    mem.add(
        [
            {"role": role, "content": text, "timestamp": T0 + timedelta(minutes=i)}
            for i, (role, text) in enumerate(
                [
                    ("user", "My sister got a puppy."),
                    ("assistant", "Lovely! Which breed?"),
                    ("user", "A golden one."),
                    ("assistant", "Great choice."),
                ]
            )
        ],
        user_id="r",
        session_id="r-s1",
        infer=False,
    )
    hits = mem.search("Which breed is the puppy?", user_id="r", top_k=5, explain=True).results
    assert hits and all(h.kind == "round" for h in hits)
    assert all("neighbour" not in (h.explain or {}) and h.via != "neighbour" for h in hits)


@pytest.mark.parametrize("mark", ["?", "\uff1f"])  # ASCII, and full-width as in Chinese
def test_the_answer_to_a_question_gains_more_than_other_neighbours(
    open_mem: Callable[..., Memory], mark: str
) -> None:
    """The message after a hit that asks something gains `answer_weight` of its relevance;
    after a hit that asks nothing, and before any hit, only `neighbour_weight`."""
    mem = open_mem(neighbour_weight=0.1, answer_weight=0.4)
    asked = "My sister Anna got a new puppy last week! Can you guess which breed" + mark
    told = "My sister Anna got a new puppy last week, a breed I had never heard of."
    for sid, seed in (("ask", asked), ("tell", told)):
        mem.add(
            _turns(
                ("Caroline", "My brother is repainting his kitchen this month."),
                ("Melanie", seed),
                ("Caroline", ANSWER),
            ),
            user_id="u",
            session_id=sid,
            infer=False,
        )
    hits = mem.search(QUERY, user_id="u", top_k=6, explain=True).results
    by = {(h.session_id, h.memory.split(": ", 1)[-1]): h.explain or {} for h in hits}
    assert len(by) == 6, [h.memory for h in hits]

    def before_smoothing(part: dict[str, float]) -> float:
        return part["relevance"] - part.get("neighbour", 0.0)

    for sid, seed, share in (("ask", asked, 0.4), ("tell", told, 0.1)):
        reply, question = by[(sid, ANSWER)], by[(sid, seed)]
        # The seed is the reply's best neighbour: the kitchen line scores far lower.
        assert reply["neighbour"] == pytest.approx(share * before_smoothing(question), abs=1e-5)
    first = by[("ask", "My brother is repainting his kitchen this month.")]
    assert first["neighbour"] <= 0.1 * before_smoothing(by[("ask", asked)]) + 1e-5
    assert by[("ask", ANSWER)]["score"] > by[("tell", ANSWER)]["score"]
