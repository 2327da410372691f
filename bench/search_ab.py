"""In-process search A/B of two source trees on one store, and the profile of a search.

    python -m bench.search_ab build --n 28000 --store /tmp/ab/store       # ingest once
    git archive BASE | tar -x -C /tmp/ab/a                                # tree A (old)
    python -m bench.search_ab ab --store /tmp/ab/store --a /tmp/ab/a --b . \\
        --out bench/results/search-ab-rows.json
    python -m bench.search_ab ab --http ...          # the same through `memsvc serve` + SDK
    python -m bench.search_ab ab --store S --a . --b . --b-env MEMSVC_EMBED__QUERY_PRECISION=int8 \\
        --out ...                                    # one tree, B under other settings
    python -m bench.search_ab profile --store /tmp/ab/store --tree . --top 25
    python -m bench.search_ab first --store S --a A --b . --rounds 3 --out ...

`ab` starts one worker process per tree (PYTHONPATH=<tree>, so each imports its own
`memsvc`) on its own copy of the store, and sends every query to both, one after the other,
alternating which goes first, so both see the same machine load. Each query is searched
twice per tree: the first search embeds the query (what a client waits for), the second
finds it in the embedder's query cache (the pipeline alone: what a change below the
embedder moves). Reinforcement is off, so both rank the same state; the hits (ids and
scores) of the two trees are compared query by query.

`first` times a scope's first search in a fresh process (what loading the scope costs: its
index, and until 2026-12-07 its link graph), then its second, per tree, alternating, one
process per tree and round over the same store (searches only read it). Each process first
searches another, empty scope so that imports and the query model are warm, and waits for
the document model, as `ab` does.

`profile` runs cProfile over the searches of one tree (query embeddings cached by a first
pass, so the profile shows the rest) and prints the top entries.

Data and queries as bench/api.py (LongMemEval sentences, questions and held-out turns)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import httpx

USER = "bench-user"
TOP_K = 10
QUERIES = "queries.json"


def _settings(store: Path) -> Any:
    from memsvc.config import Settings

    # Index saves and replica following off: the workers only read.
    return Settings(data_dir=store, index={"save_interval_s": 3600.0, "follow_interval_s": 0.0})


def build(args: argparse.Namespace) -> None:
    """Ingest --n messages into --store and keep the queries beside them."""
    from bench import api
    from memsvc.local import Memory

    turns, questions = api.load(sorted(api.DATA.glob("*.json")))
    msgs, queries, info = api.build(turns, questions, args.n, args.queries)
    args.store.mkdir(parents=True, exist_ok=True)
    # The queries first: a build stopped early still leaves a usable (smaller) store.
    meta: dict[str, Any] = {"data": info, "queries": queries}
    (args.store / QUERIES).write_text(json.dumps(meta, indent=1))
    mem = Memory(settings=_settings(args.store))
    t0 = time.perf_counter()
    for i in range(0, len(msgs), 50):
        mem.add(messages=msgs[i : i + 50], user_id=USER, wait=True)
    ingest_s = time.perf_counter() - t0
    mem.close()
    with sqlite3.connect(args.store / "memsvc.db") as db:
        notes = db.execute("SELECT count(*) FROM notes").fetchone()[0]
    meta.update(ingest_s=round(ingest_s, 1), notes=notes)
    (args.store / QUERIES).write_text(json.dumps(meta, indent=1))
    print(json.dumps({k: v for k, v in meta.items() if k != "queries"}, indent=1))


def worker(args: argparse.Namespace) -> None:
    """Serve searches on stdin/stdout (one JSON line each), or profile them."""
    import memsvc
    from memsvc.local import Memory

    mem = Memory(settings=_settings(args.store))
    queries: list[str] = json.loads((args.store / QUERIES).read_text())["queries"]
    if args.first:
        _first(mem, queries)
        return
    mem.search(queries[0], user_id=USER, top_k=TOP_K, reinforce=False)  # load the indexes
    _wait_documents(lambda: str(getattr(mem.runtime.embedder, "documents_state", "loaded")))
    if args.profile:
        _profile(mem, queries, args.top)
        mem.close()
        return
    print(json.dumps({"ready": memsvc.__file__}), flush=True)
    for line in sys.stdin:
        q = json.loads(line)["q"]
        t = time.perf_counter()
        res = mem.search(q, user_id=USER, top_k=TOP_K, reinforce=False)
        ms = (time.perf_counter() - t) * 1e3
        hits = [[h.id, h.score] for h in res.results]
        print(json.dumps({"ms": ms, "took": res.took_ms, "hits": hits}), flush=True)
    mem.close()


def _first(mem: Any, queries: list[str]) -> None:
    """Print the ms of the scope's first and second search, the process otherwise warm."""
    import memsvc

    mem.search(queries[0], user_id=USER + "-empty", top_k=TOP_K, reinforce=False)
    _wait_documents(lambda: str(getattr(mem.runtime.embedder, "documents_state", "loaded")))
    mem.runtime.embedder.embed_query(queries[0])  # the query's embedding is not what is timed
    mem.runtime.embedder.embed_query(queries[1])
    ms = []
    for q in queries[:2]:
        t = time.perf_counter()
        mem.search(q, user_id=USER, top_k=TOP_K, reinforce=False)
        ms.append((time.perf_counter() - t) * 1e3)
    mem.close()
    print(json.dumps({"first_ms": ms[0], "second_ms": ms[1], "memsvc": memsvc.__file__}))


