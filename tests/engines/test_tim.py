"""Offline Think-in-Memory decisions."""

from __future__ import annotations

from memsvc.ops import Existing, Incoming, decide, is_filler

RES_PARIS = (("residence", "paris"),)
RES_BERLIN = (("residence", "berlin"),)


def _new(text: str, slots: tuple[tuple[str, str], ...] = (), h: str = "new") -> Incoming:
    return Incoming(text, h, "user", "turn", slots)


def test_filler_is_noop() -> None:
    for text in ["ok thanks!", "Thank you so much!!", "👍", "lol", "sure, sounds good."]:
        assert is_filler(text), text
        assert decide(_new(text), []).op == "NOOP"
    for text in ["ok, my flight is at 9", "thanks for the Lisbon tips"]:
        assert not is_filler(text), text


def test_exact_duplicate_merges() -> None:
    d = decide(_new("I like tea", h="h1"), [Existing(7, "h1", 0.99, "user", "turn")])
    assert (d.op, d.target) == ("MERGE", 7)


def test_new_slot_value_supersedes_even_when_not_similar() -> None:
    d = decide(
        _new("I moved to Berlin", RES_BERLIN), [Existing(3, "x", 0.2, "user", "turn", RES_PARIS)]
    )
    assert (d.op, d.target, d.superseded) == ("SUPERSEDE", 3, (3,))


def test_superseded_notes_are_not_superseded_again() -> None:
    old = Existing(3, "x", 0.6, "user", "turn", RES_PARIS, current=False)
    assert decide(_new("I moved to Berlin", RES_BERLIN), [old]).op == "ADD"


def test_near_duplicate_merges_only_above_threshold_and_same_role() -> None:
    close = Existing(5, "x", 0.96, "user", "turn")
    assert decide(_new("I love hiking in the Alps"), [close]).op == "MERGE"
    assert (
        decide(_new("I love hiking in the Alps"), [Existing(5, "x", 0.9, "user", "turn")]).op
        == "ADD"
    )
    assert (
        decide(_new("I love hiking in the Alps"), [Existing(5, "x", 0.99, "assistant", "turn")]).op
        == "ADD"
    )


def test_restating_a_known_value_merges() -> None:
    e = Existing(9, "x", 0.85, "user", "turn", RES_BERLIN)
    assert decide(_new("Berlin is where I live now", RES_BERLIN), [e]).op == "MERGE"
