from __future__ import annotations

import pytest

from memsvc.text._person import conjugate_3sg, to_third_person
from memsvc.text.facts import extract_facts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I moved to Berlin last month.", ["User moved to Berlin last month."]),
        ("I love hiking in the Alps", ["User loves hiking in the Alps."]),
        (
            "By the way, I earned $420 at the Downtown Farmers Market on my most recent visit.",
            ["User earned $420 at the Downtown Farmers Market on their most recent visit."],
        ),
        (
            "I've been crushing it in Ticket to Ride lately - my highest score so far is 124 "
            "points, and I'm eager to keep improving.",
            [
                "User has been crushing it in Ticket to Ride lately.",
                "User's highest score so far is 124 points, and User is eager to keep improving.",
            ],
        ),
        (
            "I'm thinking of setting up a loyalty program. Do you have any suggestions?",
            ["User is thinking of setting up a loyalty program."],
        ),
        (
            "My mom gave me a stand mixer for my birthday.",
            ["User's mom gave the user a stand mixer for their birthday."],
        ),
        (
            "We caught 9 largemouth bass at Lake Michigan on 7/22.",
            ["User and others caught 9 largemouth bass at Lake Michigan on 7/22."],
        ),
        ("Hi! How are you?", []),
        ("Thanks, that's really helpful!", []),
        ("Can you recommend a good book?", []),
        ("Sounds good, I'll check it out.", []),
        (
            "Could you give me some tips on packing? I want to travel light.",
            ["User wants to travel light."],
        ),
        ("Could you give me some tips on packing? Thanks so much!", []),
        ("ok", []),
        ("", []),
        ("我喜欢猫。", []),
    ],
)
def test_user_facts(text: str, expected: list[str]) -> None:
    assert extract_facts(text) == expected


def test_assistant_facts_name_the_assistant_and_skip_generic_advice() -> None:
    text = (
        "I recommend visiting Roscioli, a famous deli near the Vatican. You should try their "
        "carbonara. Here are some tips: make sure to book ahead."
    )
    assert extract_facts(text, role="assistant") == [
        "Assistant recommends visiting Roscioli, a famous deli near the Vatican."
    ]


def test_facts_are_ranked_by_informativeness_and_capped() -> None:
    text = (
        "I moved to Berlin. I love jazz. I have 2 cats named Tom and Jerry. "
        "I went to Paris on May 5. I bought a Honda Civic for $20,000."
    )
    facts = extract_facts(text, max_facts=3)
    assert facts == [
        "User went to Paris on May 5.",
        "User bought a Honda Civic for $20,000.",
        "User has 2 cats named Tom and Jerry.",
    ]
    assert extract_facts(text, max_facts=0) == []
    assert len(extract_facts(text, max_facts=10)) == 5


def test_duplicate_statements_are_kept_once() -> None:
    assert extract_facts("I live in Oslo now. I live in Oslo now.") == ["User lives in Oslo now."]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("I moved to Berlin.", "User moved to Berlin."),
        (
            "I really love it and I also enjoy biking.",
            "User really loves it and User also enjoys biking.",
        ),
        ("I'm tired.", "User is tired."),
        ("I am tired.", "User is tired."),
        ("I've got two dogs.", "User has got two dogs."),
        ("I'd love to go.", "User would love to go."),
        ("I'd been there.", "User had been there."),
        ("I'll call my sister.", "User will call their sister."),
        ("I don't eat meat.", "User doesn't eat meat."),
        ("I watch TV and I study.", "User watches TV and User studies."),
        ("I go there and I do it myself.", "User goes there and User does it themselves."),
        ("I can swim.", "User can swim."),
        ("I read a book.", "User read a book."),
        ("My car is red.", "User's car is red."),
        ("Thanks for helping me.", "Thanks for helping the user."),
        ("You told me about it.", "The assistant told the user about it."),
        ("We were late.", "User and others were late."),
    ],
)
def test_third_person_rewrite(sentence: str, expected: str) -> None:
    assert to_third_person(sentence) == expected


def test_third_person_for_the_assistant() -> None:
    assert (
        to_third_person("I think you'll love it, and your sister too.", "Assistant")
        == "Assistant thinks the user will love it, and the user's sister too."
    )


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        ("love", "loves"),
        ("watch", "watches"),
        ("study", "studies"),
        ("play", "plays"),
        ("go", "goes"),
        ("have", "has"),
        ("do", "does"),
        ("don't", "doesn't"),
        ("moved", "moved"),
        ("went", "went"),
        ("can", "can"),
        ("Love", "Loves"),
        ("3d", "3d"),
        ("fix", "fixes"),
        ("cry", "cries"),
        ("be", "is"),
        ("read", "read"),  # present = past: left alone
        ("put", "put"),
        ("bought", "bought"),
        ("blorped", "blorped"),  # unknown to the lexicon: -ed reads as past
    ],
)
def test_conjugate(verb: str, expected: str) -> None:
    assert conjugate_3sg(verb) == expected
