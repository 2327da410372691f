"""Slots: normalised personal attributes stated in the first person, for offline supersede.

``extract_slots("I moved from Paris to Berlin last month.")`` →
``[Slot(name="residence", value="berlin", ...)]``. A newer note whose slot has the same name and
a different value supersedes the older one (``supersedes``), unless the slot can hold several
values at once (pets, allergies, languages being learnt: ``MULTI_VALUED``).

How statements are filtered, in order:
- only ``role == "user"`` text yields slots (an assistant's "I" is not the user);
- questions (a sentence ending in "?" or opening with an auxiliary + I/my) yield nothing;
- only present-state verb forms match (``_slotrules``), so "I used to live in", "I lived in",
  "I no longer work at" and "I'm moving to" (future) yield nothing;
- a hedge earlier in the same clause ("if", "maybe", "I want to", "when", "not") drops a match;
- within one text the last value of a single-valued slot wins ("I live in Paris... actually I
  just moved to Berlin" gives residence=berlin).

English only; any other text passes through and yields nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from lemminflect import getLemma  # type: ignore[import-untyped]

from memsvc.text._slotrules import RULES, Rule
from memsvc.text._slotvocab import CUES, NUMBER_WORDS, SPECIES
from memsvc.text.stopwords import STOPWORDS
from memsvc.text.tokenize import gate_words, sentence_spans

__all__ = [
    "MULTI_VALUED",
    "Slot",
    "extract_slots",
    "is_multi_valued",
    "is_update_cue",
    "supersedes",
]


@dataclass(frozen=True, slots=True)
class Slot:
    """``name``: attribute ("residence", "employer", "favorite_food", "pet_dog", ...);
    ``value``: normalised (lowercase, no articles); ``span``: (start, end) offsets of the
    matched statement in the input; ``text``: that statement as written."""

    name: str
    value: str
    span: tuple[int, int]
    text: str


# Attributes that legitimately hold several values at once: a new value adds, never replaces.
# Pets (``pet_dog``, ``pet_cat``, ...) too: "my dog Max" then "my dog Buddy" may be two dogs.
MULTI_VALUED = frozenset({"allergy", "learning_language", "alma_mater"})
_MULTI_VALUED_PREFIXES = ("pet_",)


def is_multi_valued(name: str) -> bool:
    """Whether slot ``name`` can hold several values at once (never superseded)."""
    return name in MULTI_VALUED or name.startswith(_MULTI_VALUED_PREFIXES)


def supersedes(old: Slot, new: Slot) -> bool:
    """Whether ``new`` (from a later note) replaces ``old``: same single-valued attribute,
    different value."""
    return old.name == new.name and old.value != new.value and not is_multi_valued(new.name)


_UPDATE_CUE = re.compile(
    r"\b(?:now|new|newly|moved|moving|relocated|switched|switching|changed|changing"
    r"|no\s+longer|anymore|any\s+more|recently\s+started|just\s+started|started|upgraded"
    r"|replaced|instead|these\s+days|nowadays|currently|used\s+to|became|promoted|quit"
    r"|updated|not\s+anymore|from\s+now\s+on)\b",
    re.I,
)


def is_update_cue(text: str) -> bool:
    """Whether ``text`` has a word signalling a change of state ("now", "new", "moved",
    "switched", "changed", "no longer", "anymore", "recently started", "used to", ...)."""
    return _UPDATE_CUE.search(text) is not None


# --- extraction -------------------------------------------------------------------------------

_QUESTION_START = re.compile(
    r"^\W*(?:do|does|did|am|is|are|was|were|can|could|should|would|will|have|has|had)\s+"
    r"(?:i|my|we)\b",
    re.I,
)
_HEDGE = re.compile(
    r"\b(?:if|whether|unless|wish|hope|hoping|imagine|suppose|pretend|maybe|perhaps|might"
    r"|would|could|should|plan|planning|thinking|considering|want|wanted|wants|dream|someday"
    r"|once|before|until|when|whenever|not|never|no\s+longer|used\s+to|cannot|asked|told|said"
    r"|pretending|hypothetically|like|as\s+if|as\s+though)\b|n't\b",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[,;:()\u2014\u2013]|\s-\s|\b(?:but|and|so|because|though)\b", re.I)
_NP_BOUNDARY = re.compile(
    r"[,;:!?()\"“”]|\.(?!\d)|\s-\s|\s(?:and|but|because|since|so|which|who|that|where|when|while"
    r"|for|with|at|in|on|from|to|as|by|now|recently|last|this|next|today|yesterday|these|lately"
    r"|anymore|already|too|though|although|if|or|after|before|until|i|i'm|we|it|it's|and|right"
    r"|though|which|than|ever|yet|still)\b",
    re.I,
)
_TRAILING_TIME = re.compile(
    r"(?:\s+(?:now|recently|lately|currently|today|yesterday|anymore|already|again|too|also"
    r"|these\s+days|this\s+(?:week|month|year)|last\s+(?:week|month|year)))+$",
    re.I,
)
_LEADING_DET = re.compile(r"^(?:the|a|an|my|our|his|her|their|some)\s+", re.I)
_NOT_A_PLACE_WORDS = """monday tuesday wednesday thursday friday saturday sunday january february
march april may june july august september october november december christmas easter i"""
_NOT_A_PLACE = frozenset(_NOT_A_PLACE_WORDS.split())
_SCHOOL_WORDS = re.compile(
    r"\b(?:university|college|school|academy|institute|conservatory|polytechnic|uni)\b", re.I
)
_PRONOUN_VALUE = frozenset(
    ("it", "this", "that", "which", "what", "there", "who", "he", "she", "they", "them", "one")
)


def _hedged(sentence: str, start: int) -> bool:
    """Whether the clause that ends at ``start`` hedges or negates what follows."""
    prefix = sentence[:start]
    breaks = list(_CLAUSE_BREAK.finditer(prefix))
    clause = prefix[breaks[-1].end() :] if breaks else prefix
    return _HEDGE.search(clause) is not None


def _trim_np(raw: str, max_words: int = 5) -> str:
    raw = raw.strip()
    if raw[:1] in "\"“'‘" and len(raw) > 2:
        return raw.strip("\"“”'‘’ ").lower()  # a quoted title: keep it whole
    cut = _NP_BOUNDARY.search(" " + raw)
    if cut:
        raw = (" " + raw)[: cut.start()]
    value = " ".join(raw.split()[:max_words])
    return _LEADING_DET.sub("", value)


def _normalise(kind: str, raw: str, rule: Rule) -> str | None:
    raw = raw.replace("’", "'").strip()
    if kind in ("place", "org", "school"):
        value = re.sub(r"'s$|[.,'!?]+$", "", raw)
        if kind == "org":
            value = _trim_np(value, 6) if value[:1].islower() else value
        value = _LEADING_DET.sub("", value)
        if kind == "school" and not _SCHOOL_WORDS.search(value):
            return None
        if value.lower() in _NOT_A_PLACE:
            return None
    elif kind == "np":
        value = _trim_np(raw)
    elif kind == "name":
        value = raw
    elif kind == "enum":
        key = " ".join(raw.lower().split()).removeprefix("take the ")
        value = rule.enum.get(key, key)
    elif kind == "measure":
        value = re.sub(r"(?<=\d),(?=\d{3})", "", raw)  # "$1,500" → "$1500"
    elif kind == "number":
        value = NUMBER_WORDS.get(raw.lower(), raw)
        if not value.isdigit() or not 0 < int(value) <= 120:
            return None
    elif kind == "phone":
        value = ("+" if raw.startswith("+") else "") + re.sub(r"\D", "", raw)
        if sum(c.isdigit() for c in value) < 7:
            return None
    else:  # email, text, enum_lower
        value = re.sub(r"[.,;!?]+$", "", raw)
    value = _TRAILING_TIME.sub("", " ".join(value.lower().split())).strip()
    if not value or value in STOPWORDS or value in _PRONOUN_VALUE:
        return None
    return value


@lru_cache(maxsize=4096)
def _singular(w: str) -> str:
    """The singular of an English noun (lemminflect's lemma: "movies" → "movie", "glasses" →
    "glass", "series" stays); words with digits or other characters are kept."""
    if not w.isascii() or not w.isalpha():
        return w
    return str(getLemma(w, upos="NOUN")[0])


def _attr_key(phrase: str) -> str:
    """Slot-name key of an attribute phrase: "TV shows" → "tv_show"."""
    return "_".join(_singular(w) for w in re.split(r"[\s-]+", phrase.lower().replace("'", "")) if w)


def _slot_name(rule: Rule, m: re.Match[str]) -> str:
    if "{x}" not in rule.name:
        return rule.name
    x = m.group("x").lower().replace("'", "")
    key = _attr_key(x)
    if rule.name.startswith("pet_"):
        key = SPECIES.get(x, key)
    return rule.name.replace("{x}", key)


_FAV_REVERSE = re.compile(
    r"(?P<v>[^,;:.!?]{1,60}?)\s+(?:is|are)\s+(?:definitely\s+|probably\s+|still\s+|now\s+"
    r"|easily\s+)?my\s+(?:all-time\s+|absolute\s+|new\s+)?favou?rite\s+"
    r"(?P<x>[A-Za-z][\w-]*(?:\s+(?!of\b|in\b|to\b|and\b|for\b|at\b|on\b|by\b|right\b|now\b)"
    r"[A-Za-z][\w-]*){0,2})",
    re.I,
)
_LEAD_IN = frozenset(
    ("i", "think", "guess", "say", "believe", "feel", "know", "honestly", "definitely", "so")
)


def _reverse_favourites(sentence: str) -> list[tuple[str, str, int, int]]:
    """ "Pizza is my favorite food" → ("favorite_food", "pizza", start, end)."""
    out: list[tuple[str, str, int, int]] = []
    for m in _FAV_REVERSE.finditer(sentence):
        words = m.group("v").split()[-5:]
        while words and (words[0].lower() in STOPWORDS or words[0].lower() in _LEAD_IN):
            words.pop(0)
        if not words or words[-1].lower() in _PRONOUN_VALUE:
            continue
        value = " ".join(words).lower().strip("\"“”'‘’")
        out.append(("favorite_" + _attr_key(m.group("x")), value, m.start("v"), m.end()))
    return out


# Each rule's cue words as one pattern: "does the sentence hold any cue" in one scan instead of
# a Python-level `in` per cue and rule (the commonest step of ingest's attribute work).
_CUE_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile("|".join(re.escape(c) for c in cues)) for name, cues in CUES.items() if cues
}


_STARTS = tuple(dict.fromkeys(rule.starts for rule in RULES))  # a few distinct sets


@cache  # one entry per combination of `_STARTS`: at most 2 ** len(_STARTS)
def _rules_starting(*present: bool) -> tuple[Rule, ...]:
    """The rules, in order, whose start words are in a sentence that holds words of the sets
    of `_STARTS` flagged `present`."""
    sets = {s for s, p in zip(_STARTS, present, strict=True) if p}
    return tuple(rule for rule in RULES if rule.starts in sets)


def extract_slots(
    text: str, role: str = "user", *, spans: list[tuple[int, int]] | None = None
) -> list[Slot]:
    """First-person attribute statements in ``text`` as slots, in text order. ``spans``:
    ``sentence_spans(text)`` when the caller has them already."""
    return _extract(text, role, gate=True, spans=spans)


def _extract(
    text: str, role: str, *, gate: bool, spans: list[tuple[int, int]] | None = None
) -> list[Slot]:
    if role != "user" or not text:
        return []
    norm = text.replace("’", "'")  # same length: offsets stay valid for ``text``
    if spans is None or norm != text:
        # A curly apostrophe can change where a sentence ends ("’Mr." is no abbreviation).
        spans = sentence_spans(norm)
    found: list[Slot] = []
    for a, b in spans:
        sentence = norm[a:b]
        if sentence.rstrip().endswith("?") or _QUESTION_START.search(sentence):
            continue
        low = sentence.lower()
        # Two gates before a rule's pattern runs: a word its matches start with ("i", "my",
        # ...; most rules need a first-person subject), then one of its name's cues (once
        # per name and sentence: several rules share a name).
        words = gate_words(sentence) if gate else None
        cued: dict[str, bool] = {}
        rules = (
            RULES if words is None else _rules_starting(*(not words.isdisjoint(s) for s in _STARTS))
        )
        for rule in rules:
            if gate:
                ok = cued.get(rule.name)
                if ok is None:
                    cue = _CUE_PATTERNS.get(rule.name)
                    ok = cued[rule.name] = cue is None or cue.search(low) is not None
                if not ok:
                    continue
            for m in rule.pattern.finditer(sentence):
                if _hedged(sentence, m.start()):
                    continue
                pairs = [(_slot_name(rule, m), rule.kind, m.group("v"))]
                for group, name, kind in rule.extra:
                    if m.group(group):
                        pairs.append((name, kind, m.group(group)))
                for name, kind, raw in pairs:
                    value = _normalise(kind, raw, rule)
                    if value is not None:
                        span = (a + m.start(), a + m.end())
                        found.append(Slot(name, value, span, text[span[0] : span[1]]))
        # The pattern needs the word; its lazy value group makes it slow to fail without it.
        reverse = _reverse_favourites(sentence) if "favo" in low else []
        for name, value, s, e in reverse:
            if not _hedged(sentence, s):
                found.append(Slot(name, value, (a + s, a + e), text[a + s : a + e]))
    return _dedupe(found)


def _dedupe(found: list[Slot]) -> list[Slot]:
    found.sort(key=lambda s: s.span)
    last_single: dict[str, Slot] = {}
    for s in found:
        if not is_multi_valued(s.name):
            last_single[s.name] = s
    seen: set[tuple[str, str]] = set()
    out: list[Slot] = []
    for s in found:
        if not is_multi_valued(s.name) and last_single[s.name] is not s:
            continue  # a later statement in the same text overrides this one
        if (s.name, s.value) in seen:
            continue
        seen.add((s.name, s.value))
        out.append(s)
    return out
