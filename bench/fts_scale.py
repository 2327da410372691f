"""The lexical stage alone at scale (issue 16 item 2): memsvc's SQLite schema (the migrations
up to head: FTS5 holding each note's stemmed terms tagged with its partition,
`memsvc.db.fulltext_terms`) holding N messages in one partition beside a small one, searched
by recall's own full-text call (`memsvc.db.queries.fulltext.matches`, top 50) with the
LongMemEval questions' terms as recall takes them (`services.lexical.query_terms`). Also:
dropping the query's most common terms (document frequency over a share of the partition),
to see what pruning would save and what it changes in the top 10.

    python -m bench.fts_scale --n 100000 --out bench/results/fts-100k.json     # ~1 min

Texts: LongMemEval's 28,986 distinct sentences (`bench.peers.load`) and sentences of this
machine (`bench.corpus.collect`) up to N. Times are single-threaded wall times of the
call, in ms, after one warm-up pass. Messages are written as bare notes rows (their triggers
fill the full-text table; no embeddings, no attributes): only the lexical stage is measured."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.corpus import collect, longmemeval_questions
from bench.peers import load
from memsvc.config import DatabaseSettings
from memsvc.db.engine import make_engine
from memsvc.db.fulltext_terms import query_tokens
from memsvc.db.migrate import upgrade
from memsvc.db.queries.fulltext import matches
from memsvc.services.lexical import query_terms

SMALL = 3000
LIMIT = 50  # recall.lexical_candidates' default


_COLUMNS = (
    "id, namespace, partition, kind, content, content_hash, keywords, tags, context, facts, "
    "search_text, slots, metadata, episode_ids, event_time, valid_from, status, enrichment, "
    "strength, last_recalled_at, recall_count, created_at, updated_at"
)
_NOTE = (
    f"INSERT INTO notes ({_COLUMNS}) VALUES (:id, 'bench', :p, 'turn', '', :id, '[]', '[]', "
    "'', '[]', :t, '[]', '{}', '[]', :at, :at, 'active', 'offline', 1, :at, 0, :at, :at)"
)


def build(db: Session, texts: list[str]) -> None:
    """The messages as two partitions' notes: the big one, and the small one's first texts."""
    at = "2024-01-01 00:00:00"
    rows = [{"id": f"big{i}", "p": "big", "t": t, "at": at} for i, t in enumerate(texts)]
    rows += [
        {"id": f"small{i}", "p": "small", "t": t, "at": at} for i, t in enumerate(texts[:SMALL])
    ]
    db.execute(text(_NOTE), rows)
    db.execute(text("CREATE VIRTUAL TABLE vocab USING fts5vocab(notes_fts, 'row')"))
    db.commit()


def top(
    db: Session, partition: str, terms: list[str], notes: int | None = None
) -> tuple[list[int], float]:
    t0 = time.perf_counter()
    hits = matches(db, partition=partition, terms=terms, limit=LIMIT, notes=notes)
    return [pk for pk, _ in hits], (time.perf_counter() - t0) * 1000


def stats(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "max_ms": round(max(ms), 2),
    }


def run(n: int) -> dict[str, Any]:
    texts = [m["content"] for m in load(n)[0]]
    texts += collect(n - len(texts))
    queries = [t for t in (query_terms(q) for q in longmemeval_questions()) if t]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(DatabaseSettings(url=f"sqlite:///{Path(tmp) / 'fts.db'}"))
        upgrade(engine)
        db = Session(engine)
        t0 = time.perf_counter()
        build(db, texts)
        build_s = time.perf_counter() - t0
        for terms in queries:  # warm-up: pages into the cache
            top(db, "big", terms)
        out: dict[str, Any] = {"messages": len(texts), "small_partition": SMALL}
        out["build_s"] = round(build_s, 1)
        out["queries"] = len(queries)
        out["terms_per_query"] = round(float(np.mean([len(t) for t in queries])), 1)
        for part in ("big", "small"):
            out[part] = stats([top(db, part, t)[1] for t in queries])
        # as recall calls it: the partition's size known (its key index's), not counted
        out["big_size_given"] = stats([top(db, "big", t, len(texts))[1] for t in queries])
        total = len(texts)  # the big partition's notes

        def df(term: str) -> int:
            (token,) = query_tokens("big", [term])
            row = db.execute(text("SELECT doc FROM vocab WHERE term = :t"), {"t": token})
            found = row.first()
            return int(found[0]) if found else 0

        pruned = {}
        for share in (0.05, 0.02, 0.01):
            ms, overlap, dropped = [], [], 0
            for terms in queries:
                dfs = {t: df(t) for t in terms}
                keep = [t for t in terms if dfs[t] <= share * total] or [min(terms, key=dfs.get)]
                dropped += len(terms) - len(keep)
                full, _ = top(db, "big", terms)
                got, t_ms = top(db, "big", keep)
                ms.append(t_ms)
                overlap.append(len(set(full[:10]) & set(got[:10])) / max(1, min(10, len(full))))
            pruned[str(share)] = {
                **stats(ms),
                "terms_dropped": dropped,
                "top10_overlap": round(float(np.mean(overlap)), 3),
            }
        out["pruned_by_df_share"] = pruned
        # The big partition alone in its store (one user's embedded store): FTS5's own bm25
        # is the partition's ranking there, without candidates or counts. The index merged
        # after the deletes, as a store built by one user's writes alone would be.
        db.execute(text("DELETE FROM notes WHERE partition = 'small'"))
        db.execute(text("INSERT INTO notes_fts(notes_fts) VALUES ('optimize')"))
        db.commit()
        for terms in queries:
            top(db, "big", terms)
        out["big_alone"] = stats([top(db, "big", t)[1] for t in queries])
        db.close()
        engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    res = run(args.n)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
