"""Precision of ``parse_time_range`` on a hand-labelled list: half the sentences name a time,
half do not (several of those are traps: "May I", "march", "24/7", "3/4 cup", "Sunday brunch",
"in 2000 steps", weekdays as habits). No false positive is allowed; recall is reported."""

from __future__ import annotations

from datetime import datetime

from memsvc.text.timeexpr import is_temporal_question, parse_time_range

AS_OF = datetime(2023, 5, 24, 15, 0)

WITH_TIME = [
    "What did I buy two weeks ago?",
    "Where did I have dinner last Friday?",
    "How many books did I read last month?",
    "What was the name of the cafe I visited yesterday?",
    "Which concert did I go to in March?",
    "What did I tell you about my trip on May 2nd?",
    "A few days ago I mentioned a park, which one?",
    "What did I cook over the weekend?",
    "How much did I spend in the past three months?",
    "What gift did I buy for Valentine's Day?",
    "What was I doing this morning?",
    "Who did I meet at the conference in 2022?",
    "What did I plant earlier this year?",
    "Which trail did I hike last summer?",
    "On 5/20 I went somewhere, where was it?",
    "What did we talk about on 2023-04-01?",
    "Since January, how many times did I go to the gym?",
    "What movie did I watch on Tuesday?",
    "How far did I run 10 days ago?",
    "What did I eat for Thanksgiving?",
]
WITHOUT_TIME = [
    "May I ask you for some restaurant recommendations?",
    "We should march on and finish the project.",
    "The store is open 24/7, right?",
    "Add 3/4 cup of sugar and 1/2 teaspoon of salt.",
    "Any ideas for a Sunday brunch menu?",
    "I walked in 2000 steps increments.",
    "What time do I wake up on Tuesdays and Thursdays?",
    "I go to yoga every Monday.",
    "What is my favorite color?",
    "How long have I had my cat, Luna?",
    "Where do I currently keep my old sneakers?",
    "I rated the movie 8/10.",
    "Can you help me plan my next trip?",
    "What should I do before I move?",
    "I recently started a new hobby, can you suggest more?",
    "How many days did it take to drive across the country?",
    "Our team is 5-2 this season.",
    "What's the best way to store fresh herbs?",
    "Tell me about the fall of the Roman Empire.",
    "August is my friend's name, and June is my sister's.",
]


def test_no_false_positives() -> None:
    false_positives = [q for q in WITHOUT_TIME if parse_time_range(q, AS_OF) is not None]
    assert false_positives == []


def test_recall_on_labelled_time_expressions() -> None:
    missed = [q for q in WITH_TIME if parse_time_range(q, AS_OF) is None]
    assert missed == []


def test_every_resolved_range_is_in_the_past() -> None:
    for q in WITH_TIME:
        r = parse_time_range(q, AS_OF)
        assert r is not None and r.start < r.end <= datetime(2023, 5, 25)


def test_temporal_questions() -> None:
    temporal = [
        "When did I start learning Spanish?",
        "How many days passed between my two trips?",
        "How many weeks ago did I attend the festival?",
        "Which happened first, the wedding or the move?",
        "What is the order of the three trips I took?",
        "In what order did I read those books?",
        "What date did I adopt Luna?",
        "How long ago did I buy my bike?",
        "Who graduated first, Emma or Rachel?",
        "What did I buy last week?",
    ]
    not_temporal = [
        "What is my favorite color?",
        "Where do I take yoga classes?",
        "Can you recommend a good book?",
        "What should I order at the restaurant?",
        "How many bikes do I own?",
        "What do I do when I'm stressed?",
    ]
    assert [q for q in temporal if not is_temporal_question(q)] == []
    assert [q for q in not_temporal if is_temporal_question(q)] == []
