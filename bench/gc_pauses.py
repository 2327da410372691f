"""Garbage-collector pauses of `memsvc serve` with its heap frozen (`api.gc_freeze`) and not.

    python -m bench.gc_pauses --store /tmp/peers100k/memsvc --searches 2000 \\
        --out bench/results/gc-pauses-100k.json

The store is a data folder with `queries.json` beside it (as `bench/search_ab.py` builds or
`bench/peers.py` leaves with one written). It is copied once; servers run on the copy one
after the other, off and on alternating in `--rounds` pairs (which goes first alternates
too), each after its document model has loaded (readiness says so) and 20 warm-up searches.
Then `--searches` sequential searches over HTTP (the queries in turn, reinforcement off, so
every run ranks the same state), their client-side latency, and the server's own count of
collections and their time per generation from /metrics, before and after."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import api

USER = "bench-user"
WARMUP = 20


def _gc(url: str) -> dict[str, list[float]]:
    text = httpx.get(url + "/metrics", timeout=30).text
    out: dict[str, list[float]] = {}
    for name in ("collections_total", "pause_seconds_total", "pause_max_seconds"):
        found = re.findall(rf'^memsvc_gc_{name}{{generation="(\d)"}} (\S+)$', text, re.M)
        out[name] = [float(v) for _, v in sorted(found)]
    frozen = re.search(r"^memsvc_gc_frozen_objects (\d+)$", text, re.M)
    out["frozen"] = [float(frozen.group(1)) if frozen else 0.0]
    return out


def _wait_documents(url: str, limit_s: float = 300.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if httpx.get(url + "/readyz", timeout=5).json().get("documents") == "loaded":
            return
        time.sleep(0.5)
    raise SystemExit("the document model did not load")


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 3)


def run(store: Path, queries: list[str], freeze: bool, n: int, port: int) -> dict[str, Any]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MEMSVC_DATA_DIR": str(store)}
    env.update(MEMSVC_PORT=str(port), MEMSVC_HOST="127.0.0.1")
    env.update(MEMSVC_INDEX__SAVE_INTERVAL_S="3600", MEMSVC_INDEX__FOLLOW_INTERVAL_S="0")
    env.update(MEMSVC_API__GC_FREEZE="true" if freeze else "false")
    url, log = f"http://127.0.0.1:{port}", store.parent / f"server-{port}.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([*api.serve_command(), "serve"], env=env, stdout=fh, stderr=fh)
    try:
        api.wait_ready(proc, url, log)
        _wait_documents(url)
        body: dict[str, Any] = {"user_id": USER, "top_k": 10, "reinforce": False}
        with httpx.Client(base_url=url, timeout=120) as client:
            for q in queries[:WARMUP]:
                client.post("/v1/memories/search", json={**body, "query": q}).raise_for_status()
            before = _gc(url)
            ms: list[float] = []
            for i in range(n):
                t = time.perf_counter()
                r = client.post(
                    "/v1/memories/search", json={**body, "query": queries[i % len(queries)]}
                )
                ms.append((time.perf_counter() - t) * 1e3)
                r.raise_for_status()
            after = _gc(url)
    finally:
        api.stop(proc)
    delta = {
        k: [round(a - b, 6) for a, b in zip(after[k], before[k], strict=True)]
        for k in ("collections_total", "pause_seconds_total")
    }
    return {
        "gc_freeze": freeze,
        "searches": n,
        "latency_ms": {
            q: _pct(ms, p) for q, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999))
        }
        | {"max": round(max(ms), 3)},
        "collections": delta["collections_total"],
        "pause_s": delta["pause_seconds_total"],
        "longest_pause_s": after["pause_max_seconds"],
        "frozen_objects": int(after["frozen"][0]),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--store", type=Path, required=True)
    p.add_argument("--searches", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=2, help="off/on pairs")
    p.add_argument("--port", type=int, default=8795)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    queries: list[str] = json.loads((args.store / "queries.json").read_text())["queries"]
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(args.store, copy)
        for r in range(args.rounds):
            for freeze in (False, True) if r % 2 == 0 else (True, False):
                res = run(copy, queries, freeze, args.searches, args.port + len(runs))
                res["round"] = r
                print(json.dumps(res))
                runs.append(res)
    out = {"benchmark": "bench/gc_pauses.py", "store": str(args.store), "runs": runs}
    out["machine"] = {"cpus": os.cpu_count(), "loadavg": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
