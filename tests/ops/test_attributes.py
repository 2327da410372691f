"""Offline attributes (issue 14, item 6): role words are no keywords or tags, a speaker label
left in the text does not double the fact's subject, moves into a home are residences."""

from __future__ import annotations

import pytest

from memsvc.text.attributes import offline_attributes


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("User: I moved into a flat in Kreuzberg last month.", "user"),
        ("user: my assistant said the user should rest", "user"),
        ("The assistant recommended a hotel for the user in Rome.", "assistant"),
        ("Assistant: Users often ask the assistant about visas.", "assistant"),
    ],
)
def test_role_words_are_not_keywords_or_tags(text: str, role: str) -> None:
    attrs = offline_attributes(text, role)
    words = {w for phrase in attrs.keywords + attrs.tags for w in phrase.lower().split()}
    assert not words & {"user", "users", "assistant", "assistants"}, attrs
    assert attrs.keywords  # the content words are still there


def test_a_speaker_label_does_not_double_the_subject() -> None:
    facts = offline_attributes("User: I moved into a flat in Kreuzberg last month.", "user").facts
    assert facts == ["User moved into a flat in Kreuzberg last month."]
    assert not any(f.lower().startswith("user: ") for f in facts)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("I moved into a flat in Kreuzberg last month.", "kreuzberg"),
        ("We've moved to a new house near Hampstead.", "hampstead"),
        ("I just relocated into a small studio in Brooklyn", "brooklyn"),
        ("I moved to Lisbon in May.", "lisbon"),
        ("I've been living in Austin for three years.", "austin"),
    ],
)
def test_moves_and_residences_are_recognised(text: str, place: str) -> None:
    assert ["residence", place] in offline_attributes(text, "user").slots


@pytest.mark.parametrize(
    "text",
    [
        "I moved the flat screen into the living room.",
        "My sister moved into a flat in Kreuzberg.",
        "I didn't move into the flat in Kreuzberg after all.",
    ],
)
def test_other_moves_are_not_my_residence(text: str) -> None:
    assert not [s for s in offline_attributes(text, "user").slots if s[0] == "residence"]
