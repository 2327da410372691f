"""Seeded random fuzzing that runs without hypothesis: arbitrary code points (control
characters, lone surrogates, emoji, CJK, RTL) and word salad from trigger words."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from memsvc.text import (
    extract_facts,
    extract_keyphrases,
    extract_slots,
    is_temporal_question,
    is_update_cue,
    make_tags,
    parse_time_range,
    sentences,
    terms,
    wants_latest,
)

_WORD_LIST = (
    "I I'm my we live moved to from work at as a the in on last this next ago since Paris "
    "May March Monday weekend week month year yesterday today two 3 few days 5/20 2023-05-20 "
    "Christmas summer favorite is cat named Luna love $420 . , ? ! - ' \" 24/7 early mid late"
)
_WORDS = _WORD_LIST.split(" ")
_RANGES = [
    (0x0, 0x7F),
    (0x80, 0x2FF),
    (0x590, 0x6FF),
    (0x2000, 0x206F),
    (0x3000, 0x30FF),
    (0x4E00, 0x4FFF),
    (0xD800, 0xDFFF),
    (0x1F300, 0x1F64F),
]


def random_text(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 40)))
    out = []
    for _ in range(rng.randint(0, 120)):
        lo, hi = rng.choice(_RANGES)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def test_random_text_never_crashes_and_is_deterministic() -> None:
    rng = random.Random(20240501)
    for i in range(400):
        text = random_text(rng)
        as_of = datetime(1990, 1, 1) + timedelta(days=rng.randint(0, 40_000), minutes=i)
        if i % 2:
            as_of = as_of.replace(tzinfo=timezone(timedelta(hours=rng.randint(-12, 12))))
        r = parse_time_range(text, as_of)
        assert r == parse_time_range(text, as_of)
        if r is not None:
            assert r.start < r.end <= as_of + timedelta(days=1)
        assert extract_slots(text) == extract_slots(text)
        facts = extract_facts(text, rng.choice(["user", "assistant"]))
        assert len(facts) <= 5
        kps = extract_keyphrases(text)
        assert kps == extract_keyphrases(text) and len(kps) <= 8
        assert len(make_tags(text, kps)) <= 5
        for fn in (is_temporal_question, wants_latest, is_update_cue):
            assert isinstance(fn(text), bool)
        assert all(s.strip() for s in sentences(text))
        assert terms(text) == terms(text)
