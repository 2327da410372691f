"""Many tenants in one store (issue 16 item 1): search latency inside one scope of a store
holding S scopes of N notes each, against the same scope alone in a store of its own.

    python -m bench.scopes build --scopes 1000 --per 1000 --work /tmp/scopes   # ~17 min here
    python -m bench.scopes build --systems mem0 --scopes 1000 --per 1000 --work /tmp/scopes
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
cleared before each search); recall@10 = an evidence sentence among the hits.

mem0 (open source, `--systems mem0`): the same messages in the same scopes (`user_id`), one
local Qdrant collection holding every scope (`mem0-shared`) and one holding the lone scope
(`mem0-alone`), infer off, its own copy of the model, vectors encoded once in batches and
answered from that table while adding (as `bench/peers.py` does). When it was built, `search`
sends each question to mem0 too, to the same scope, between memsvc's searches; mem0 has no
per-scope state to warm, so it has no `again` run."""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

from bench.api import stats
from bench.peer_stores import ingest_mem0, mem0_store, mem0_table
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
    if args.systems == "mem0":
        build_mem0(args, msgs)
        return
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


def build_mem0(args: argparse.Namespace, msgs: list[dict[str, str]]) -> None:
    alone = mem0_store(args.work / "mem0-alone")
    table, encode_s = mem0_table(alone, [m["content"] for m in msgs])
    ingest_mem0(alone, msgs, user=user(0), table=table)
    shared = mem0_store(args.work / "mem0-shared")
    t0 = time.perf_counter()
    for s in range(args.scopes):
        ingest_mem0(shared, msgs, user=user(s), table=table)
        if (s + 1) % 25 == 0:
            rate = (s + 1) * len(msgs) / (time.perf_counter() - t0)
            print(f"mem0: {s + 1} scopes, {rate:.0f} messages/s", flush=True)
    took = time.perf_counter() - t0
    info = {
        "scopes": args.scopes,
        "per_scope": len(msgs),
        "build_s": round(took, 1),
        "pre_encode_s": round(encode_s, 1),
    }
    (args.work / "build-mem0.json").write_text(json.dumps(info))
    print(json.dumps(info), flush=True)


def search(args: argparse.Namespace) -> dict[str, Any]:
    built = json.loads((args.work / "build.json").read_text())
    msgs, rel, questions, info = load(built["per_scope"])
    evidence: dict[int, set[str]] = {}
    for i, qs in enumerate(rel):
        for q in qs:
            evidence.setdefault(q, set()).add(msgs[i]["content"])
    stores = {"shared": store(args.work / "shared"), "alone": store(args.work / "alone")}
    mem0_built = args.work / "build-mem0.json"
    m0: dict[str, Any] = {}
    if mem0_built.exists():
        m0 = {"shared": mem0_store(args.work / "mem0-shared")}
        m0["alone"] = mem0_store(args.work / "mem0-alone")
    rng = random.Random(0)
    order = sorted(evidence)
    # "shared_again": the same question in the same scope right after, once the scope is
    # loaded (its index, link graph and rows in memory): what its later searches cost.
    runs = ("shared", "shared_again", "alone") + (("mem0_shared", "mem0_alone") if m0 else ())
    lat: dict[str, list[float]] = {k: [] for k in runs}
    found: dict[str, list[bool]] = {k: [] for k in runs}
    for j, qi in enumerate(order[:5] + order * args.passes):  # five warm-ups
        scopes = {"shared": user(rng.randrange(built["scopes"])), "alone": user(0)}
        scopes["shared_again"] = scopes["shared"]
        seq = [("shared", "shared"), ("shared_again", "shared"), ("alone", "alone")]
        if m0:
            seq += [("mem0_shared", "shared"), ("mem0_alone", "alone")]
        if j % 2:  # the lone scopes first; a shared scope's first search before its second
            seq = [r for r in seq[::-1] if r[1] == "alone"] + [r for r in seq if r[1] == "shared"]
        for run, name in seq:
            scope = scopes[run.removeprefix("mem0_")]
            t = time.perf_counter()
            if run.startswith("mem0_"):
                res0 = m0[name].search(
                    questions[qi], filters={"user_id": scope}, top_k=10, threshold=0.0
                )
                hits = [(r["memory"], r["user_id"]) for r in res0["results"]]
            else:
                mem = stores[name]
                mem.runtime.embedder._qcache.clear()  # the query embedding, every time
                res = mem.search(questions[qi], user_id=scope, top_k=10, reinforce=False)
                hits = [(h.memory, h.user_id) for h in res.results]
            ms = (time.perf_counter() - t) * 1000
            if j >= 5:
                lat[run].append(ms)
                found[run].append(any(text in evidence[qi] for text, _ in hits))
                assert all(u == scope for _, u in hits), run
    for mem in stores.values():
        mem.close()
    out = {
        "benchmark": "bench/scopes.py",
        "data": info,
        "store": built,
        "store_mem0": json.loads(mem0_built.read_text()) if m0 else None,
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
    if m0:
        for k in ("p50", "p95"):
            out[f"mem0_shared_over_memsvc_shared_{k}"] = round(
                out["mem0_shared"]["search_ms"][k] / out["shared"]["search_ms"][k], 3
            )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--scopes", type=int, default=1000)
    b.add_argument("--per", type=int, default=1000)
    b.add_argument("--work", type=Path, required=True)
    b.add_argument("--systems", choices=("memsvc", "mem0"), default="memsvc")
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
