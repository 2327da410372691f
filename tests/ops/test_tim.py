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


def _old(text: str, sim: float, key: int = 1) -> Existing:
    return Existing(key, "old", sim, "user", "turn", content=text)


def test_a_changed_number_is_not_merged_however_close() -> None:
    # The case: cosine 0.955, and the 8 used to be merged into the 7.
    d = decide(_new("My son is 8 years old."), [_old("My son is 7 years old.", 0.955)])
    assert (d.op, d.superseded) == ("SUPERSEDE", (1,))


def test_codes_and_labelled_notes_stay_apart() -> None:
    for old, new in [
        (
            "Item 5 in the storage room has code lf0053k.",
            "Item 17 in the storage room has code lf0113k.",
        ),
        ("Note 12: I spent 3 hours on the garden.", "Note 13: I spent 5 hours on the garden."),
        ("Order #A1934 contains a blue lamp.", "Order #A1943 contains a blue lamp."),
    ]:
        assert decide(_new(new), [_old(old, 0.99)]).op == "ADD", new


def test_true_duplicates_still_merge_and_restatements_too() -> None:
    d = decide(_new("I am allergic to peanuts!"), [_old("I'm allergic to peanuts.", 0.96)])
    assert (d.op, d.target) == ("MERGE", 1)
    d = decide(_new("Madrid is where my sister lives."), [_old("My sister lives in Madrid.", 0.9)])
    assert d.op == "MERGE"
    # Same words but not close in embedding space: not the same sentence, no merge.
    assert (
        decide(_new("I am allergic to peanuts!"), [_old("I'm allergic to peanuts.", 0.6)]).op
        == "ADD"
    )


def test_updates_supersede_by_words_not_slots() -> None:
    for old, new in [
        ("I have two cats.", "We adopted another kitten, so now I have three cats."),
        ("I don't like coffee.", "I've started to like coffee."),
        ("I drive a Honda Civic.", "I sold the Civic and bought a Tesla."),
        ("My piano lesson is on Tuesdays.", "My piano lesson moved to Thursdays."),
        (
            "The price of my yoga class is 30 dollars.",
            "The price of my yoga class went up to 45 dollars.",
        ),
    ]:
        d = decide(_new(new), [_old(old, 0.7)])
        assert (d.op, d.target) == ("SUPERSEDE", 1), new


def test_similar_but_different_facts_are_added() -> None:
    for old, new in [
        ("My sister lives in Madrid.", "My brother lives in Madrid."),
        ("I spent 3 hours on painting today.", "I spent 3 hours on cooking today."),
        ("I like cats.", "I don't like dogs."),
        ("I visited Porto in April.", "I visited Lisbon in April."),
        ("The meeting on 12 May is in room B2.", "The meeting on 19 May is in room B2."),
        ("I live in Porto.", "I live in Porto, I work as a translator and have a dog called Rui."),
    ]:
        assert decide(_new(new), [_old(old, 0.9)]).op == "ADD", new


def test_other_roles_are_never_merged_or_superseded() -> None:
    other = Existing(1, "old", 0.99, "assistant", "turn", content="My son is 7 years old.")
    assert decide(_new("My son is 8 years old."), [other]).op == "ADD"


def test_slot_values_differing_in_punctuation_or_multi_valued_do_not_supersede() -> None:
    nurse = (("employer", "st. mary's hospital"),)
    e = Existing(2, "x", 0.99, "user", "turn", nurse, content="I work at St. Mary's Hospital.")
    d = decide(_new("I work at St Mary's Hospital.", (("employer", "st mary's hospital"),)), [e])
    assert d.op == "MERGE"
    peanuts = Existing(
        3, "x", 0.8, "user", "turn", (("allergy", "peanuts"),), content="I'm allergic to peanuts."
    )
    d = decide(_new("I'm allergic to shellfish.", (("allergy", "shellfish"),)), [peanuts])
    assert d.op == "ADD"
