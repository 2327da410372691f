"""What a SPANN index built by ingest carries as garbage, and what compacting it changes
(issue 16: scale on one node). Copies a partition's index folder, reports its garbage
(`SpannIndex.garbage`, `stats`), times searches, compacts the copy, and times them again.

    python -m bench.spann_garbage --store /tmp/peers100k/memsvc --out OUT.json

`--store`: a memsvc data folder (e.g. `bench.peers --phase build`); its largest SPANN index
is used. Queries: stored key vectors of `--queries` random notes with a little noise (seed
0), as single searches (recall: k 40) and in batches of 50 (ingest's candidates: k 20).
`--inserts N` then adds N new vectors (noised stored ones, seed 1) in adds of 50 to a second
copy as built and to the compacted one, alternating."""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import statistics
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from memsvc.index.spann.index import SpannIndex


def largest_spann(store: Path) -> Path:
    folders = [m.parent for m in (store / "index").glob("*/spann-*/manifest.json")]
    if not folders:
        raise SystemExit(f"no SPANN index under {store / 'index'}")
    return max(folders, key=lambda f: json.loads((f / "manifest.json").read_text())["count"])


def queries(store: Path, n: int, seed: int = 0) -> np.ndarray:
    with closing(sqlite3.connect(store / "memsvc.db")) as db:
        rows = db.execute(
            "SELECT embedding FROM notes WHERE embedding IS NOT NULL ORDER BY pk"
        ).fetchall()
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(rows), size=min(n, len(rows)), replace=False)
    q = np.stack([np.frombuffer(rows[i][0], dtype=np.float32) for i in pick])
    q = q + rng.normal(0, 0.03, q.shape).astype(np.float32)
    out: np.ndarray = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    return out


def timed(ix: SpannIndex, q: np.ndarray, rounds: int) -> dict[str, Any]:
    single: list[float] = []
    batch: list[float] = []
    for _ in range(rounds):
        for row in q:
            t = time.perf_counter()
            ix.search(row[None], 40)
            single.append((time.perf_counter() - t) * 1000)
        for s in range(0, len(q) - 49, 50):
            t = time.perf_counter()
            ix.search(q[s : s + 50], 20)
            batch.append((time.perf_counter() - t) * 1000)
    return {
        "single_k40_p50_ms": round(statistics.median(single), 3),
        "single_k40_p95_ms": round(float(np.percentile(single, 95)), 3),
        "batch50_k20_p50_ms": round(statistics.median(batch), 2),
    }


def state(ix: SpannIndex, q: np.ndarray, rounds: int) -> dict[str, Any]:
    return {"garbage": round(ix.garbage(), 4), **ix.stats(), **timed(ix, q, rounds)}


def inserts(src: Path, compacted: Path, store: Path, n: int) -> dict[str, Any]:
    """`n` new vectors in adds of 50 (as ingest sends them) into the index as built and into
    its compacted copy, alternating: ms a vector, and the garbage each is left with."""
    as_built = compacted.with_name(compacted.name + "-as-built")
    if as_built.exists():
        shutil.rmtree(as_built)
    shutil.copytree(src, as_built)
    vecs = queries(store, n, seed=1)
    ids = np.arange(n, dtype=np.int64) + 2**40  # above any note's pk
    times: dict[str, list[float]] = {"as_built": [], "compacted": []}
    out: dict[str, Any] = {"n": n, "batch": 50}
    with SpannIndex.load(as_built) as a, SpannIndex.load(compacted) as b:
        grown = b.stats()["posting_bytes"]
        for i, s in enumerate(range(0, n, 50)):
            pair = [("as_built", a), ("compacted", b)]
            for name, ix in pair if i % 2 == 0 else pair[::-1]:
                t = time.perf_counter()
                ix.add(ids[s : s + 50], vecs[s : s + 50])
                times[name].append((time.perf_counter() - t) * 1000 / len(ids[s : s + 50]))
        for name, ix in (("as_built", a), ("compacted", b)):
            out[name] = {
                "ms_per_vector_p50": round(statistics.median(times[name]), 4),
                "ms_per_vector_mean": round(statistics.fmean(times[name]), 4),
                "garbage_after": round(ix.garbage(), 4),
            }
        out["compacted"]["posting_bytes_grown_per_vector"] = round(
            (b.stats()["posting_bytes"] - grown) / n
        )
    shutil.rmtree(as_built)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/spann-garbage"))
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--inserts", type=int, default=0, help="then time N adds into both copies")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    src = largest_spann(args.store)
    if args.work.exists():
        shutil.rmtree(args.work)
    shutil.copytree(src, args.work)  # the copy is compacted; the store stays as built
    q = queries(args.store, args.queries)
    out: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.processor() or platform.machine(),
        "index": str(src),
    }
    with SpannIndex.load(args.work) as ix:
        top = ix.search(q, 10)[1]
        out["before"] = state(ix, q, args.rounds)
        t = time.perf_counter()
        ix.compact()
        out["compact_s"] = round(time.perf_counter() - t, 2)
        out["after"] = state(ix, q, args.rounds)
        again = ix.search(q, 10)[1]
        out["same_top10"] = int(
            sum(set(a) == set(b) for a, b in zip(top.tolist(), again.tolist(), strict=True))
        )
        out["queries"] = len(q)
    if args.inserts:
        out["inserts"] = inserts(src, args.work, args.store, args.inserts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
