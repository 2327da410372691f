from __future__ import annotations

import hashlib

import numpy as np
import pytest

from memsvc.text.keyphrases import (
    extract_keyphrases,
    extract_keyphrases_yake,
    keyphrases,
    rerank_keyphrases,
)
from memsvc.text.tags import TOPICS, make_tags


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "I earned $420 at the Downtown Farmers Market on my most recent visit.",
            ["Downtown Farmers Market", "$420", "visit"],
        ),
        (
            "I just finished reading 'The Nightingale' by Kristin Hannah, and I loved it.",
            ["The Nightingale", "Kristin Hannah"],
        ),
        (
            "My highest score in Ticket to Ride is 132 points!",
            ["Ticket to Ride", "highest score", "132 points"],
        ),
        ("I upgraded my laptop to 16GB of RAM last week.", ["16GB of RAM", "laptop"]),
        (
            "We went hiking in Yosemite National Park and camped near Half Dome for three nights.",
            ["Yosemite National Park", "Half Dome", "three nights", "hiking"],
        ),
        ("New York is great. I visited New York twice this year.", ["New York"]),
        ("Hello! Thanks so much, that's really helpful.", []),
        ("", []),
        ("   \n ", []),
    ],
)
def test_extract_keyphrases(text: str, expected: list[str]) -> None:
    assert extract_keyphrases(text) == expected


def test_keyphrases_are_informative_deduplicated_and_capped() -> None:
    text = (
        "I've had my cat, Luna, for about 9 months now. I set up her cat tree and she loves "
        "climbing it. Luna also loves her cat trees and her toys. The vet said Luna is healthy."
    )
    kps = extract_keyphrases(text, k=4)
    assert kps[:2] == ["cat tree", "Luna"]
    assert len(kps) <= 4
    # "cat trees" is a plural variant of "cat tree"; "cat" alone is inside "cat tree".
    lowered = [k.lower() for k in kps]
    assert "cat trees" not in lowered and "cat" not in lowered
    assert extract_keyphrases(text, k=0) == []
    assert len(extract_keyphrases(text, k=1)) == 1


def test_lowercase_unless_proper() -> None:
    kps = extract_keyphrases("Tomatoes are growing well. I water the tomatoes in Paris daily.")
    assert kps == ["Paris", "tomatoes", "growing", "water"]  # no POS tagger: verbs get in


def test_non_english_passes_through() -> None:
    assert extract_keyphrases("我喜欢猫。") == ["我喜欢猫"]
    assert extract_keyphrases("Ich wohne in Berlin.")  # some candidates, no crash


@pytest.mark.parametrize(
    ("text", "keyphrases", "expected"),
    [
        (
            "I've had my cat, Luna, for 9 months. I set up her cat tree.",
            ["cat tree", "Luna"],
            ["pets", "tree", "luna"],
        ),
        (
            "I earned $420 at the Downtown Farmers Market.",
            ["Downtown Farmers Market", "$420"],
            ["finance", "shopping", "downtown-farmers-market"],
        ),
        (
            "I just finished reading 'The Nightingale' by Kristin Hannah.",
            ["The Nightingale", "Kristin Hannah"],
            ["books", "nightingale", "kristin-hannah"],
        ),
        ("Can I book a flight to Rome?", ["flight", "Rome"], ["travel", "flight", "rome"]),
        ("Does this work?", [], []),  # "work" alone is an ambiguous trigger
        ("", ["Luna"], ["luna"]),
    ],
)
def test_make_tags(text: str, keyphrases: list[str], expected: list[str]) -> None:
    assert make_tags(text, keyphrases) == expected


def test_make_tags_caps_and_lowercases() -> None:
    text = "I love hiking, camping and my dog. My mom and dad and my sister came to the concert."
    tags = make_tags(text, extract_keyphrases(text), k=3)
    assert len(tags) == 3 and all(t == t.lower() for t in tags)
    assert make_tags(text, ["x"], k=0) == []


def test_topic_lexicon_is_stemmed_and_broad() -> None:
    assert len(TOPICS) >= 25
    assert {"travel", "food", "health", "pets", "finance", "music", "technology"} <= set(TOPICS)
    assert "hike" in TOPICS["fitness"]  # "hike"/"hiking" stem


def _hash_embed(texts: list[str]) -> np.ndarray:
    """A deterministic bag-of-words embedding: each word hashed to one of 64 dimensions."""
    out = np.zeros((len(texts), 64))
    for i, t in enumerate(texts):
        for w in t.lower().split():
            out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 64] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1.0)


def test_rerank_without_diversity_is_relevance_order() -> None:
    text = "cat tree cat toys cat food"
    cands = ["cat tree", "dog park", "cat food", "garden"]
    assert rerank_keyphrases(text, cands, _hash_embed, k=2, diversity=0.0) == [
        "cat tree",
        "cat food",
    ]


def test_rerank_with_diversity_avoids_near_duplicates() -> None:
    text = "cat tree cat tree cat toys garden"
    cands = ["cat tree", "cat tree toys", "garden"]
    low = rerank_keyphrases(text, cands, _hash_embed, k=2, diversity=0.0)
    high = rerank_keyphrases(text, cands, _hash_embed, k=2, diversity=0.9)
    assert low[0] == high[0] == "cat tree"
    assert low[1] == "cat tree toys" and high[1] == "garden"


def test_rerank_edge_cases_and_validation() -> None:
    assert rerank_keyphrases("x", [], _hash_embed) == []
    assert rerank_keyphrases("x", ["a", "a", "b"], _hash_embed, k=5) == ["a", "b"]  # deduped
    with pytest.raises(ValueError):
        rerank_keyphrases("x", ["a"], _hash_embed, diversity=2.0)
    with pytest.raises(ValueError):
        rerank_keyphrases("x", ["a", "b"], lambda ts: np.ones((1, 4)))


_ROUND = (
    "User: I adopted a rescue cat named Luna last month and bought her a cat tree from Petco. "
    "My vet, Dr. Smith, said Luna needs a microchip.\nAssistant: That sounds great!"
)


def test_keyphrases_by_method() -> None:
    assert keyphrases(_ROUND, 5) == extract_keyphrases(_ROUND, 5)
    assert keyphrases(_ROUND, 5, "builtin") == extract_keyphrases(_ROUND, 5)
    assert keyphrases(_ROUND, 5, "yake") == extract_keyphrases_yake(_ROUND, 5)
    with pytest.raises(ValueError, match="unknown keyphrase method"):
        keyphrases(_ROUND, 5, "rake")  # type: ignore[arg-type]


def test_yake_keyphrases_follow_the_builtin_output_rules() -> None:
    out = extract_keyphrases_yake(_ROUND, 8)
    assert 0 < len(out) <= 8
    assert out == extract_keyphrases_yake(_ROUND, 8)  # deterministic
    assert not any(w in {"user", "assistant"} for p in out for w in p.lower().split())
    assert any("cat" in p for p in out)
    assert all(p == p.lower() or all(w[:1].isupper() for w in p.split()) for p in out)
    assert extract_keyphrases_yake(_ROUND, 2) == out[:2]
    assert extract_keyphrases_yake("", 5) == []
    assert extract_keyphrases_yake("ok thanks", 5) == []
    assert extract_keyphrases_yake(_ROUND, 0) == []
