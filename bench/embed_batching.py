"""In-process A/B of document embedding under concurrency: one request at a time behind a
lock (the old path) against the micro-batcher (memsvc.embed.batching), same model, same
texts, interleaved rounds so both see the same machine load.

    python -m bench.embed_batching --threads 8 --calls 10 --rounds 2

Each of --threads threads embeds --calls adds' worth of texts one after another: an add of
one LongMemEval round embeds the note's key (user turn + reply, truncated at 256 tokens as
the model does) and the user's sentences (the sentence-level parts). Reported per mode:
adds/s over the whole round and per-call latency p50/p95 in ms.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from bench.load import corpus
from memsvc.config import EmbedSettings
from memsvc.embed.sentence import SentenceTransformerEmbedder

_SENT = re.compile(r"(?<=[.!?])\s+")


def workload(n: int) -> list[list[str]]:
    """The texts of n adds: key + the user's sentences (at most 16, as ingest does)."""
    _, rounds, _ = corpus(0)
    adds = []
    for rnd in rounds[:n]:
        user, reply = rnd[0]["content"], rnd[1]["content"]
        parts = [s for s in _SENT.split(user) if len(s.split()) >= 3][:16]
        adds.append([f"user: {user}\nassistant: {reply}", *parts])
    return adds


def run(embed: Callable[[list[str]], Any], adds: list[list[str]], threads: int) -> dict[str, Any]:
    lat: list[float] = []
    lock = threading.Lock()

    def worker(mine: Sequence[list[str]]) -> None:
        for texts in mine:
            t = time.perf_counter()
            embed(texts)
            with lock:
                lat.append((time.perf_counter() - t) * 1000)

    chunks = [adds[i::threads] for i in range(threads)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, chunks))
    wall = time.perf_counter() - t0
    p50, p95 = np.percentile(lat, [50, 95])
    return {
        "adds_per_s": round(len(adds) / wall, 2),
        "p50_ms": round(float(p50), 1),
        "p95_ms": round(float(p95), 1),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--calls", type=int, default=10, help="adds per thread per round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--small-batch", type=int, default=16, help="a third mode's max_batch")
    args = ap.parse_args(argv)
    model = SentenceTransformerEmbedder(EmbedSettings())
    adds = workload(args.threads * args.calls)
    lock = threading.Lock()

    def locked(texts: list[str]) -> Any:
        with lock:  # the old path: one request's whole encode at a time
            return model.encode_now(texts)

    from memsvc.embed.batching import MicroBatcher

    small = MicroBatcher(model.encode_now, dim=model.dim, max_batch=args.small_batch)
    modes: dict[str, Callable[[list[str]], Any]] = {
        "lock": locked,
        "micro_batch": model.embed,
        f"micro_batch_max{args.small_batch}": small.embed,
    }
    model.embed(adds[0])  # warm-up
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    for _ in range(args.rounds):
        for name, fn in modes.items():
            results[name].append(run(fn, adds, args.threads))
            print(name, results[name][-1], flush=True)
    model.close()
    small.close()
    out = {"args": vars(args), "texts_per_add": round(float(np.mean([len(a) for a in adds])), 1)}
    out["results"] = results
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
