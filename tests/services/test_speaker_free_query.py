"""Speaker-free queries (`recall.speaker_free_query`): the dense stages embed a question
without the names of people who speak in the partition. A speaker's short turns ("Melanie:
Love that for you!") sit close to any question that names her, so with her name in the query
vector they outrank what she said about the thing asked. Real model, SQLite and PostgreSQL;
the index that answers "is this name a speaker here?" is migration 0012."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from memsvc import Memory
from memsvc.config import DatabaseSettings
from memsvc.db.engine import make_engine
from memsvc.db.migrate import current, downgrade, upgrade
from memsvc.services import query
from memsvc.services.scope import Scope
from memsvc.text.names import named_people, without_names
from memsvc.text.stopwords import STOPWORDS

T0 = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
TURNS = [
    ("Caroline", "I started volunteering at the animal shelter on Saturdays."),
    ("Melanie", "That's so sweet!"),
    ("Caroline", "The dogs there are so happy to see people."),
    ("Melanie", "Love that for you!"),
    ("Caroline", "How have you been holding up lately?"),
    (
        "Melanie",
        "Work has been hectic, so every evening I take an hour for myself: a long walk, a "
        "novel, or practising the cello, and then I feel calm again.",
    ),
    ("Caroline", "That sounds like a good routine."),
    ("Melanie", "Yeah, totally agree."),
    ("Caroline", "Talk soon, take care!"),
    ("Melanie", "Thanks, see you soon!"),
]
ANSWER = "Melanie: Work has been hectic"


def _messages() -> list[dict[str, Any]]:
    return [
        {"role": "user", "name": who, "content": text, "timestamp": T0 + timedelta(minutes=i)}
        for i, (who, text) in enumerate(TURNS)
    ]


def _view(mem: Memory, **recall: Any) -> Memory:
    cfg = mem.settings.recall.model_copy(update=recall)
    return mem.search_view(mem.settings.model_copy(update={"recall": cfg}))


def _top(mem: Memory, question: str, **recall: Any) -> list[str]:
    hits = _view(mem, **recall).search(question, user_id="u", top_k=3, reinforce=False)
    return [h.memory for h in hits.results]


@pytest.mark.parametrize(
    "question", ["What instrument does Melanie play?", "What does Melanie do to relax?"]
)
def test_what_she_said_outranks_her_small_talk(mem: Memory, question: str) -> None:
    mem.add(_messages(), user_id="u", session_id="s1")
    top = _top(mem, question)
    assert top[0].startswith(ANSWER), top


def test_the_name_in_the_query_vector_is_what_fails(mem: Memory) -> None:
    """The same store and question with the setting off: her small talk comes first."""
    mem.add(_messages(), user_id="u", session_id="s1")
    top = _top(mem, "What instrument does Melanie play?", speaker_free_query=False)
    assert not top[0].startswith(ANSWER) and all(m.startswith("Melanie: ") for m in top), top


def speaker_free(session: Any, partition: str, text: str) -> str:
    return query.speaker_free(session, partition, text, named_people(text))


def test_only_speakers_leave_the_dense_query(mem: Memory) -> None:
    mem.add(_messages(), user_id="u", session_id="s1")
    partition = Scope(namespace="default", user_id="u").partition
    with mem._rt.db.read() as s:
        # Paris is named but speaks nowhere: a place, a book, a pet keep their name.
        visit = speaker_free(s, partition, "Did Melanie ever visit Paris?")
        assert visit == "Did ever visit Paris?"
        assert speaker_free(s, partition, "What is Caroline's favourite dog?") == (
            "What is favourite dog?"
        )
        # Another partition's speakers are not this one's (nobody speaks in "other").
        other = Scope(namespace="default", user_id="other").partition
        assert speaker_free(s, other, "What does Melanie play?") == "What does Melanie play?"
        # A question that is only a name stays whole: nothing else would be embedded.
        assert speaker_free(s, partition, "And Melanie?") == "And Melanie?"


def test_names_stay_in_full_text_and_boost(mem: Memory) -> None:
    """Who said it still counts: "What did Caroline say about dogs?" finds her turn, not
    Melanie's reply, though the dense query no longer names her."""
    mem.add(_messages(), user_id="u", session_id="s1")
    hits = mem.search("What did Caroline say about the dogs?", user_id="u", top_k=2).results
    assert hits[0].memory.startswith("Caroline: The dogs there"), [h.memory for h in hits]


_NAME = st.sampled_from(["Ada", "Ben", "Caroline", "Melanie"])  # named_people keeps 4
_WORD = st.sampled_from(["did", "play", "cello", "last", "week", "the", "garden", "and"])


@given(st.lists(st.one_of(_WORD, _NAME, _NAME.map(lambda n: n + "'s")), max_size=12))
def test_without_names_drops_the_names_and_nothing_else(words: list[str]) -> None:
    text = " ".join(["What", *words, "?"])
    names = named_people(text)
    assert set(names) == {w.removesuffix("'s") for w in words if w[0].isupper()}
    kept = [w for w in text.split() if w.removesuffix("'s") not in names]
    if any(w.lower() not in STOPWORDS for w in kept[:-1]):
        assert without_names(text, names) == " ".join(kept)
    else:  # nothing but stopwords would be left: the text is embedded whole
        assert without_names(text, names) == text


def test_migration_adds_the_speaker_index(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(DatabaseSettings(url=db_url))

    def indexes() -> set[str]:
        return {str(i["name"]) for i in sa.inspect(engine).get_indexes("episodes")}

    try:
        upgrade(engine)
        assert str(current(engine)) >= "0012" and "ix_episodes_partition_name" in indexes()
        downgrade(engine, "0011")
        assert "ix_episodes_partition_name" not in indexes()
        upgrade(engine)
        assert "ix_episodes_partition_name" in indexes()
    finally:
        engine.dispose()
