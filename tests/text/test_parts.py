"""Sentence-level parts of a note (memsvc.text.parts)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from memsvc.text.parts import key_parts

ROUND_USER = (
    "I'm trying to get back on track with my fitness goals. Can you give me some tips? "
    "By the way, I've been wearing my Fitbit Versa 3 non-stop since I got it. Thanks!"
)


def test_sentences_become_parts_and_short_ones_join_a_neighbour() -> None:
    parts = key_parts(ROUND_USER, max_parts=16)
    assert parts == [
        "I'm trying to get back on track with my fitness goals.",
        "Can you give me some tips?",
        "By the way, I've been wearing my Fitbit Versa 3 non-stop since I got it. Thanks!",
    ]


def test_a_note_that_is_one_sentence_needs_no_parts() -> None:
    one = "I adopted a cat named Luna."
    assert key_parts(one, max_parts=8, whole=one) == []
    # ... but the user's one sentence of a round is a part: the round also holds the reply.
    assert key_parts("I adopted a cat named Luna.", max_parts=8, whole="user: ...") == [
        "I adopted a cat named Luna."
    ]
    assert key_parts("Ok.", max_parts=8) == []
    assert key_parts(ROUND_USER, max_parts=0) == []


def test_the_longest_parts_are_kept_in_text_order() -> None:
    text = " ".join(f"Sentence number {i} is {'very ' * (i % 5)}long indeed." for i in range(30))
    parts = key_parts(text, max_parts=5)
    assert len(parts) == 5
    assert all("very very very very" in p for p in parts)
    assert parts == sorted(parts, key=text.index)


@given(st.text(max_size=600), st.integers(0, 20))
def test_parts_are_bounded_non_blank_pieces_of_the_text(text: str, max_parts: int) -> None:
    parts = key_parts(text, max_parts=max_parts)
    assert len(parts) <= max_parts
    for p in parts:
        assert p.strip()
        assert all(w in text for w in p.split())
