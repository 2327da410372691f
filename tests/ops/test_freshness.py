"""Recall's freshness stage: long turns that carry an update in one sentence are not
superseded at ingest, but a present-tense question finds the newer one first; the older
stays in the hits and `as_of` still finds it alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from memsvc import Memory
from memsvc.services.freshness import updates

T0 = datetime(2023, 8, 11, 21, tzinfo=UTC)
# LongMemEval knowledge-update record "How long have I had my cat, Luna?" (user turns, cut).
OLD = (
    "I've had Luna for about 6 months now, and I've been meaning to get her microchipped for "
    "a while. I've heard horror stories about pets getting lost, and I don't want to take any "
    "chances. I've already scheduled an appointment for next Friday to get it done."
)
NEW = (
    "I've had my cat, Luna, for about 9 months now, and I've been trying to keep her active "
    "and engaged. I've set up her cat tree, and she loves climbing up and down it. I've also "
    "been rotating her toys every week to keep things fresh for her."
)


def test_sentence_level_update_is_seen_and_unrelated_turns_are_not() -> None:
    assert updates(NEW, OLD)
    assert not updates(OLD, NEW.replace("9 months", "6 months"))
    other = "I've had my bike for about 9 months now, and I ride it to work every day."
    assert not updates(other, OLD)


# LongMemEval knowledge-update record 7401057b, its two evidence turns verbatim: without the
# freshness stage the older one ranks first for the question.
HILTON_OLD = (
    "I've accumulated enough points for a single free night's stay at any Hilton property. "
    "Since Hilton Lake Las Vegas Resort is a Category 5 hotel, I'm good to redeem my points "
    "for a weekend getaway."
)
HILTON_NEW = (
    "I'm planning a trip to Europe in November and considering hotels in Paris with an Eiffel "
    "Tower view. Can you help me find some options within my budget? By the way, I've "
    "accumulated enough points for two free night's stays at any Hilton property, so I might "
    "use that for a separate trip to Las Vegas."
)
QUESTION = "How many free night's stays can I redeem at any Hilton property with my points?"


def test_newer_long_turn_comes_first(mem: Memory) -> None:
    old = mem.add([{"role": "user", "content": HILTON_OLD}], user_id="u", timestamp=T0).results[0]
    new = mem.add(
        [{"role": "user", "content": HILTON_NEW}], user_id="u", timestamp=T0 + timedelta(days=8)
    ).results[0]
    assert (old.event, new.event) == ("ADD", "ADD")  # long turns: both stay current
    hits = mem.search(QUESTION, user_id="u", top_k=5, reinforce=False).results
    assert [h.id for h in hits[:2]] == [new.id, old.id]
    before = mem.search(
        QUESTION, user_id="u", top_k=5, as_of=T0 + timedelta(days=1), reinforce=False
    ).results
    assert [h.id for h in before] == [old.id]
