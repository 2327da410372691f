"""Per-call timings of the text heuristics on real LongMemEval turns and questions.

Run: ``cd /work/main && . .venv/bin/activate && python -m tests.text.speed``
(not a test: timings depend on the machine and its load).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from memsvc.text import (
    extract_facts,
    extract_keyphrases,
    extract_slots,
    is_temporal_question,
    make_tags,
    parse_time_range,
    sentences,
    terms,
    wants_latest,
    words,
)
from tests.text._data import longmemeval_records, longmemeval_turns


def bench(name: str, fn: Callable[[Any], object], items: Sequence[Any]) -> None:
    times = []
    for x in items:
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1e3
    print(
        f"{name:38s} n={len(items):5d}  mean {ms.mean():6.3f} ms  p50 {np.median(ms):6.3f}"
        f"  p95 {np.percentile(ms, 95):6.3f}"
    )


def main() -> None:
    turns = longmemeval_turns()
    user = [t["content"] for t in turns if t["role"] == "user"]
    assistant = [t["content"] for t in turns if t["role"] == "assistant"]
    questions = [r["question"] for r in longmemeval_records()]
    as_of = datetime(2023, 5, 30, 12)
    print(
        f"median chars: user turn {int(np.median([len(u) for u in user]))}, "
        f"assistant turn {int(np.median([len(a) for a in assistant]))}"
    )
    bench("words (user turn)", words, user)
    bench("terms (user turn)", terms, user)
    bench("sentences (user turn)", sentences, user)
    bench("extract_slots (user turn)", extract_slots, user)
    bench("parse_time_range (question)", lambda q: parse_time_range(q, as_of), questions)
    bench("is_temporal_question (question)", is_temporal_question, questions)
    bench("wants_latest (question)", wants_latest, questions)
    bench("extract_keyphrases (user turn)", extract_keyphrases, user)
    bench("extract_keyphrases (assistant turn)", extract_keyphrases, assistant)
    bench("make_tags (user turn)", lambda u: make_tags(u, ["cat tree", "Luna"]), user)
    bench("extract_facts (user turn)", extract_facts, user)
    bench("extract_facts (assistant turn)", lambda a: extract_facts(a, "assistant"), assistant)


if __name__ == "__main__":
    main()
