"""Property tests: no crash on arbitrary Unicode, determinism, and invariants of each output."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # type: ignore[import-not-found, unused-ignore]
from hypothesis import strategies as st  # type: ignore[import-not-found, unused-ignore]

from memsvc.text.facts import extract_facts
from memsvc.text.keyphrases import extract_keyphrases
from memsvc.text.slots import extract_slots, is_update_cue
from memsvc.text.tags import make_tags
from memsvc.text.timeexpr import is_temporal_question, parse_time_range, wants_latest
from memsvc.text.tokenize import sentence_spans, sentences, stem, terms, words

# More examples for a deeper run: MEMSVC_HYPOTHESIS_EXAMPLES=5000 pytest tests/text
SETTINGS = settings(
    max_examples=int(os.environ.get("MEMSVC_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Arbitrary Unicode, plus English-like text built from words the heuristics react to, so the
# interesting branches run too (not only the "nothing matched" path).
_VOCAB_WORDS = (
    "I I'm I've my we live moved to from work at as a the in on last this next ago since "
    "Paris Berlin Google May March Monday Tuesday weekend week month year yesterday today "
    "two 3 few couple days weeks months years 5/20 2023-05-20 Christmas summer favorite is "
    "cat dog named Luna love prefer going visited bought $420 . , ? ! - ' \" 24/7 3/4 "
    "early mid late the other day past over earlier now no longer used not don't"
)
_VOCAB = [*_VOCAB_WORDS.split(" "), "\n"]
english = st.lists(st.sampled_from(_VOCAB), max_size=40).map(" ".join)
any_text = st.one_of(st.text(max_size=300), english)
naive_as_of = st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2100, 1, 1))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
aware_as_of = st.builds(lambda dt, tz: dt.replace(tzinfo=tz), naive_as_of, offsets)


@SETTINGS
@given(any_text, st.one_of(naive_as_of, aware_as_of))
def test_time_ranges_are_past_ordered_and_deterministic(text: str, as_of: datetime) -> None:
    r = parse_time_range(text, as_of)
    assert r == parse_time_range(text, as_of)
    if r is None:
        return
    assert r.start < r.end <= as_of + timedelta(days=1)
    assert (r.start.tzinfo is None) == (as_of.tzinfo is None)
    assert r.start.tzinfo is as_of.tzinfo and r.end.tzinfo is as_of.tzinfo
    assert r.text and r.text in text
    assert r.kind in {"relative", "absolute", "named_period"}


@SETTINGS
@given(any_text)
def test_question_classifiers_never_crash(text: str) -> None:
    assert isinstance(is_temporal_question(text), bool)
    assert isinstance(wants_latest(text), bool)
    assert isinstance(is_update_cue(text), bool)


@SETTINGS
@given(any_text)
def test_tokenize_invariants(text: str) -> None:
    toks = words(text)
    assert toks == words(text)
    assert all(t and t == t.lower() for t in toks)
    assert all(stem(stem(t)) == stem(t) or len(stem(t)) <= len(t) for t in toks)
    assert all(t for t in terms(text))
    spans = sentence_spans(text)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    assert all(s.strip() for s in sentences(text))


@SETTINGS
@given(any_text, st.sampled_from(["user", "assistant", "system"]))
def test_slots_point_into_the_text(text: str, role: str) -> None:
    slots = extract_slots(text, role)
    assert slots == extract_slots(text, role)
    if role != "user":
        assert slots == []
    for s in slots:
        assert text[s.span[0] : s.span[1]] == s.text
        assert s.value and s.value == s.value.lower() and s.name == s.name.lower()
    pairs = [(s.name, s.value) for s in slots]
    assert len(pairs) == len(set(pairs))  # no duplicate (name, value)


@SETTINGS
@given(any_text, st.integers(min_value=0, max_value=10))
def test_keyphrases_and_tags(text: str, k: int) -> None:
    kps = extract_keyphrases(text, k)
    assert kps == extract_keyphrases(text, k)
    assert len(kps) <= k and all(kp.strip() for kp in kps)
    assert len({kp.lower() for kp in kps}) == len(kps)
    tags = make_tags(text, kps, k)
    assert tags == make_tags(text, kps, k)
    assert len(tags) <= k and len(set(tags)) == len(tags)
    assert all(t == t.lower() and " " not in t for t in tags)


@SETTINGS
@given(any_text, st.sampled_from(["user", "assistant"]), st.integers(min_value=0, max_value=6))
def test_facts(text: str, role: str, max_facts: int) -> None:
    facts = extract_facts(text, role, max_facts)
    assert facts == extract_facts(text, role, max_facts)
    assert len(facts) <= max_facts and len(set(facts)) == len(facts)
    assert all(f.strip() and f[-1] in ".!" for f in facts)
