"""Timings of the eval's BM25 baseline on real LongMemEval turns and questions.

Run: ``cd /work/main && . .venv/bin/activate && python -m tests.eval.speed_bm25``
(not a test: timings depend on the machine and its load).
"""

from __future__ import annotations

import time

from memsvc_eval.bm25 import BM25

from memsvc.text.tokenize import terms
from tests.text._data import longmemeval_records, longmemeval_turns
from tests.text.speed import bench


def main() -> None:
    turns = longmemeval_turns()
    questions = [r["question"] for r in longmemeval_records()]
    docs = [terms(t["content"]) for t in turns]
    corpus = [docs[i % len(docs)] for i in range(50_000)]
    t0 = time.perf_counter()
    bm = BM25().fit(corpus)
    print(f"BM25 fit 50k turns: {time.perf_counter() - t0:.2f} s")
    bench("BM25 top_k(10) over 50k turns", lambda q: bm.top_k(terms(q), 10), questions)


if __name__ == "__main__":
    main()
