"""The patterns behind ``slots``: one ``Rule`` per way of stating a personal attribute.

Every rule is anchored on a first-person subject ("I", "I'm", "I've", "we", "my") followed by a
verb form that asserts a *current* state ("I live in", "I moved to", "I work at"). Past or
negated forms ("I lived in", "I used to work at", "I no longer live in", "I don't work at") do
not match at all, which is how negation and the past are handled without a parser; hedges
before the subject ("if", "maybe", "I want to") are caught by ``slots._hedged``.

Triggers are case-insensitive (``(?i:...)``), values case-sensitive: a place, employer, school
or name must be a capitalised proper noun phrase, which keeps "I live in a small apartment" or
"I joined a book club" out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from memsvc.text._slotvocab import (
    CAR_BRANDS,
    COMMUTE_MODES,
    DIETS,
    JOB_HEADS,
    LANGS,
    ORG_HEADS,
    REL,
    SPECIES,
)

# --- building blocks --------------------------------------------------------------------------

_ADV = (
    r"(?:(?i:just|recently|now|currently|finally|actually|also|still|officially|already|newly"
    r"|happily|really|definitely|proudly|basically|even)\s+)*"
)
# "I" then a space or a contraction ("I've"); HAVE is the perfect auxiliary with adverbs.
I_ = r"\b(?i:i)(?:\s+|(?='))" + _ADV
IM = r"\b(?i:i'm|i\s+am|im)\s+" + _ADV
IVE = r"\b(?i:i've|i\s+have)\s+" + _ADV
WE = r"\b(?i:i|we)(?:\s+|(?='))" + _ADV
HAVE = r"(?:have|'ve)\s+" + _ADV
MY = r"\b(?i:my)\s+"
# A proper noun phrase: capitalised words, with a few lowercase particles inside
# ("Bank of America", "Rio de Janeiro"); never the pronoun "I".
PN = (
    r"(?:the\s+)?[A-Z][\w'.&-]*(?:\s+(?:(?:of|de|del|da|la|le|upon|on|am|sur|y)\s+)?"
    r"(?!I\b)[A-Z0-9][\w'&-]*)*"
)
# An employer: a proper noun, or "a/an/the ... <organisation noun>".
ORG = rf"(?:{PN}|(?i:a|an|the)\s+(?:[a-z][\w-]*\s+){{0,3}}?(?i:{ORG_HEADS}))\b"
# A lowercase noun phrase for titles, majors, favourites; trimmed later by ``slots``.
NP = r"[\w$£€'&-]+(?:\s+[\w$£€'&.-]+){0,6}"
NAME = r"(?!(?:I|The|A|An|And|But|So|We|He|She|It|They|My|His|Her)\b)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"
QUOTED = r"[\"“'‘][^\"”'’]{1,60}[\"”'’]"

JOB = rf"(?:[\w-]+\s+){{0,3}}?(?i:{JOB_HEADS})\b"
# A free job title after "work as a": up to four words, stopping before "at/for/with/in".
TITLE = r"[\w-]+(?:\s+(?!(?i:at|for|with|in|and|but|to|since|because)\b)[\w-]+){0,3}"

_SPECIES_RE = "|".join(sorted(SPECIES, key=len, reverse=True))
CAR = rf"(?:(?:19|20)\d\d\s+)?(?:{CAR_BRANDS})(?:\s+[A-Z0-9][\w-]*){{0,3}}"
_PHONES = r"iPhone|Samsung(?:\s+Galaxy)?|Galaxy|Google\s+Pixel|Pixel|OnePlus|Motorola|Moto|Xiaomi"
PHONE_MODEL = rf"(?:{_PHONES})(?:\s+[A-Z0-9][\w+]*){{0,3}}"
_NUM = r"\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_FREQ = (
    rf"(?:(?:{_NUM})\s+times|once|twice)\s+(?:a|per|every)\s+(?:day|week|month)"
    r"|every\s+(?:day|morning|evening|other\s+day)|daily"
)
_AGE_UNIT_BLOCK = (
    r"(?!\s*(?:%|percent|minutes?|mins?|hours?|days?|weeks?|months?|miles?|km|pounds?|lbs?"
    r"|kg|points?|degrees?|times|dollars?|\$|k\b|am\b|pm\b|:|,\d|\.\d))"
)


@dataclass(frozen=True)
class Rule:
    """``pattern`` captures the value in group ``v``; ``kind`` selects its normaliser in
    ``slots``; ``name`` may contain ``{x}``, filled from group ``x`` (favourites, pets);
    ``starts``: the lowercased words (``\\w+`` runs) a match can begin with, so ``slots``
    skips the rule in a sentence without any (``tokenize.gate_words``)."""

    name: str
    pattern: re.Pattern[str]
    kind: str
    starts: frozenset[str]
    enum: dict[str, str] = field(default_factory=dict)
    extra: tuple[tuple[str, str, str], ...] = ()  # (group, slot name, kind) riding along


# The word each subject starts with ("I'm": "i", a run of its own before the apostrophe).
_STARTS = ((I_, "i"), (IM, "i im"), (IVE, "i"), (WE, "i we"), (MY, "my"))


def _r(name: str, regex: str, kind: str, *, starts: str = "", **kw: object) -> Rule:
    """A rule; ``starts`` read off its subject unless given (a rule without one must give it)."""
    if not starts:
        starts = next(words for subject, words in _STARTS if regex.startswith(subject))
    return Rule(name, re.compile(regex), kind, frozenset(starts.split()), **kw)  # type: ignore[arg-type]


_HOMES = r"place|apartment|flat|house|home|condo|studio|loft|room|bungalow|townhouse"
_PARTNER = r"wife|husband|partner|girlfriend|boyfriend|fianc[ée]e?|fiancee|spouse"
_FAV = r"\b(?i:my)\s+(?i:(?:all-time|absolute|current|new|personal)\s+)?(?i:favou?rite)\s+"

RULES: tuple[Rule, ...] = (
    # residence
    _r(
        "residence",
        rf"{WE}(?i:live|am\s+living|'m\s+living|{HAVE}been\s+living|reside)"
        rf"\s+in\s+(?P<v>{PN})",
        "place",
    ),
    _r(
        "residence",
        rf"{WE}(?i:moved|relocated|{HAVE}(?:moved|relocated))"
        rf"(?:\s+(?i:back|here|over|out))?(?:\s+from\s+{PN})?\s+to\s+(?P<v>{PN})",
        "place",
    ),
    # "I moved into a flat in Kreuzberg", "we've moved to a new house near Hampstead"
    _r(
        "residence",
        rf"{WE}(?i:moved|relocated|{HAVE}(?:moved|relocated))\s+(?i:into|in\s+to|to)"
        rf"\s+(?i:a|an|the|our|my)\s+(?:[\w-]+\s+){{0,3}}?"
        rf"(?i:{_HOMES})\s+(?i:in|near|on)\s+(?P<v>{PN})",
        "place",
    ),
    _r(
        "residence",
        rf"{MY}(?i:new\s+)?(?i:place|apartment|flat|house|home|condo)\s+(?:is\s+)?in"
        rf"\s+(?P<v>{PN})",
        "place",
    ),
    _r("residence", rf"{IM}(?i:based)\s+(?:in|out\s+of)\s+(?P<v>{PN})", "place"),
    # hometown
    _r(
        "hometown",
        rf"(?:{IM}|\b(?i:i)\s+(?i:come)\s+)(?i:originally\s+)?from\s+(?P<v>{PN})",
        "place",
        starts="i im",
    ),
    _r(
        "hometown",
        rf"{I_}(?i:grew\s+up|was\s+born(?:\s+and\s+raised)?)\s+in\s+(?P<v>{PN})",
        "place",
    ),
    _r("hometown", rf"{MY}(?i:hometown)\s+is\s+(?P<v>{PN})", "place"),
    # employer and job title
    _r(
        "employer",
        rf"{I_}(?i:work|am\s+working|'m\s+working|{HAVE}been\s+working)"
        rf"\s+(?:at|for)\s+(?P<v>{ORG})(?:\s+as\s+(?:a|an|the)\s+(?P<title>{JOB}))?",
        "org",
        extra=(("title", "job_title", "np"),),
    ),
    _r(
        "employer",
        rf"{I_}(?i:started|began|got\s+(?:a|an)\s+(?:new\s+)?(?:job|position|role"
        rf"|internship|offer)|accepted\s+(?:a|an|the)\s+(?:new\s+)?(?:job|position|role|offer))"
        rf"(?:\s+(?i:a\s+new\s+job|working|work))?\s+(?:at|with|from)\s+(?P<v>{ORG})",
        "org",
    ),
    _r(
        "employer", rf"{I_}(?i:joined)\s+(?P<v>{PN})(?!\s+(?i:club|group|team|league|class))", "org"
    ),
    _r("employer", rf"{IM}(?i:employed)\s+(?:at|by)\s+(?P<v>{ORG})", "org"),
    _r("employer", rf"{MY}(?i:new\s+)?(?i:employer|company)\s+is\s+(?P<v>{ORG})", "org"),
    _r(
        "job_title",
        rf"{I_}(?i:work|am\s+working|'m\s+working|started\s+(?:working\s+)?|began"
        rf"\s+(?:working\s+)?)\s*as\s+(?:a|an|the)\s+(?P<v>{TITLE})"
        rf"(?:\s+(?:at|for|with)\s+(?P<org>{ORG}))?",
        "np",
        extra=(("org", "employer", "org"),),
    ),
    _r(
        "job_title",
        rf"{IM}(?:a|an)\s+(?P<v>{JOB})(?:\s+(?:at|for|with)\s+(?P<org>{ORG}))?",
        "np",
        extra=(("org", "employer", "org"),),
    ),
    _r(
        "job_title",
        rf"{I_}(?i:got|was|{HAVE}been)\s+(?i:promoted)\s+to\s+"
        rf"(?:(?:a|an|the)\s+)?(?P<v>{NP})",
        "np",
    ),
    _r(
        "job_title",
        rf"{MY}(?i:new\s+)?(?i:job\s+title|title|job|role|position)\s+is\s+"
        rf"(?:(?:a|an|the)\s+)?(?P<v>{JOB})",
        "np",
    ),
    # contact
    _r(
        "phone",
        rf"{MY}(?i:new\s+|cell\s+|mobile\s+|work\s+|home\s+)?(?i:phone|cell|mobile)"
        r"(?:\s+(?i:phone))?(?:\s+(?i:number))?\s+(?:is|:)\s*(?P<v>\+?\(?\d[\d\s().-]{5,}\d)",
        "phone",
    ),
    _r(
        "phone",
        r"\b(?i:reach|call|text)\s+me\s+(?:at|on)\s+(?P<v>\+?\(?\d[\d\s().-]{5,}\d)",
        "phone",
        starts="reach call text",
    ),
    _r(
        "email",
        rf"{MY}(?i:new\s+|work\s+|personal\s+)?(?i:e-?mail)(?:\s+(?i:address))?\s+"
        r"(?:is|:)\s*(?P<v>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
        "email",
    ),
    _r(
        "email",
        r"\b(?i:email|reach|contact)\s+me\s+at\s+(?P<v>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
        "email",
        starts="email reach contact",
    ),
    _r(
        "address",
        rf"{MY}(?i:new\s+|home\s+|mailing\s+)?(?i:address)\s+is\s+(?P<v>\d[^;!?\n]{{4,80}})",
        "text",
    ),
    _r("address", rf"{WE}(?i:live)\s+at\s+(?P<v>\d+\s+[A-Z][^;!?\n]{{3,60}})", "text"),
    # relationships
    _r(
        "relationship_status",
        rf"{IM}(?P<v>(?i:single|married|engaged|divorced|widowed"
        r"|separated|in\s+a\s+relationship|dating\s+someone|seeing\s+someone))(?![\w-])",
        "enum",
        enum=REL,
    ),
    _r(
        "relationship_status",
        rf"{WE}(?i:got|have\s+gotten|'ve\s+gotten)\s+"
        r"(?P<v>(?i:married|engaged|divorced))\b",
        "enum",
        enum=REL,
    ),
    _r("relationship_status", rf"{WE}(?P<v>(?i:broke\s+up|split\s+up))\b", "enum", enum=REL),
    _r("relationship_status", rf"{MY}(?!ex)(?P<v>(?i:{_PARTNER}))\b", "enum", enum=REL),
    _r(
        "partner",
        rf"{MY}(?i:{_PARTNER})(?:'s\s+name\s+is|,)?\s+(?i:named\s+|called\s+)?"
        rf"(?P<v>{NAME})\b",
        "name",
    ),
    # pets
    _r(
        "pet_{x}",
        rf"{MY}(?i:new\s+)?(?i:pet\s+)?(?P<x>(?i:{_SPECIES_RE}))(?:'s\s+name\s+is|,)?"
        rf"\s+(?i:named\s+|called\s+)?(?P<v>{NAME})\b",
        "name",
    ),
    _r(
        "pet_{x}",
        rf"{I_}(?i:have|got|adopted|{HAVE}(?:got|adopted))\s+(?:a|an)\s+"
        rf"(?i:new\s+)?(?P<x>(?i:{_SPECIES_RE}))\s+(?i:named|called)\s+(?P<v>{NAME})\b",
        "name",
    ),
    # car, phone
    _r("car", rf"{I_}(?i:drive)\s+(?:(?i:a|an)\s+)?(?i:new\s+)?(?P<v>{CAR})", "np"),
    _r("car", rf"{MY}(?i:new\s+|current\s+)?(?i:car)\s+is\s+(?:(?i:a|an)\s+)?(?P<v>{CAR})", "np"),
    _r(
        "car",
        rf"{I_}(?i:bought|got|leased|purchased)\s+(?i:a|an)\s+(?i:new\s+|used\s+)?"
        rf"(?P<v>{CAR})(?!\s+(?i:model|kit|toy|replica|poster|figure))",
        "np",
    ),
    _r(
        "phone_model",
        rf"{MY}(?i:new\s+|current\s+)?(?i:phone|smartphone)\s+is\s+"
        rf"(?:(?i:a|an|the)\s+)?(?P<v>{PHONE_MODEL})",
        "np",
    ),
    _r(
        "phone_model",
        rf"{I_}(?i:have|got|bought|use|upgraded\s+to|switched\s+to|(?:have|'ve)"
        rf"\s+got)\s+(?:(?i:a|an|the)\s+)?(?i:new\s+)?(?P<v>{PHONE_MODEL})",
        "np",
    ),
    # education
    _r(
        "school",
        rf"{I_}(?i:study|attend|go\s+to|am\s+studying|'m\s+studying|am\s+attending"
        rf"|'m\s+attending)\s+(?:at\s+)?(?P<v>{PN})",
        "school",
    ),
    _r(
        "school",
        rf"{IM}(?:(?i:a|an)\s+)?(?i:student|freshman|sophomore|junior|senior"
        rf"|grad(?:uate)?\s+student|phd\s+student|undergrad|undergraduate)\s+at\s+(?P<v>{PN})",
        "place",
    ),
    _r("school", rf"{IM}(?i:enrolled)\s+(?:at|in)\s+(?P<v>{PN})", "place"),
    _r("alma_mater", rf"{I_}(?i:graduated)\s+from\s+(?P<v>{PN})", "place"),
    _r("major", rf"{IM}(?i:majoring|double\s+majoring)\s+in\s+(?P<v>{NP})", "np"),
    _r("major", rf"{MY}(?i:major)\s+is\s+(?P<v>{NP})", "np"),
    # diet, allergies
    _r(
        "diet",
        rf"{IM}(?:(?i:a|an)\s+)?(?P<v>(?i:{DIETS}))(?![\w-])(?!\s+(?i:recipe|dish|meal))",
        "enum_lower",
    ),
    _r(
        "diet",
        rf"{I_}(?i:went|turned|became|{HAVE}(?:gone|become))\s+"
        rf"(?P<v>(?i:{DIETS}))\b",
        "enum_lower",
    ),
    _r(
        "diet",
        rf"(?:{IM}(?i:on)|{I_}(?i:follow|started)|{IVE}(?i:been\s+on))\s+"
        r"(?i:a|an|the)\s+(?P<v>[\w-]+(?:\s+[\w-]+)?)\s+(?i:diet)\b",
        "np",
        starts="i im",
    ),
    _r(
        "allergy",
        rf"{IM}(?i:(?:severely|very|mildly|highly)\s+)?(?i:allergic)\s+to\s+(?P<v>{NP})",
        "np",
    ),
    # favourites: "my favorite X is Y" (the reverse "Y is my favorite X" is in ``slots``)
    _r(
        "favorite_{x}",
        rf"{_FAV}(?P<x>[A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){{0,2}}?)\s+"
        rf"(?i:is|are|has\s+to\s+be|would\s+(?:have\s+to\s+)?be)\s+"
        rf"(?i:probably\s+|definitely\s+|still\s+|now\s+)?(?P<v>{QUOTED}|{NP})",
        "np",
    ),
    # age
    _r("age", rf"{IM}(?P<v>\d{{1,3}})\s*(?i:years?\s+old|yrs?\s+old|-year-old|y/?o)\b", "number"),
    _r("age", rf"{I_}(?i:turned)\s+(?P<v>\d{{1,3}})\b{_AGE_UNIT_BLOCK}", "number"),
    _r(
        "age",
        rf"{IM}(?P<v>\d{{1,2}})(?=\s*(?:[,;!]|\.(?!\d)|$|\s+(?i:and|now|this|as)\b))",
        "number",
    ),
    # commute
    _r(
        "commute_mode",
        rf"{I_}(?i:commute|get\s+to\s+work|go\s+to\s+work|travel\s+to\s+work"
        r"|get\s+to\s+the\s+office)\s+(?i:by|on|via)\s+(?:(?i:the|a|my)\s+)?(?P<v>(?i:bike"
        r"|bicycle|bus|train|subway|metro|tube|car|foot|scooter|ferry|tram|motorcycle))\b",
        "enum",
        enum=COMMUTE_MODES,
    ),
    _r(
        "commute_mode",
        rf"{I_}(?P<v>(?i:bike|cycle|walk|drive|carpool|take\s+the\s+(?:bus|train"
        r"|subway|metro|tube|ferry|tram)|ride\s+my\s+bike))\s+to\s+(?i:work|the\s+office)\b",
        "enum",
        enum=COMMUTE_MODES,
    ),
    _r(
        "commute_duration",
        rf"{MY}(?i:daily\s+|one-way\s+)?(?i:commute)\s+is\s+(?i:about\s+"
        r"|around\s+|roughly\s+|only\s+|just\s+|now\s+)?(?P<v>\d+(?:\.\d+)?\s*(?i:minutes|mins"
        r"|hours?|hrs?|miles|km))",
        "np",
    ),
    # fitness
    _r(
        "workout_frequency",
        rf"{I_}(?i:go\s+to\s+the\s+gym|hit\s+the\s+gym|work\s+out"
        rf"|exercise|train|go\s+running|run|swim|do\s+yoga)\s+(?P<v>(?i:{_FREQ}))",
        "np",
    ),
    _r("gym", rf"{MY}(?i:gym)\s+is\s+(?P<v>{PN})", "place"),
    _r("gym", rf"{IM}(?:(?i:a)\s+)?(?i:member)\s+(?:of|at)\s+(?P<v>{PN})", "place"),
    # languages (several at once)
    _r(
        "learning_language",
        rf"(?:{IM}|{IVE}(?i:been\s+)|{I_}(?i:started|began)\s+)"
        rf"(?i:learning|studying|taking)\s+(?P<v>{LANGS})\b",
        "enum_lower",
        starts="i im",
    ),
    # identity, family
    _r("name", rf"{MY}(?i:name)\s+is\s+(?P<v>{NAME})\b", "name"),
    _r("birthday", rf"{MY}(?i:birthday)\s+is\s+(?:(?i:on)\s+)?(?P<v>{NP})", "np"),
    _r("num_children", rf"{WE}(?i:have)\s+(?P<v>(?i:{_NUM}))\s+(?i:kids|children)\b", "number"),
    _r(
        "weight",
        rf"{I_}(?i:weigh)\s+(?i:about\s+|around\s+)?(?P<v>\d{{2,3}}(?:\.\d)?\s*"
        r"(?i:lbs?|pounds|kg|kilos|kilograms))\b",
        "np",
    ),
    # "my [current] salary/rent/budget/... [so far] is X"
    _r(
        "my_{x}",
        rf"{MY}(?i:current\s+|new\s+|monthly\s+|annual\s+|yearly\s+)?(?P<x>(?i:salary"
        r"|rent|budget|mortgage|credit\s+score|gpa|handicap|resting\s+heart\s+rate|personal\s+best"
        r"|highest\s+score|high\s+score|record|goal\s+weight|target\s+weight|screen\s+time))"
        r"(?:\s+(?i:so\s+far|now|currently|these\s+days))?\s+(?i:is|are)\s+(?i:now\s+|currently\s+"
        r"|about\s+|around\s+|roughly\s+|only\s+)*(?P<v>[$£€]?\d(?:[\d,.]*\d)?(?:\s*[%kK]\b|-\d+"
        r"|\s+(?!(?:a|an|the|per|and|or|so|but|to|in|on|at|for|with|which|that|now)\b)[a-zA-Z]+)?)",
        "measure",
    ),
)
