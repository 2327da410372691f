"""Many tenants in one store (issue 16 item 1): search latency inside one scope of a store
holding S scopes of N notes each, against the same scope alone in a store of its own.

    python -m bench.scopes build --scopes 1000 --per 1000 --work /tmp/scopes   # ~45 min here
    python -m bench.scopes search --work /tmp/scopes --out bench/results/scopes-1m.json

Each scope holds the same N messages (`bench.peers.load(N)`: LongMemEval sentences, every
evidence sentence of its questions first), stored one note per message (`--granularity turn`)
through `Memory.add`, 50 per add, no LLM, nothing forgotten (`decay.threshold` 0). The texts
repeat from scope to scope so that the embedder runs once (an on-disk embedding cache in the
store folder): building S × N distinct texts would take S times the embedding on 2 cores. What
a scope's search touches is its own: its flat index, its rows, and its full-text matches, but
the full-text table, its term statistics and the database file hold every scope.

`search` opens both stores (`shared`: S scopes; `alone`: one scope) and sends each of the
LongMemEval questions whose evidence is stored, `--passes` times, to a random scope of the
shared store (then once more to the same scope: `shared_again`) and to the lone scope,
alternating which goes first, the query embedding included each time (the query cache is
cleared before each search); recall@10 = an evidence sentence among the hits."""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

from bench.api import stats
from bench.peers import load


def store(path: Path) -> Any:
    from memsvc import Memory
    from memsvc.config import Settings

    return Memory(
        Settings(
            data_dir=path,
            llm={"model": "none"},
            embed={"cache_dir": path.parent / "embedding-cache"},
            ingest={"granularity": "turn"},
            decay={"threshold": 0.0},
            index={"follow_interval_s": 0.0},
        )
    )


def user(i: int) -> str:
    return f"tenant-{i:05d}"


def ingest(mem: Any, msgs: list[dict[str, str]], scope: str) -> None:
    for i in range(0, len(msgs), 50):
        mem.add(messages=msgs[i : i + 50], user_id=scope, wait=True)


def build(args: argparse.Namespace) -> None:
    msgs = load(args.per)[0]
    args.work.mkdir(parents=True, exist_ok=True)
    alone = store(args.work / "alone")
    ingest(alone, msgs, user(0))
    alone.close()
    shared = store(args.work / "shared")
    t0 = time.perf_counter()
    for s in range(args.scopes):
        ingest(shared, msgs, user(s))
        if (s + 1) % 25 == 0:
            rate = (s + 1) * len(msgs) / (time.perf_counter() - t0)
            print(f"{s + 1} scopes, {rate:.0f} messages/s", flush=True)
    took = time.perf_counter() - t0
    shared.close()
    info = {"scopes": args.scopes, "per_scope": len(msgs), "build_s": round(took, 1)}
    (args.work / "build.json").write_text(json.dumps(info))
    print(json.dumps(info), flush=True)


def search(args: argparse.Namespace) -> dict[str, Any]:
    built = json.loads((args.work / "build.json").read_text())
    msgs, rel, questions, info = load(built["per_scope"])
    evidence: dict[int, set[str]] = {}
    for i, qs in enumerate(rel):
        for q in qs:
            evidence.setdefault(q, set()).add(msgs[i]["content"])
    stores = {"shared": store(args.work / "shared"), "alone": store(args.work / "alone")}
    rng = random.Random(0)
    order = sorted(evidence)
    # "shared_again": the same question in the same scope right after, once the scope is
    # loaded (its index, link graph and rows in memory): what its later searches cost.
    runs = ("shared", "shared_again", "alone")
    lat: dict[str, list[float]] = {k: [] for k in runs}
    found: dict[str, list[bool]] = {k: [] for k in runs}
    for j, qi in enumerate(order[:5] + order * args.passes):  # five warm-ups
        scopes = {"shared": user(rng.randrange(built["scopes"])), "alone": user(0)}
        scopes["shared_again"] = scopes["shared"]
        seq = [("shared", "shared"), ("shared_again", "shared"), ("alone", "alone")]
        for run, name in seq if j % 2 == 0 else [seq[2], seq[0], seq[1]]:
            mem = stores[name]
            mem.runtime.embedder._qcache.clear()  # the query embedding, every time
            t = time.perf_counter()
            res = mem.search(questions[qi], user_id=scopes[run], top_k=10, reinforce=False)
            ms = (time.perf_counter() - t) * 1000
            if j >= 5:
                lat[run].append(ms)
                found[run].append(any(h.memory in evidence[qi] for h in res.results))
                assert all(h.user_id == scopes[run] for h in res.results)
    for mem in stores.values():
        mem.close()
    out = {
        "benchmark": "bench/scopes.py",
        "data": info,
        "store": built,
        "queries": len(lat["shared"]),
        **{
            k: {"search_ms": stats(lat[k]), "recall@10": round(sum(found[k]) / len(found[k]), 3)}
            for k in runs
        },
    }
    out["shared_over_alone_p50"] = round(
        out["shared"]["search_ms"]["p50"] / out["alone"]["search_ms"]["p50"], 3
    )
    out["shared_over_alone_p95"] = round(
        out["shared"]["search_ms"]["p95"] / out["alone"]["search_ms"]["p95"], 3
    )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--scopes", type=int, default=1000)
    b.add_argument("--per", type=int, default=1000)
    b.add_argument("--work", type=Path, required=True)
    s = sub.add_parser("search")
    s.add_argument("--work", type=Path, required=True)
    s.add_argument("--passes", type=int, default=3)
    s.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.cmd == "build":
        build(args)
    else:
        res = search(args)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=1))
        print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
