"""Named speakers: a message's `name` (as in OpenAI chat messages), conversations between
people and groups, names as part of what a memory is found by. Real model, real SQLite and
PostgreSQL, real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from sqlalchemy import select

from memsvc import Memory
from memsvc.api.app import create_app
from memsvc.client import MemoryClient
from memsvc.config import Settings
from memsvc.db.models import Episode
from memsvc.embed import CachedEmbedder
from memsvc.errors import InvalidInput
from memsvc.schemas import Message
from memsvc.services.ingest import make_episodes
from memsvc.services.scope import Scope
from memsvc.services.units import make_units
from tests.conftest import LiveServer, make_settings

T0 = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def chat(*turns: tuple[str, str]) -> list[dict[str, Any]]:
    """Two people talking: both are users, each under a name."""
    return [
        {"role": "user", "name": who, "content": text, "timestamp": T0 + timedelta(minutes=i)}
        for i, (who, text) in enumerate(turns)
    ]


CONVERSATION = chat(
    ("Caroline", "I spent the whole weekend researching adoption agencies."),
    ("Melanie", "I spent the weekend researching pottery classes for the kids."),
    ("Caroline", "The agencies that support LGBTQ parents looked great."),
    ("Melanie", "I went camping with my family in the mountains."),
)


def test_name_is_validated_like_other_short_strings() -> None:
    assert Message(role="user", content="hi", name="  Caroline ").name == "Caroline"
    assert Message(role="user", content="hi").name is None
    for bad in ["", "x" * 65, "Caro\nline", "tab\there", "\x7f"]:
        with pytest.raises(ValueError):
            Message(role="user", content="hi", name=bad)


def test_a_conversation_between_two_people(mem: Memory) -> None:
    res = mem.add(CONVERSATION, user_id="u", session_id="s1")
    # Two people (both users, different names): one note per message, each under its name.
    notes = [mem.get(e.id or "", user_id="u") for e in res.results]
    assert [n.memory for n in notes] == [f"{t['name']}: {t['content']}" for t in CONVERSATION]
    assert all(n.role == "user" and n.kind == "turn" for n in notes)
    # The episodes keep the speaker's name next to the verbatim content.
    with mem._rt.db.read() as s:
        rows = s.scalars(select(Episode).where(Episode.id.in_(res.episode_ids))).all()
    by_id = {e.id: e for e in rows}
    eps = [by_id[i] for i in res.episode_ids]
    assert [(e.name, e.content) for e in eps] == [(t["name"], t["content"]) for t in CONVERSATION]


def test_the_name_is_part_of_what_a_memory_is_found_by(mem: Memory) -> None:
    mem.add(CONVERSATION, user_id="u", session_id="s1")
    # Both researched something over the weekend; the name decides whose turn comes first.
    for who, other in (("Caroline", "Melanie"), ("Melanie", "Caroline")):
        hits = mem.search(f"What did {who} research?", user_id="u", top_k=4).results
        assert hits[0].memory.startswith(f"{who}: "), [h.memory for h in hits]
        assert not hits[0].memory.startswith(f"{other}: ")
    # Lexical search alone sees the name too (the full-text index reads the same text).
    lex_only = mem.search_view(
        mem.settings.model_copy(
            update={"recall": mem.settings.recall.model_copy(update={"lexical_weight": 50.0})}
        )
    )
    hits = lex_only.search("Melanie camping", user_id="u", top_k=2).results
    assert hits[0].memory == "Melanie: I went camping with my family in the mountains."


def test_round_grouping_with_names(settings: Settings, embedder: CachedEmbedder) -> None:
    settings.ingest.granularity = "round"
    with Memory(settings, embedder=embedder) as m:
        turns = chat(
            ("Ada", "I finally adopted a dog named Biscuit last week."),
            ("Ada", "He is a two year old beagle."),
            ("Ben", "That is wonderful news, congratulations!"),
        )
        turns.append({"role": "assistant", "content": "Shall I note Biscuit's vet dates?"})
        res = m.add(turns, user_id="g", session_id="s", infer=False)
        notes = [m.get(e.id or "", user_id="g") for e in res.results]
    # One person's consecutive messages are one round; another person starts a new one, and
    # an assistant reply joins the user turn before it, named or not.
    assert [n.memory for n in notes] == [
        "Ada: I finally adopted a dog named Biscuit last week.\nAda: He is a two year old beagle.",
        "Ben: That is wonderful news, congratulations!\n"
        "assistant: Shall I note Biscuit's vet dates?",
    ]
    assert [len(n.episode_ids) for n in notes] == [2, 2]


def test_names_off_keeps_content_verbatim(tmp_path: Path, embedder: CachedEmbedder) -> None:
    settings = make_settings(tmp_path, ingest={"speaker_names": False, "granularity": "turn"})
    with Memory(settings, embedder=embedder) as m:
        res = m.add(CONVERSATION[:1], user_id="u", infer=False)
        assert m.get(res.results[0].id or "", user_id="u").memory == CONVERSATION[0]["content"]


def test_names_over_http_and_in_process_agree(tmp_path: Path, embedder: CachedEmbedder) -> None:
    query = "What did Caroline research?"
    with Memory(make_settings(tmp_path / "local"), embedder=embedder) as m:
        m.add(CONVERSATION, user_id="u")
        local = [h.memory for h in m.search(query, user_id="u", top_k=4).results]
        with pytest.raises(InvalidInput):
            m.add([{"role": "user", "name": "a\x00b", "content": "x"}], user_id="u")
    app = create_app(make_settings(tmp_path / "http"), embedder=embedder)
    with LiveServer(app) as srv, MemoryClient(srv.url) as client:
        client.add(CONVERSATION, user_id="u")
        remote = [h.memory for h in client.search(query, user_id="u", top_k=4).results]
        bad = httpx.post(
            f"{srv.url}/v1/memories",
            json={"user_id": "u", "messages": [{"role": "user", "name": "", "content": "x"}]},
        )
        spec = httpx.get(f"{srv.url}/openapi.json").json()
    assert remote == local and local[0].startswith("Caroline: ")
    assert bad.status_code == 422 and "name" in bad.text
    name = spec["components"]["schemas"]["Message"]["properties"]["name"]
    assert name["anyOf"][0].items() >= {("maxLength", 64), ("minLength", 1)}


def test_named_people_in_a_question() -> None:
    from memsvc.text.names import named_people

    assert named_people("What did Caroline research?") == ["Caroline"]
    assert named_people("When did Melanie's kids go camping?") == ["Melanie"]
    assert named_people("What do Ada and Ben like?") == ["Ada", "Ben"]
    # First words, "I", acronyms and stopwords are not people.
    assert named_people("What did I buy? LGBTQ events. Then we left.") == []


def test_speaker_boost_prefers_what_the_named_person_said(
    settings: Settings, embedder: CachedEmbedder
) -> None:
    # Contextual keys off: with them Caroline's short reply carries Melanie's line in its key
    # and is found without the boost; here the boost alone is under test.
    ingest = settings.ingest.model_copy(update={"context_keys": False})
    with Memory(settings.model_copy(update={"ingest": ingest}), embedder=embedder) as mem:
        _speaker_boost(mem)


def test_a_short_reply_is_found_by_what_it_answers(mem: Memory) -> None:
    """Contextual keys (default): the reply of at most 30 words is indexed with the turn
    before it, so the question's words reach it; a long turn is indexed alone."""
    mem.add(
        chat(
            ("Melanie", "What did you research for your project last month?"),
            ("Caroline", "Adoption agencies, mostly."),
            ("Melanie", "I went to the beach with the kids " + "and we swam a lot " * 5),
            ("Caroline", "Nice!"),
        ),
        user_id="u",
        session_id="s1",
    )
    hits = mem.search("What did Caroline research?", user_id="u", top_k=1).results
    assert hits[0].memory == "Caroline: Adoption agencies, mostly."
    rows = {n.memory: n for n in mem.get_all(user_id="u").results}
    assert rows["Caroline: Adoption agencies, mostly."].context.startswith("After: Melanie: What")
    long_turn = next(m for m in rows if m.startswith("Melanie: I went"))
    assert not rows[long_turn].context.startswith("After:")  # over 30 words: its own key
    assert rows["Caroline: Nice!"].context.startswith("After: Melanie: I went")


