"""The shortcuts of the offline heuristics change no output: every gate (a pattern skipped
where the words its matches need are missing), rewritten pattern and cached token function
gives what the plain computation gives, on real clauses and on drawn text heavy in the words
the gates look for (tests/text/test_attributes_golden.py pins the whole outputs)."""

from __future__ import annotations

import os
import re
import sys

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # type: ignore[import-not-found, unused-ignore]
from hypothesis import strategies as st  # type: ignore[import-not-found, unused-ignore]

from memsvc.text import _person, facts, tokenize
from memsvc.text.slots import _extract, extract_slots
from memsvc.text.tokenize import STOPWORDS, gate_words, sentence_spans
from tests.text._data import longmemeval_turns

SETTINGS = settings(
    max_examples=int(os.environ.get("MEMSVC_HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# The gates' words and their near misses, contractions, capitals, and the characters that
# `re.IGNORECASE` matches to ASCII letters without lowering to them (İ, ı, ſ, K).
_WORDS_TEXT = """I i I'm I’m im I've I'd I'll my My me Me we We we're we'll our us US you You your
you're you'll can could would will do what please help tell let know wondering wonder like love
appreciate need looking seeking tips any think guess maybe not sure don't recommend recommended
suggest suggested advise advised loved prefer enjoy hate favorite favourite can't stand into fan
of allergic going to gonna planning plan 'll thinking about next week signed up went visited
bought got moved picked read one twelve dozen once 3 2,000 3.5 $420 16GB yesterday today last
this since Monday May birthday ago the a and so live in Paris New York work at as nurse dog cat
named Luna wife vegan years old 32 favo İ ı ſ ſtarted İ'm ﬁnished K OK AI NASA “quoted” 'single'
"double" - — – ; : , . ! ? … Mr. U.S. e.g. 你好 。 émigré"""
_WORDS = _WORDS_TEXT.split()
_TEXT = st.lists(
    st.tuples(st.sampled_from(_WORDS), st.sampled_from([" ", " ", "  ", "\n", "", ". ", ", "])),
    max_size=30,
).map(lambda parts: "".join(w + sep for w, sep in parts))
_ANY = st.one_of(_TEXT, st.text(max_size=120))


def _real_clauses(step: int = 4) -> list[str]:
    turns = longmemeval_turns()[::step]
    return [facts._clean(c) for t in turns for c in facts._clauses(t["content"])]


# --- gate_words: what it rests on, checked over every code point ------------------------------


def test_lowering_keeps_lengths_word_characters_and_ascii_letters() -> None:
    everything = "".join(chr(cp) for cp in range(sys.maxunicode + 1) if cp != 0x130)
    low = everything.lower()
    assert len(low) == len(everything)  # only İ lowers to two characters
    word = re.compile(r"\w")
    assert [m.start() for m in word.finditer(everything)] == [m.start() for m in word.finditer(low)]
    # What IGNORECASE matches to an ASCII letter lowers to that letter, but for ı and ſ (and İ).
    odd = {c for c in re.findall(r"(?i)[a-z]", everything) if not "a" <= c.lower() <= "z"}
    assert odd == {"\u0131", "\u017f"}
    assert re.fullmatch(r"(?i)i", "\u0130") and "\u0130".lower() != "i"
    assert set(tokenize._CASE_ODD) == {"\u0130", "\u0131", "\u017f"}
    # str.isspace and \s agree (sentence ends look for the next non-space either way).
    space = re.compile(r"\s")
    assert [m.start() for m in space.finditer(everything)] == [
        i for i, c in enumerate(everything) if c.isspace()
    ]


def test_gate_words() -> None:
    assert gate_words("I'm moving, AREN'T we?") == {"i", "m", "moving", "aren", "t", "we"}
    assert gate_words("İstanbul") is None and gate_words("ſo") is None


# --- facts -----------------------------------------------------------------------------------


def _scores_agree(s: str) -> None:
    for role in ("user", "assistant"):
        assert facts._score(s, role, gate=True) == facts._score(s, role, gate=False), (s, role)


def test_fact_scores_ungated_on_real_clauses() -> None:
    for s in _real_clauses():
        _scores_agree(s)


@SETTINGS
@given(_ANY)
def test_fact_scores_ungated(text: str) -> None:
    for clause in facts._clauses(text):
        _scores_agree(facts._clean(clause))
    _scores_agree(text)


def test_fact_scores_ungated_where_ignorecase_reads_other_letters() -> None:
    # IGNORECASE reads ſ as s and ı as i: "ſtarted" is an action, "ı thınk" a hedge, though
    # their lowercase words are not "started" or "think"; gate_words gives no words for them.
    assert facts._ACTION.search("ſtarted") and facts._HEDGE.search("ı thınk")
    for s in ("We ſtarted running daily.", "Oh ı thınk it was fine.", "İ love İstanbul a lot."):
        _scores_agree(s)
        for speaker in _SPEAKERS:
            assert _person.to_third_person(s, speaker) == _third_person_every_substitution(
                s, speaker
            )


_CAPITAL_AS_WRITTEN = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'&.-]*[A-Za-z0-9]|\b[A-Z]{2,}\b")


@SETTINGS
@given(st.one_of(_TEXT, st.text(alphabet="AZaz09 .!?'&-_\t\nÉé一I", max_size=16)))
def test_capital_pattern_finds_what_it_reads(text: str) -> None:
    assert facts._CAPITAL.findall(text) == _CAPITAL_AS_WRITTEN.findall(text)


def test_request_alternatives_are_the_pattern() -> None:
    for s in _real_clauses(8):
        assert facts._requests(s, gate_words(s)) == bool(facts._REQUEST.search(s))


def _third_person_every_substitution(sentence: str, speaker: str) -> str:
    """`to_third_person` with no gate: every substitution runs."""
    s = sentence.replace("’", "'")
    other = "assistant" if speaker.lower() == "user" else "user"
    for pattern, repl in _person._SECOND_PERSON:
        s = pattern.sub(repl.format(o=other), s)
    for pattern, repl in _person._CONTRACTED:
        s = pattern.sub(repl.format(S=speaker), s)
    s = _person._subject_verbs(s, speaker)
    s = re.sub(r"^(\W*)My\b", rf"\1{speaker}'s", s)
    s = re.sub(r"\bmy\b", "their", s, flags=re.I)
    s = re.sub(r"^(\W*)We\b", rf"\1{speaker} and others", s)
    for pattern, repl, _ in _person._WORD_SWAPS_USER:
        s = pattern.sub(repl.format(s=speaker.lower()), s)
    s = s.strip()
    if s and s[0].islower():
        s = s[0].upper() + s[1:]
    return s


_SPEAKERS = ("User", "Assistant", "Me", "Us", "Our")


def test_third_person_ungated_on_real_clauses() -> None:
    for s in _real_clauses(8):
        for speaker in ("User", "Assistant"):
            expected = _third_person_every_substitution(s, speaker)
            assert _person.to_third_person(s, speaker) == expected


@SETTINGS
@given(_ANY, st.sampled_from(_SPEAKERS))
def test_third_person_ungated(text: str, speaker: str) -> None:
    expected = _third_person_every_substitution(text, speaker)
    assert _person.to_third_person(text, speaker) == expected


# --- slots -----------------------------------------------------------------------------------


@SETTINGS
@given(_ANY)
def test_slot_gates_and_shared_sentences(text: str) -> None:
    assert _extract(text, "user", gate=True) == _extract(text, "user", gate=False)
    # Sentences split once for all extractors; a curly apostrophe makes slots split again.
    assert extract_slots(text, spans=sentence_spans(text)) == extract_slots(text)


def test_curly_apostrophes_split_sentences_for_slots_again() -> None:
    text = "I met ’Mr. Smith. I live in Paris."
    assert sentence_spans(text) != sentence_spans(text.replace("’", "'"))
    assert extract_slots(text, spans=sentence_spans(text)) == extract_slots(text)


# --- tokenize ----------------------------------------------------------------------------------


def _words_by_scan(text: str) -> list[str]:
    """`words` as one scan, each match's kind read from the match (the code before caching)."""
    out: list[str] = []
    for m in tokenize._TOKEN.finditer(text):
        tok = m.group(0)
        if m.lastgroup == "grouped":
            out.append(tok.replace(",", ""))
        elif m.lastgroup != "word":
            out.append(tok)
        else:
            tok = tok.lower().replace("’", "'")
            out.append(tok[:-2] if tok.endswith("'s") and tok not in STOPWORDS else tok)
    return out


@SETTINGS
@given(st.one_of(_ANY, st.text(alphabet="ab1,.'’s-你 ", max_size=30)))
def test_words_from_cached_tokens(text: str) -> None:
    assert tokenize.words(text) == _words_by_scan(text)


_PREV_TOKEN = re.compile(r"(\S+)$")


@SETTINGS
@given(st.text(alphabet="ab. \t(\"'[U.S", max_size=12))
def test_abbreviation_reads_the_last_word(before: str) -> None:
    m = _PREV_TOKEN.search(before)
    tok = m.group(1).lstrip("(\"'“‘[").lower() if m else None
    expected = tok is not None and (
        tok in tokenize._ABBREV
        or (len(tok) == 1 and tok.isalpha())
        or tokenize._DOTTED.fullmatch(tok) is not None
    )
    assert tokenize._is_abbreviation(before) == expected
