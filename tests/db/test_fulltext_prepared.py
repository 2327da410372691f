"""Full-text terms made before the write lock (`fulltext_terms.prepare`): the index holds
exactly the terms the triggers would have made, and the writes take them from there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from memsvc.db import fulltext_terms
from memsvc.db.fulltext_terms import Prepared, document_terms


@given(
    partition=st.sampled_from(["ns/u/a", "ns/u/b", "x"]),
    texts=st.lists(st.text(max_size=80), max_size=6),
)
def test_a_prepared_entry_is_what_the_function_makes_and_is_taken_once(
    partition: str, texts: list[str]
) -> None:
    prepared = Prepared()
    prepared.put(partition, texts)
    for text in dict.fromkeys(texts):
        assert prepared.take(partition, text) == document_terms(partition, text)
        assert prepared.take(partition, text) is None  # taken: the next write makes its own
    other = "ns/u/other"
    prepared.put(partition, texts)
    assert all(prepared.take(other, t) is None for t in texts)  # keyed by the partition too


def test_prepared_terms_are_bounded_oldest_first() -> None:
    prepared = Prepared(size=3)
    prepared.put("p", ["a", "b", "c", "d", "e"])
    assert len(prepared) == 3
    assert prepared.take("p", "a") is None and prepared.take("p", "b") is None
    assert prepared.take("p", "e") == document_terms("p", "e")


def test_an_add_indexes_its_notes_with_terms_made_before_its_write(
    memory_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[bool] = []
    original = fulltext_terms.PREPARED.take

    def spy(partition: str, text: str) -> str | None:
        found = original(partition, text)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(fulltext_terms.PREPARED, "take", spy)
    mem = memory_factory()
    turns = [
        {"role": "user", "content": "I adopted a greyhound called Luna last spring."},
        {"role": "assistant", "content": "Greyhounds are gentle. How is Luna settling in?"},
        {"role": "user", "content": "She sleeps all day on the sofa, like a cat."},
    ]
    mem.add(messages=turns, user_id="alice", wait=True)
    assert taken and all(taken), taken  # every inserted note's terms were ready
    with mem.runtime.db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT n.partition, n.search_text, f.terms FROM notes AS n "
                "JOIN notes_fts AS f ON f.rowid = n.pk"
            )
        ).all()
    assert rows
    for partition, search_text, terms in rows:
        assert terms == document_terms(partition, search_text)
    assert [h.memory for h in mem.search("greyhound Luna", user_id="alice").results]