def first(args: argparse.Namespace) -> dict[str, Any]:
    from bench import api

    runs: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    for r in range(args.rounds):
        for name in ("a", "b") if r % 2 == 0 else ("b", "a"):
            tree = getattr(args, name)
            env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
            cmd = [sys.executable, str(Path(__file__).resolve()), "worker", "--first"]
            done = subprocess.run(
                [*cmd, "--store", str(args.store)], env=env, check=True, capture_output=True
            )
            runs[name].append(json.loads(done.stdout.decode().strip().splitlines()[-1]))
            print(name, runs[name][-1], flush=True)
    out = {
        "benchmark": "bench/search_ab.py first",
        "trees": {n: str(getattr(args, n)) for n in runs},
        "store": {
            k: v
            for k, v in json.loads((args.store / QUERIES).read_text()).items()
            if k != "queries"
        },
        "machine": api.machine(),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    return out


def _wait_documents(state: Callable[[], str], limit_s: float = 300.0) -> None:
    """Until the document model has loaded: it loads on a background thread after the
    start, and its imports hold the interpreter lock for seconds, which searches measured
    meanwhile would wait for (earlier runs of this script measured some of that)."""
    deadline = time.monotonic() + limit_s
    while state() == "loading":
        if time.monotonic() > deadline:
            raise SystemExit("the document model did not load")
        time.sleep(0.2)


def _profile(mem: Any, queries: list[str], top: int) -> None:
    import cProfile
    import io
    import pstats

    for q in queries:  # fills the query cache: the profile shows the pipeline
        mem.search(q, user_id=USER, top_k=TOP_K, reinforce=False)
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    for q in queries:
        mem.search(q, user_id=USER, top_k=TOP_K, reinforce=False)
    prof.disable()
    per = (time.perf_counter() - t) * 1e3 / len(queries)
    out = io.StringIO()
    st = pstats.Stats(prof, stream=out).strip_dirs()
    st.sort_stats("cumulative").print_stats(top)
    st.sort_stats("tottime").print_stats(top)
    print(f"{len(queries)} searches, {per:.2f} ms per search under the profiler")
    print(out.getvalue())


class _Worker:
    def __init__(self, tree: Path, store: Path, extra: dict[str, str]) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree.resolve()), **extra}
        cmd = [sys.executable, str(Path(__file__).resolve()), "worker", "--store", str(store)]
        self.proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.ready = self._read()["ready"]
        if not str(self.ready).startswith(str(tree.resolve())):
            raise SystemExit(f"worker for {tree} imported memsvc from {self.ready}")

    def _read(self) -> dict[str, Any]:
        stdout: IO[str] = self.proc.stdout  # type: ignore[assignment]
        line = stdout.readline()
        if not line:
            raise SystemExit(f"worker exited with {self.proc.wait()}")
        out: dict[str, Any] = json.loads(line)
        return out

    def search(self, q: str) -> dict[str, Any]:
        stdin: IO[str] = self.proc.stdin  # type: ignore[assignment]
        stdin.write(json.dumps({"q": q}) + "\n")
        stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


