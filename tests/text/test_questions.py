from __future__ import annotations

import pytest

from memsvc.text.timeexpr import wants_latest


@pytest.mark.parametrize(
    "query",
    [
        "Where do I live now?",
        "What is my current job title?",
        "How many bikes do I currently own?",
        "What is my most recent personal best?",
        "Where did I go on my most recent family trip?",
        "How many tops have I bought from H&M so far?",
        "What do I drink these days?",
        "Do I still play tennis?",
        "What's my latest score?",
        "Where do I take yoga classes?",
        "How long have I had my cat, Luna?",
        "Is my mom using the same grocery list app as me?",
        "Do I have a spare screwdriver?",
    ],
)
def test_wants_latest(query: str) -> None:
    assert wants_latest(query)


@pytest.mark.parametrize(
    "query",
    [
        "Where did I go on vacation in 2019?",
        "What did I eat for dinner on Tuesday?",
        "Which book did I finish first?",
        "What was the name of the cafe you recommended?",
        "I have my doubts about that plan.",
        "This is my favorite song.",
        "How many days did I spend in Hawaii?",
    ],
)
def test_does_not_want_latest(query: str) -> None:
    assert not wants_latest(query)
