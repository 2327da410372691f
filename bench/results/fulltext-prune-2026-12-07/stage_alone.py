"""The full-text stage alone at 100k, pruning off and on, alternating (2026-12-07 fifth):
`fulltext.matches` (top 50, the partition's size given as recall gives it) for the store's
100 questions, three rounds.

    PYTHONPATH=. python bench/results/fulltext-prune-2026-12-07/stage_alone.py STORE_DIR
"""

from __future__ import annotations

import json
import sys
import time

from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from memsvc.db import fulltext_terms
from memsvc.db.queries import fulltext
from memsvc.services.lexical import query_terms


def main(store: str) -> None:
    engine = create_engine(f"sqlite:///{store}/memsvc.db")
    event.listen(engine, "connect", lambda conn, _rec: fulltext_terms.register(conn))
    with open(f"{store}/queries.json") as fh:
        questions = json.load(fh)["queries"]
    with Session(engine) as s:
        part = s.execute(text("SELECT partition FROM notes LIMIT 1")).scalar_one()
        notes = s.execute(text("SELECT count(*) FROM notes")).scalar_one()
        for _round in range(3):
            for min_notes in (10**9, 20_000):  # off, then on (the default)
                fulltext.PRUNE_MIN_NOTES = min_notes
                ms = []
                for q in questions:
                    t0 = time.perf_counter()
                    fulltext.matches(s, partition=part, terms=query_terms(q), limit=50, notes=notes)
                    ms.append((time.perf_counter() - t0) * 1e3)
                ms.sort()
                pruning = "on" if min_notes == 20_000 else "off"
                print(f"pruning {pruning}: p50 {ms[49]:.2f} ms, p95 {ms[94]:.2f} ms")


if __name__ == "__main__":
    main(sys.argv[1])
