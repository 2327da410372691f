"""Topical tags: a small topic lexicon matched by stems, plus keyphrase heads.

``make_tags(text, keyphrases)`` returns short lowercase tags such as
``["pets", "health", "luna", "microchip"]``: first the topics whose trigger words occur in the
text (at least twice, or once in a short text; at most three topics, most hits first), then
the best keyphrases, until ``k`` tags: a short proper name whole and hyphenated ("new-york",
"luna"), otherwise the head (last word) of the phrase ("cat tree" → "tree"). Triggers are
stemmed with ``tokenize.stem`` at import, so "hiking", "hikes" and "hike" all count for
fitness. English.
"""

from __future__ import annotations

from collections import Counter

from memsvc.text.stopwords import FILLER
from memsvc.text.tokenize import stem, terms

# The speakers' role names ("User: ...", "the assistant said") say who spoke, not what about:
# never a keyword, never a tag, and a phrase breaks at them.
ROLE_WORDS = frozenset({"user", "users", "assistant", "assistants"})

__all__ = ["ROLE_WORDS", "TOPICS", "make_tags"]

_LEXICON: dict[str, str] = {
    "travel": "travel trip vacation holiday flight fly airport hotel passport itinerary tour"
    " tourist destination visa luggage cruise resort airline abroad sightseeing backpacking",
    "food": "food restaurant meal dinner lunch breakfast snack dish cuisine eat pizza sushi"
    " burger dessert cafe coffee tea wine beer cocktail brunch taste flavor flavour",
    "cooking": "cook cooking recipe bake baking kitchen oven ingredient grill roast bread cake"
    " sauce chef",
    "work": "work job office boss colleague coworker meeting project deadline client manager"
    " company employer shift workplace",
    "career": "career promotion promoted resume interview hire salary raise linkedin internship"
    " profession",
    "health": "health doctor sleep symptom medication medicine therapy therapist anxiety stress"
    " allergy hospital clinic dentist pain illness sick vitamin mental physician",
    "fitness": "fitness gym workout exercise running yoga training marathon cycling swimming"
    " hike hiking pilates cardio strength triathlon",
    "family": "family mom dad mother father parent sister brother son daughter kid child"
    " children grandma grandmother grandpa grandfather aunt uncle cousin baby",
    "relationships": "relationship partner boyfriend girlfriend dating wedding marriage married"
    " engaged friend friendship breakup anniversary wife husband",
    "pets": "pet dog cat puppy kitten vet leash litter aquarium hamster parrot rabbit",
    "finance": "money budget savings invest investment stock bank loan debt mortgage credit tax"
    " retirement expense income finance financial earn earnings profit",
    "shopping": "shopping shop buy bought purchase store mall sale discount order deal amazon"
    " coupon retail market",
    "music": "music song album band concert guitar piano playlist singer spotify vinyl",
    "movies": "movie film cinema netflix series episode actor director documentary streaming",
    "books": "book novel author reading library chapter kindle audiobook bookstore poetry",
    "sports": "sport team match league soccer football basketball baseball tennis golf nba nfl"
    " volleyball hockey player stadium",
    "education": "school college university class course student teacher exam study degree"
    " homework lecture tutor graduate graduation",
    "technology": "computer laptop phone app software tech technology code coding programming"
    " internet wifi device smartphone gadget python website",
    "home": "home house apartment room furniture decor renovation cleaning rent closet"
    " organize declutter",
    "vehicles": "car vehicle driving truck bike bicycle motorcycle commute bus train mechanic"
    " tire fuel",
    "events": "event party birthday celebration festival conference ceremony gathering reunion"
    " christmas thanksgiving",
    "hobbies": "hobby craft knitting collecting collection puzzle gaming chess diy sewing"
    " woodworking pottery photography",
    "art": "art artist painting paint museum gallery exhibition sculpture drawing",
    "nature": "nature outdoor park camping mountain trail lake forest beach garden gardening"
    " plant flower",
    "languages": "language spanish french german japanese chinese vocabulary grammar fluent",
    "volunteering": "volunteer volunteering charity nonprofit donate donation fundraiser",
    "productivity": "productivity habit routine schedule planner goal procrastination",
}
TOPICS: dict[str, frozenset[str]] = {
    topic: frozenset(stem(w) for w in words.split()) for topic, words in _LEXICON.items()
}
# Triggers that are just as often verbs or other senses ("book a flight", "does it work"):
# they count half, so one of them alone does not make a topic.
_AMBIGUOUS_WORDS = """work book order park train shop play watch date show drive fly raise study
class plant paint store deal sale run match goal code rent series fall"""
_AMBIGUOUS = frozenset(stem(w) for w in _AMBIGUOUS_WORDS.split())


def _triggers() -> dict[str, list[tuple[int, float]]]:
    """stem -> (topic's position in TOPICS, weight): a text's topic scores come from its own
    terms, not from every trigger of every topic."""
    out: dict[str, list[tuple[int, float]]] = {}
    for order, stems in enumerate(TOPICS.values()):
        for s in stems:
            out.setdefault(s, []).append((order, 0.5 if s in _AMBIGUOUS else 1.0))
    return out


_TRIGGERS = _triggers()
_TOPIC_NAMES = list(TOPICS)
_MAX_TOPICS = 3
_SHORT_TEXT_TERMS = 40


def make_tags(text: str, keyphrases: list[str], k: int = 5) -> list[str]:
    """Up to ``k`` lowercase tags: matched topics, then heads of ``keyphrases``."""
    if k <= 0:
        return []
    counts = Counter(terms(text))
    min_hits = 1 if sum(counts.values()) < _SHORT_TEXT_TERMS else 2
    scores: dict[int, float] = {}
    for term, count in counts.items():
        for order, weight in _TRIGGERS.get(term, ()):
            scores[order] = scores.get(order, 0.0) + count * weight  # halves: exact in any order
    hits = [(-n, order, _TOPIC_NAMES[order]) for order, n in scores.items() if n >= min_hits]
    hits.sort()
    tags = [topic for _, _, topic in hits[: min(_MAX_TOPICS, k)]]
    for phrase in keyphrases:
        if len(tags) >= k:
            break
        words = [w.strip("\"'“”‘’.,!?") for w in phrase.split()]
        if not words or not words[-1]:
            continue
        if phrase[:1].isupper() and len(words) <= 3:
            tag = "-".join(words).lower().removeprefix("the-")  # "new-york", "luna"
        else:
            tag = words[-1].lower()  # the head of a noun phrase: "cat tree" → "tree"
        if len(tag) < 3 or not tag.replace("-", "").isalnum() or tag in FILLER or tag in tags:
            continue
        if tag in ROLE_WORDS:  # who spoke is not a topic
            continue
        tags.append(tag)
    return tags