class _HttpWorker:
    """`memsvc serve` of one tree on its copy of the store; searches through the SDK."""

    def __init__(self, tree: Path, store: Path, port: int, extra: dict[str, str]) -> None:
        from bench import api
        from memsvc.client import MemoryClient

        env = {**os.environ, "PYTHONPATH": str(tree.resolve()), "HF_HUB_OFFLINE": "1", **extra}
        env.update(MEMSVC_DATA_DIR=str(store), MEMSVC_PORT=str(port), MEMSVC_HOST="127.0.0.1")
        env.update(MEMSVC_INDEX__SAVE_INTERVAL_S="3600", MEMSVC_INDEX__FOLLOW_INTERVAL_S="0")
        url, self.log = f"http://127.0.0.1:{port}", store / "server.log"
        with self.log.open("wb") as fh:  # -m from the tree's root: its memsvc comes first
            cmd = [sys.executable, "-m", "memsvc.cli", "serve"]
            self.proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=fh, cwd=tree)
        api.wait_ready(self.proc, url, self.log)
        _wait_documents(lambda: str(httpx.get(url + "/readyz", timeout=10).json()["documents"]))
        self.client = MemoryClient(url, timeout=600)
        self.ready = str(tree)

    def search(self, q: str) -> dict[str, Any]:
        t = time.perf_counter()
        res = self.client.search(q, user_id=USER, top_k=TOP_K, reinforce=False)
        ms = (time.perf_counter() - t) * 1e3
        return {"ms": ms, "took": res.took_ms, "hits": [[h.id, h.score] for h in res.results]}

    def close(self) -> None:
        from bench import api

        self.client.close()
        api.stop(self.proc)


def _same(a: list[list[Any]], b: list[list[Any]]) -> tuple[bool, bool]:
    """(same ids in the same order, and scores equal to 1e-6 as well)."""
    ids = [h[0] for h in a] == [h[0] for h in b]
    return ids, ids and all(abs(x[1] - y[1]) <= 1e-6 for x, y in zip(a, b, strict=True))


