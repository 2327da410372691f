"""The extractors over real chat turns (LongMemEval oracle sample, MemoryBank Chinese)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from memsvc.text.facts import extract_facts
from memsvc.text.keyphrases import extract_keyphrases
from memsvc.text.slots import extract_slots
from memsvc.text.stopwords import STOPWORDS
from memsvc.text.tags import make_tags
from memsvc.text.timeexpr import parse_time_range
from memsvc.text.tokenize import sentence_spans, terms
from tests.text._data import chinese_texts, longmemeval_records, longmemeval_turns

_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")


def _date(s: str) -> datetime:
    return datetime.strptime(s[:10] + s[-6:], "%Y/%m/%d %H:%M")  # "2023/05/30 (Tue) 14:01"


def test_no_slot_from_questions_or_assistant_turns() -> None:
    turns = longmemeval_turns()
    found: list[tuple[str, str]] = []
    for turn in turns:
        text, role = turn["content"], turn["role"]
        slots = extract_slots(text, role)
        if role != "user":
            assert slots == []
            continue
        spans = sentence_spans(text)
        if len(spans) == 1 and text.rstrip().endswith("?"):
            assert slots == [], text  # a one-question turn
        for slot in slots:
            sentence = next(text[a:b] for a, b in spans if a <= slot.span[0] < b)
            assert not sentence.rstrip().endswith("?"), sentence
        found.extend((s.name, s.value) for s in slots)
    # Statements known to be in the sample are found.
    assert {("pet_cat", "luna"), ("age", "32"), ("hometown", "california")} <= set(found)


def test_slot_cue_gating_is_lossless_on_real_turns() -> None:
    from memsvc.text.slots import _extract

    for turn in longmemeval_turns()[::3]:
        if turn["role"] == "user":
            text = turn["content"]
            assert _extract(text, "user", gate=True) == _extract(text, "user", gate=False)


def test_question_time_ranges_are_past_and_hit_the_evidence() -> None:
    resolved = hits = 0
    for rec in longmemeval_records():
        as_of = _date(rec["question_date"])
        r = parse_time_range(rec["question"], as_of)
        if r is None:
            continue
        resolved += 1
        assert r.start < r.end <= as_of + timedelta(days=1)
        evidence = [
            _date(d)
            for d, sid in zip(rec["haystack_dates"], rec["haystack_session_ids"], strict=True)
            if sid in rec["answer_session_ids"]
        ]
        # People mention an event up to a week after it happened.
        wide = r.expand(after=timedelta(days=7))
        hits += any(wide.contains(e) for e in evidence)
    assert resolved >= 10
    assert hits / resolved >= 0.75


def test_user_facts_are_third_person_statements() -> None:
    for turn in longmemeval_turns()[::5]:
        if turn["role"] != "user":
            continue
        for fact in extract_facts(turn["content"]):
            assert not fact.endswith("?")
            assert not re.search(r"\bI\b|\bmy\b", _QUOTED.sub("", fact)), fact


def test_keyphrases_and_tags_on_real_turns() -> None:
    for turn in longmemeval_turns()[::5]:
        kps = extract_keyphrases(turn["content"])
        assert len(kps) <= 8
        assert not [k for k in kps if k.lower() in STOPWORDS]
        tags = make_tags(turn["content"], kps)
        assert len(tags) <= 5 and all(t == t.lower() for t in tags)


def test_chinese_text_passes_through_harmlessly() -> None:
    for text in chinese_texts():
        assert extract_slots(text) == []
        assert parse_time_range(text, datetime(2023, 5, 1)) is None
        extract_facts(text)
        make_tags(text, extract_keyphrases(text))
        assert terms(text) or not text  # character unigrams


@pytest.mark.slow
def test_all_extractors_over_every_turn() -> None:
    for turn in longmemeval_turns():
        text, role = turn["content"], turn["role"]
        extract_slots(text, role)
        extract_facts(text, role)
        make_tags(text, extract_keyphrases(text))
