"""Rewrite a first-person sentence in the third person, naming the speaker.

``to_third_person("I moved to Berlin last month.", "User")`` → "User moved to Berlin last
month." The speaker becomes a name-like subject ("User", "Assistant"), so the verb after it
is put in the third person singular ("I love" → "User loves", "I don't" → "User doesn't");
possessives become "User's" at the start of a sentence and "their" elsewhere; "me" becomes
"the user" / "the assistant". Second person is swapped the other way ("you" in a user turn is
the assistant). "We" keeps its plural verb ("We were" → "User and others were").

A heuristic without a parser: verbs that look the same in the present and the past ("read",
"put", "set") are left alone, and an adverb list is skipped to reach the verb. Inflection and
the past-tense test are lemminflect's (its lexicon ships in the wheel); the rewrite rules stay
hand-written, as no library rewrites a sentence from the first person to the third.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lemminflect import (  # type: ignore[import-untyped]
    getAllInflections,
    getAllLemmas,
    getInflection,
)

from memsvc.text.tokenize import gate_words, may_match

_ADVERBS_WORDS = """
just also really still actually usually always never often recently finally already
    currently now even only sometimes mostly totally definitely probably absolutely generally
    typically normally rarely seldom hardly barely ever then personally mainly especially
    honestly truly seriously literally occasionally regularly constantly later soon first
    almost nearly simply certainly"""
_ADVERBS = frozenset(_ADVERBS_WORDS.split())
_MODALS_WORDS = "can could will would shall should may might must ought need dare used was were did"
_MODALS = frozenset(_MODALS_WORDS.split())
# Contracted negations and "am", whose third person is no inflection of the word itself.
_NEGATED = {
    "don't": "doesn't",
    "do": "does",
    "haven't": "hasn't",
    "am": "is",
    "ain't": "isn't",
}


@lru_cache(maxsize=4096)
def _looks_past(low: str) -> bool:
    """Whether ``low`` is a past tense of an English verb in lemminflect's lexicon ("went",
    "moved", and forms that read the same in present and past: "read", "put", "set"). A word
    the lexicon does not know as a verb counts as past when it ends in -ed."""
    lemmas = getAllLemmas(low, upos="VERB").get("VERB")
    if not lemmas:
        return low.endswith("ed")
    return any(low in getAllInflections(lemma, upos="VERB").get("VBD", ()) for lemma in lemmas)


@lru_cache(maxsize=4096)
def conjugate_3sg(verb: str) -> str:
    """Third person singular present of ``verb`` when it looks like a base form (lemminflect's
    VBZ: "love" → "loves", "study" → "studies", "go" → "goes"); past forms, modals,
    contractions and words already ending in -s are returned as they are."""
    low = verb.lower()
    if low in _NEGATED:
        out = _NEGATED[low]
    elif (
        not low.isalpha()
        or low in _MODALS
        or low.endswith("n't")
        or (low.endswith("s") and not low.endswith("ss"))
        or _looks_past(low)
    ):
        return verb
    else:
        out = getInflection(low, tag="VBZ")[0]
    return out.capitalize() if verb[:1].isupper() else out


_CONTRACTED = [
    (re.compile(r"\bI'm\b|\bI\s+am\b", re.I), "{S} is"),
    (re.compile(r"\bI've\b", re.I), "{S} has"),
    (
        re.compile(
            r"\bI'd(?=\s+(?:been|gone|had|done|seen|never|already|just|heard|made|taken)\b)", re.I
        ),
        "{S} had",
    ),
    (re.compile(r"\bI'd\b", re.I), "{S} would"),
    (re.compile(r"\bI'll\b", re.I), "{S} will"),
]
_WORD_CORE = re.compile(r"^([A-Za-z']+)(.*)$", re.S)
# (pattern, replacement, the word its matches start with: tokenize.gate_words)
_WORD_SWAPS_USER = [
    (re.compile(r"\bmyself\b", re.I), "themselves", "myself"),
    (re.compile(r"\bmine\b", re.I), "theirs", "mine"),
    (re.compile(r"\bme\b", re.I), "the {s}", "me"),
    (re.compile(r"\bwe're\b", re.I), "they're", "we"),
    (re.compile(r"\bwe've\b", re.I), "they've", "we"),
    (re.compile(r"\bwe'll\b", re.I), "they'll", "we"),
    (re.compile(r"\bour\b", re.I), "their", "our"),
    (re.compile(r"\bus\b"), "them", "us"),
    (re.compile(r"\bwe\b"), "they", "we"),
]
_SPACES = re.compile(r"(\s+)")
_MY_START = re.compile(r"^(\W*)My\b")
_MY = re.compile(r"\bmy\b", re.I)
_WE_START = re.compile(r"^(\W*)We\b")
_YOU = frozenset({"you", "your"})  # the words `_SECOND_PERSON`'s matches start with
_I = frozenset({"i"})  # `_CONTRACTED`'s
_MY_WORD = frozenset({"my"})
_WE = frozenset({"we"})
_SECOND_PERSON = [
    (re.compile(r"\byou're\b", re.I), "the {o} is"),
    (re.compile(r"\byou've\b", re.I), "the {o} has"),
    (re.compile(r"\byou'll\b", re.I), "the {o} will"),
    (re.compile(r"\byour\b", re.I), "the {o}'s"),
    (re.compile(r"\byou\b", re.I), "the {o}"),
]


def _subject_verbs(sentence: str, speaker: str) -> str:
    """Replace the subject "I" by ``speaker`` and conjugate the verb after it (adverbs
    skipped)."""
    parts = _SPACES.split(sentence)  # words at even indexes, whitespace at odd ones
    i = 0
    while i < len(parts):
        if parts[i] != "I":
            i += 2
            continue
        parts[i] = speaker
        j = i + 2
        while j < len(parts):
            m = _WORD_CORE.match(parts[j])
            if m is None:
                break
            word, rest = m.groups()
            if word.lower() in _ADVERBS:
                j += 2
                continue
            parts[j] = conjugate_3sg(word) + rest
            break
        i = j
    return "".join(parts)


def to_third_person(sentence: str, speaker: str = "User") -> str:
    """``sentence`` rewritten about ``speaker`` ("User" or "Assistant") in the third person."""
    s = sentence.replace("’", "'")
    other = "assistant" if speaker.lower() == "user" else "user"
    # Most sentences hold few of the words rewritten: a substitution runs only where a word its
    # matches start with occurs (tokenize.gate_words). A replacement keeps the word boundaries
    # of what it replaces and brings no such word of its own, except the speaker's name and the
    # verbs `_subject_verbs` conjugates, so the words are read again after those come in.
    words = gate_words(s)
    if may_match(words, _YOU):
        for pattern, repl in _SECOND_PERSON:
            s = pattern.sub(repl.format(o=other), s)
    if may_match(words, _I):
        for pattern, repl in _CONTRACTED:
            s = pattern.sub(repl.format(S=speaker), s)
    s = _subject_verbs(s, speaker)
    words = gate_words(f"{s} {speaker}")
    if may_match(words, _MY_WORD):
        s = _MY_START.sub(rf"\1{speaker}'s", s)
        s = _MY.sub("their", s)
    if may_match(words, _WE):
        s = _WE_START.sub(rf"\1{speaker} and others", s)
    for pattern, repl, start in _WORD_SWAPS_USER:
        if words is None or start in words:
            s = pattern.sub(repl.format(s=speaker.lower()), s)
    s = s.strip()
    if s and s[0].islower():
        s = s[0].upper() + s[1:]
    return s