def ab(args: argparse.Namespace) -> dict[str, Any]:
    from bench import api

    meta = json.loads((args.store / QUERIES).read_text())
    queries: list[str] = meta["queries"][api.WARMUP :]
    warm = meta["queries"][: api.WARMUP]
    names = ("a", "b")
    # Settings for B alone (MEMSVC_...=...): one tree A/B'd against itself under other settings.
    envs = {"a": {}, "b": dict(kv.split("=", 1) for kv in args.b_env)}
    with tempfile.TemporaryDirectory() as tmp:
        workers: dict[str, _Worker | _HttpWorker] = {}
        for i, name in enumerate(names):
            copy = Path(tmp) / name
            shutil.copytree(args.store, copy)
            tree, extra = getattr(args, name), envs[name]
            workers[name] = (
                _HttpWorker(tree, copy, args.port + i, extra)
                if args.http
                else _Worker(tree, copy, extra)
            )
        for q in warm:
            for w in workers.values():
                w.search(q)
        lat: dict[str, dict[str, list[float]]] = {
            n: {"embedding": [], "cached": [], "took": []} for n in names
        }
        same_ids = same_scores = 0
        for i, q in enumerate(queries):
            hits = {}
            for name in names if i % 2 == 0 else names[::-1]:
                first, second = workers[name].search(q), workers[name].search(q)
                lat[name]["embedding"].append(first["ms"])
                lat[name]["took"].append(first["took"])
                lat[name]["cached"].append(second["ms"])
                hits[name] = first["hits"]
            ids, scores = _same(hits["a"], hits["b"])
            same_ids += ids
            same_scores += scores
        for w in workers.values():
            w.close()
    out: dict[str, Any] = {
        "benchmark": "bench/search_ab.py",
        "trees": {n: str(getattr(args, n)) for n in names},
        "env": envs,
        "through": "HTTP (memsvc serve, MemoryClient)" if args.http else "in process (Memory)",
        "store": {k: v for k, v in meta.items() if k != "queries"},
        "machine": api.machine(),
        "queries": len(queries),
        "search_ms": {n: {k: api.stats(v) for k, v in lat[n].items()} for n in names},
        "ratio_b_over_a_p50": {
            k: round(_p(lat["b"][k], 50) / _p(lat["a"][k], 50), 3) for k in lat["a"]
        },
        "ratio_b_over_a_p95": {
            k: round(_p(lat["b"][k], 95) / _p(lat["a"][k], 95), 3) for k in lat["a"]
        },
        "same_top_k_ids": f"{same_ids}/{len(queries)}",
        "same_top_k_scores_1e-6": f"{same_scores}/{len(queries)}",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=1))
    return out


def _p(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="ingest a store")
    b.add_argument("--n", type=int, default=10_000, help="messages ingested")
    b.add_argument("--queries", type=int, default=300)
    b.add_argument("--store", type=Path, required=True)
    a = sub.add_parser("ab", help="interleaved A/B of two trees")
    a.add_argument("--store", type=Path, required=True)
    a.add_argument("--a", type=Path, required=True, help="the old tree")
    a.add_argument("--b", type=Path, required=True, help="the new tree")
    a.add_argument("--out", type=Path, required=True)
    a.add_argument("--http", action="store_true", help="through `memsvc serve` and the SDK")
    a.add_argument("--port", type=int, default=8790, help="A's port (B's is the next)")
    a.add_argument(
        "--b-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment for B only, e.g. MEMSVC_EMBED__QUERY_PRECISION=int8 (repeatable)",
    )
    p = sub.add_parser("profile", help="cProfile of one tree's searches")
    p.add_argument("--store", type=Path, required=True)
    p.add_argument("--tree", type=Path, default=Path("."))
    p.add_argument("--top", type=int, default=25)
    f = sub.add_parser("first", help="a scope's first search per process, two trees")
    f.add_argument("--store", type=Path, required=True)
    f.add_argument("--a", type=Path, required=True, help="the old tree")
    f.add_argument("--b", type=Path, required=True, help="the new tree")
    f.add_argument("--rounds", type=int, default=3)
    f.add_argument("--out", type=Path, required=True)
    w = sub.add_parser("worker", help=argparse.SUPPRESS)
    w.add_argument("--store", type=Path, required=True)
    w.add_argument("--profile", action="store_true")
    w.add_argument("--first", action="store_true")
    w.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    if args.cmd == "build":
        build(args)
    elif args.cmd == "ab":
        ab(args)
    elif args.cmd == "worker":
        worker(args)
    elif args.cmd == "first":
        first(args)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(args.store, Path(tmp) / "s")
            env = {**os.environ, "PYTHONPATH": str(args.tree.resolve())}
            cmd = [sys.executable, str(Path(__file__).resolve()), "worker", "--profile"]
            cmd += ["--store", str(Path(tmp) / "s"), "--top", str(args.top)]
            subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    main()
