"""Link expansion at recall: the whole partition's graph cached in memory (what recall did until
2026-12-07, `GraphStore.get`) against the seeds' neighbourhood read per search
(`memsvc.stores.graphs.expand`, now).

A SQLite file with memsvc's `note_links` table holds two partitions of `--notes` notes each,
linked as ingest links them at that size (1.49 links a note on the 100k store of
`bench.peers`: each note to one to three earlier ones, mostly recent, weights 0.5-1). For each
way it reports what the first search of a partition pays (cold: loading the graph) and what
each later search pays (warm), for `--searches` random seed sets of `top_k` notes, one hop
(the default `recall.graph_hops`), and the memory the cached graph holds.

    python -m bench.link_expansion --notes 100000 --out bench/results/link-expansion-100k.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from memsvc.db.models import Base, NoteLink
from memsvc.graph import LinkGraph
from memsvc.stores import graphs

PARTITIONS = ("bench/big", "bench/other")


def build(engine: sa.Engine, notes: int, seed: int) -> int:
    rng = random.Random(seed)
    Base.metadata.create_all(engine, tables=[NoteLink.__table__])  # type: ignore[list-item]
    rows: list[dict[str, Any]] = []
    for p, partition in enumerate(PARTITIONS):
        base = p * notes  # keys never shared between partitions, as in the notes table
        for i in range(1, notes):
            targets = {
                base + (max(0, i - rng.randint(1, 50)) if rng.random() < 0.7 else rng.randrange(i))
                for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))
            }
            rows += [
                {
                    "partition": partition,
                    "source_pk": base + i,
                    "target_pk": t,
                    "kind": "related",
                    "reason": "shared keywords",
                    "weight": rng.uniform(0.5, 1.0),
                }
                for t in targets
            ]
    with Session(engine) as session:
        session.execute(sa.insert(NoteLink), rows)
        session.commit()
    return len(rows)


def whole_graph(session: Session, partition: str) -> LinkGraph:
    """What `GraphStore.get` did on a partition's first search."""
    stmt = sa.select(NoteLink.source_pk, NoteLink.target_pk, NoteLink.weight).where(
        NoteLink.partition == partition
    )
    return LinkGraph((int(a), int(b), float(w)) for a, b, w in session.execute(stmt))


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notes", type=int, default=100_000, help="notes a partition")
    ap.add_argument("--searches", type=int, default=500)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3, help="cold loads measured")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        engine = sa.create_engine(f"sqlite:///{tmp}/links.db")
        t0 = time.perf_counter()
        links = build(engine, args.notes, args.seed)
        print(f"{links:,} links over 2 x {args.notes:,} notes in {time.perf_counter() - t0:.1f} s")
        rng = random.Random(args.seed + 1)
        seed_sets = [
            {rng.randrange(args.notes): rng.uniform(0.3, 0.9) for _ in range(args.top_k)}
            for _ in range(args.searches)
        ]
        big = PARTITIONS[0]
        out: dict[str, Any] = {"notes": args.notes, "links": links, "top_k": args.top_k}
        with Session(engine) as session:
            cold_whole, cold_hood = [], []
            for _ in range(args.rounds):  # alternating, each a first search
                t = time.perf_counter()
                graph = whole_graph(session, big)
                graph.expand(seed_sets[0], 1, 0.5)
                cold_whole.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                graphs.expand(session, big, seed_sets[0], 1, 0.5)
                cold_hood.append((time.perf_counter() - t) * 1000)
            tracemalloc.start()
            held = whole_graph(session, big)
            size, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            warm_whole, warm_hood = [], []
            same = 0
            for seeds in seed_sets:
                t = time.perf_counter()
                a = held.expand(seeds, 1, 0.5)
                warm_whole.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                b = graphs.expand(session, big, seeds, 1, 0.5)
                warm_hood.append((time.perf_counter() - t) * 1000)
                same += a == b
        engine.dispose()
    out |= {
        "first_search_ms": {"whole_graph": cold_whole, "neighbourhood": cold_hood},
        "search_ms": {
            name: {
                "p50": statistics.median(v),
                "p95": pct(v, 0.95),
                "mean": statistics.fmean(v),
            }
            for name, v in (("whole_graph", warm_whole), ("neighbourhood", warm_hood))
        },
        "whole_graph_mib": size / 2**20,
        "same_expansion": f"{same}/{len(seed_sets)}",
    }
    print(f"first search, ms: whole graph {cold_whole}, neighbourhood {cold_hood}")
    for name, s in out["search_ms"].items():
        print(f"later searches, {name}: p50 {s['p50']:.3f} p95 {s['p95']:.3f} ms")
    print(f"whole graph held: {out['whole_graph_mib']:.1f} MiB; same expansion {same}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