def _speaker_boost(mem: Memory) -> None:
    mem.add(
        chat(
            ("Melanie", "Caroline, I researched pottery classes all weekend!"),
            ("Caroline", "I looked into adoption agencies, that was my project."),
        ),
        user_id="u",
        session_id="s1",
    )
    query = "What did Caroline research?"
    off = mem.settings.recall.model_copy(update={"speaker_boost": 0.0})
    plain = mem.search_view(mem.settings.model_copy(update={"recall": off}))
    plain = plain.search(query, user_id="u", top_k=2).results
    # Without the boost the turn that *mentions* Caroline and says "researched" wins.
    assert plain[0].memory.startswith("Melanie: ")
    recall = mem.settings.recall.model_copy(update={"speaker_boost": 0.5})
    boosted = mem.search_view(mem.settings.model_copy(update={"recall": recall}))
    hits = boosted.search(query, user_id="u", top_k=2, explain=True).results
    assert hits[0].memory.startswith("Caroline: ")
    assert hits[0].explain is not None and hits[0].explain["speaker"] == 0.5
    assert hits[1].explain is not None and "speaker" not in hits[1].explain


def test_named_rounds_pair_a_message_with_the_reply(
    settings: Settings, embedder: CachedEmbedder
) -> None:
    settings.ingest.named_rounds = True
    with Memory(settings, embedder=embedder) as m:
        turns = chat(
            ("Ada", "I finally adopted a dog named Biscuit last week."),
            ("Ada", "He is a two year old beagle."),
            ("Ben", "That is wonderful news, congratulations!"),
            ("Ben", "What does he like to eat?"),
            ("Ada", "Chicken, mostly."),
            ("Cy", "Hi both!"),
        )
        res = m.add(turns, user_id="g", session_id="s", infer=False)
        notes = [m.get(e.id or "", user_id="g") for e in res.results]
    # A person's messages and the next person's reply make one round; whoever speaks next
    # starts the next one (a third person too).
    assert [n.episode_ids for n in notes] == [res.episode_ids[:4], res.episode_ids[4:]]
    assert notes[1].memory == "Ada: Chicken, mostly.\nCy: Hi both!"
    assert all(n.kind == "round" for n in notes)


SPEAKERS = st.sampled_from(
    [("user", "Ada"), ("user", "Ben"), ("user", None), ("assistant", None), ("agent", "Bot")]
)


@settings_(max_examples=200, deadline=None)
@given(who=st.lists(SPEAKERS, min_size=1, max_size=30), replies=st.booleans())
def test_rounds_cover_every_message_once_in_order(
    who: list[tuple[str, str | None]], replies: bool
) -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    items = [
        (role, f"message {i}", t + timedelta(seconds=i), name) for i, (role, name) in enumerate(who)
    ]
    episodes = make_episodes(Scope(namespace="n", user_id="u"), items, {}, t)
    units = make_units(episodes, "turn", "round", True, replies=replies)
    # No message lost, none twice, order kept; a round holds at most two people besides the
    # assistant (whose replies join the turn they answer).
    assert [e for u in units for e in u.episode_ids] == [e.id for e in episodes]
    by_id = {e.id: (e.role, e.name) for e in episodes}
    for u in units:
        assert len({by_id[e] for e in u.episode_ids if by_id[e][0] != "assistant"}) <= 2
    if not replies:  # without replies, two named people never share a round
        for u in units:
            names = {by_id[e][1] for e in u.episode_ids} - {None}
            assert len(names) <= 1
