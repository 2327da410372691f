"""End-to-end HTTP benchmark of memsvc: cold start, ingest and search, against in-process peers.

    python -m bench.api                     # 10,000 turns, 300 queries (also `make bench`)
    python bench/api.py --n 300 --queries 30 --out /tmp/api-small.json

All in one run on one machine (a noisy one: the ratios to the peers matter more than the times).
1. Cold start: `memsvc serve` spawned on 127.0.0.1 with a fresh MEMSVC_DATA_DIR; seconds from
   spawn until GET /readyz is 200 (polled every 50 ms, 120 s limit) and until a first search
   (empty scope) succeeds.
2. Ingest: N distinct texts from eval/data/longmemeval: the user and assistant turns of every
   haystack session in date order, deduplicated, held-out query turns left out, timestamps
   from the session dates made strictly increasing; with fewer than N distinct turns, the
   sentences split from them instead (`data.unit`; cycled if still short). POSTed through
   `MemoryClient` in batches of --batch messages, wait=true, one user_id. turns/s counts
   messages, not notes (round granularity joins a user turn and its reply into one note).
3. Search: --queries queries (LongMemEval questions and held-out user turns, never stored), one
   at a time after 10 warm-ups, top_k=10: client wall time p50/p95/p99/mean and the server's
   `took_ms`. Failed requests are counted (`search.errors`) and left out of the latencies.
4. Peers in this process, on memsvc's own embedder class (SentenceTransformerEmbedder, bundled
   all-MiniLM-L6-v2, no caches), loaded after the cold start and interleaved with the server's
   requests so that both sides of a ratio see the same load: (a) after each POST, `encode` of
   the same batch -> texts/s; after each search, the same query (b) embedded alone by `encode`
   and by the server's single-query path `embed_query`, (c) `embed_query` + FAISS IndexFlatIP
   search over (a)'s vectors. Ratios: memsvc turns/s / (a) texts/s (both over the summed
   per-call times); memsvc search p50 / (b) p50 and / (c) p50.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from memsvc.client import APIConnectionError, APIStatusError, MemoryClient, SearchResult

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "eval/data/longmemeval"
USER = "bench-user"
WARMUP = 10
TOP_K = 10
_DATE = re.compile(r"(\d{4})/(\d{2})/(\d{2})\D+(\d{2}):(\d{2})")
_SENT = re.compile(r"(?<=[.!?])\s+|\n+")
Msg = dict[str, str]
Unit = tuple[datetime, str, str]  # (time, role, text)


def parse_date(text: str) -> datetime:
    """A LongMemEval date ("2023/05/20 (Sat) 02:21") as an aware UTC datetime."""
    m = _DATE.match(text)
    if not m:
        raise ValueError(f"unrecognised date {text!r}")
    y, mo, d, h, mi = map(int, m.groups())
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def load(paths: Sequence[Path]) -> tuple[list[Unit], list[str]]:
    """(time, role, content) of every turn in session-date order, and the distinct questions."""
    turns: list[tuple[datetime, int, str, str]] = []
    questions: dict[str, None] = {}
    for path in paths:
        for rec in json.loads(path.read_text()):
            questions[rec["question"].strip()] = None
            for date, session in zip(rec["haystack_dates"], rec["haystack_sessions"], strict=True):
                start = parse_date(date)
                for i, t in enumerate(session):
                    role, text = t["role"], t["content"].strip()
                    if role in ("user", "assistant") and text:
                        turns.append((start + timedelta(seconds=i), len(turns), role, text))
    turns.sort()
    return [(when, role, text) for when, _, role, text in turns], list(questions)


def sentences(text: str) -> list[str]:
    """Prose-like sentences of a turn (at least 25 characters and 5 words)."""
    parts = (s.strip(" -*#\t") for s in _SENT.split(text))
    return [s for s in parts if len(s) >= 25 and len(s.split()) >= 5]


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def distinct(units: Sequence[Unit], excluded: set[str]) -> list[Unit]:
    """The first occurrence of each text (case-insensitive), skipping `excluded`."""
    seen, out = set(excluded), []
    for unit in units:
        if unit[2].lower() not in seen:
            seen.add(unit[2].lower())
            out.append(unit)
    return out


def build(
    turns: list[Unit], questions: list[str], n: int, n_queries: int
) -> tuple[list[Msg], list[str], dict[str, Any]]:
    """N messages (role, content, ISO timestamp) and n_queries + WARMUP queries none of which
    is stored: LongMemEval questions plus held-out user turns, deterministically shuffled."""
    need = n_queries + WARMUP
    n_q = min(len(questions), (need + 1) // 2)
    distinct_user = {c for _, r, c in turns if r == "user" and 20 <= len(c) <= 400}
    held = sorted(distinct_user, key=_key)[: need - n_q]
    # Mixed in a fixed pseudo-random order (another hash of each text).
    queries = sorted(sorted(questions, key=_key)[:n_q] + held, key=lambda q: _key(q[::-1]))
    excluded = {q.lower() for q in queries}
    units, unit = distinct(turns, excluded), "turn"
    if len(units) < n:
        split = [(when, role, s) for when, role, text in units for s in sentences(text)]
        units, unit = distinct(split, excluded), "sentence"
    msgs: list[Msg] = []
    prev = datetime.min.replace(tzinfo=UTC)
    for i in range(n):
        when, role, text = units[i % len(units)]
        prev = max(when, prev + timedelta(seconds=1))
        msgs.append({"role": role, "content": text, "timestamp": prev.isoformat()})
    info = {
        "source": "eval/data/longmemeval/*.json", "unit": unit, "distinct_units": len(units),
        "cycled": n > len(units), "messages": n, "roles": dict(Counter(m["role"] for m in msgs)),
        "mean_chars": round(float(np.mean([len(m["content"]) for m in msgs])), 1),
        "first_timestamp": msgs[0]["timestamp"], "last_timestamp": msgs[-1]["timestamp"],
        "queries": {"questions": n_q, "held_out_user_turns": len(held), "warmup": WARMUP},
    }  # fmt: skip
    return msgs, queries, info


def stats(ms: Sequence[float]) -> dict[str, float]:
    a = np.asarray(ms, dtype=np.float64)
    if a.size == 0:
        return {}
    pct = dict(zip(("p50", "p95", "p99"), np.percentile(a, [50, 95, 99]).tolist(), strict=True))
    return {**{k: round(v, 3) for k, v in pct.items()}, "mean": round(float(a.mean()), 3)}


def serve_command() -> list[str]:
    script = Path(sys.executable).parent / "memsvc"  # the console script, else the module
    return [str(script)] if script.exists() else [sys.executable, "-m", "memsvc.cli"]


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (graceful: indexes saved), then SIGKILL after 20 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, limit_s: float = 120.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"memsvc exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"/readyz not 200 after {limit_s:.0f}s:\n{log.read_text()[-3000:]}")


def run(args: argparse.Namespace, msgs: list[Msg], queries: list[str]) -> dict[str, Any]:
    """Cold start, ingest and search against a `memsvc serve` subprocess (always stopped), with
    the peers interleaved: every POST is followed by the embedder alone on the same batch, every
    search by the same query through each peer, so both sides of a ratio see the same load."""
    import faiss

    from memsvc.config import EmbedSettings
    from memsvc.embed.sentence import SentenceTransformerEmbedder

    env = {**os.environ, "MEMSVC_DATA_DIR": str(args.data_dir), "MEMSVC_PORT": str(args.port)}
    env.update(MEMSVC_HOST="127.0.0.1", HF_HUB_OFFLINE="1")
    if args.threads:
        env["MEMSVC_EMBED__TORCH_THREADS"] = str(args.threads)
        faiss.omp_set_num_threads(args.threads)
    url, log = f"http://127.0.0.1:{args.port}", args.data_dir / "bench-server.log"
    cmd = [*serve_command(), "serve"]
    lat: dict[str, list[float]] = {k: [] for k in ("post", "embed", "search", "took")}
    errors: Counter[str] = Counter()
    events: Counter[str] = Counter()
    hits: list[int] = []

    def search(q: str) -> SearchResult | None:
        try:
            return client.search(q, user_id=USER, top_k=TOP_K)
        except (APIStatusError, APIConnectionError) as exc:  # counted, kept out of latencies
            if proc.poll() is not None:
                raise
            status = exc.status if isinstance(exc, APIStatusError) else "connection"
            errors[f"{status}: {exc}"] += 1
            return None

    def ms(fn: Callable[[str], object], q: str) -> float:
        t = time.perf_counter()
        fn(q)
        return (time.perf_counter() - t) * 1000

    with log.open("wb") as fh, MemoryClient(url, timeout=600) as client:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_ready(proc, url, log)
            ready = time.perf_counter() - t0
            while search(queries[0]) is None and time.perf_counter() - t0 < 120:
                time.sleep(0.05)
            first = time.perf_counter() - t0
            print(f"ready in {ready:.2f}s, first search at {first:.2f}s", flush=True)
            t = time.perf_counter()  # the peers' model, loaded once the cold start is measured
            emb = SentenceTransformerEmbedder(
                EmbedSettings(batch_size=args.batch, torch_threads=args.threads)
            )
            emb.embed([m["content"] for m in msgs[: args.batch]])  # warm-up
            peer_load = time.perf_counter() - t
            vecs = []
            for i in range(0, len(msgs), args.batch):
                chunk = msgs[i : i + args.batch]
                t = time.perf_counter()
                events.update(e.event for e in client.add(chunk, user_id=USER, wait=True).results)
                lat["post"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                vecs.append(emb.embed([m["content"] for m in chunk]))
                lat["embed"].append((time.perf_counter() - t) * 1000)
                if len(vecs) % 20 == 0:
                    print(f"  {i + len(chunk)} turns, {time.perf_counter() - t0:.0f}s", flush=True)
            index = faiss.IndexFlatIP(emb.dim)
            index.add(np.vstack(vecs))
            peers: dict[str, Callable[[str], object]] = {
                "query_encode": lambda q: emb.embed([q]),  # SentenceTransformer.encode, 1 text
                "query_embed_query": emb.embed_query,  # the server's single-query path
                "faiss_flat": lambda q: index.search(emb.embed_query(q)[None, :], TOP_K),
            }
            for name in peers:
                lat[name] = []
            for j, q in enumerate(queries):  # the first WARMUP are warm-ups
                t = time.perf_counter()
                res = search(q)
                wall = (time.perf_counter() - t) * 1000
                peer_ms = {name: ms(fn, q) for name, fn in peers.items()}
                if j >= WARMUP and res is not None:
                    lat["search"].append(wall)
                    lat["took"].append(res.took_ms)
                    hits.append(len(res.results))
                for name in peers if j >= WARMUP else ():
                    lat[name].append(peer_ms[name])
        finally:
            stop(proc)
        uptime = time.perf_counter() - t0
    n, post_s, embed_s = len(msgs), sum(lat["post"]) / 1000, sum(lat["embed"]) / 1000
    if errors:
        shutil.copy(log, args.out.with_suffix(".server.log"))
    return {
        "server": {"command": cmd, "url": url, "uptime_s": round(uptime, 1)},
        "cold_start": {"readyz_s": round(ready, 3), "first_search_s": round(first, 3)},
        "ingest": {
            "turns": n, "posts": len(lat["post"]), "post_wall_s": round(post_s, 3),
            "turns_per_s": round(n / post_s, 2), "notes_created": events["ADD"],
            "events": dict(events), "post_ms": stats(lat["post"]),
        },
        "search": {
            "queries": len(queries) - WARMUP, "ok": len(lat["search"]), "top_k": TOP_K,
            "errors": dict(errors), "mean_hits": round(float(np.mean(hits or [0])), 2),
            "client_ms": stats(lat["search"]), "server_took_ms": stats(lat["took"]),
        },
        "peers": {
            "model": emb.model_name, "model_load_s": round(peer_load, 3),
            "embedder": {"texts": n, "batch": args.batch, "wall_s": round(embed_s, 3),
                         "texts_per_s": round(n / embed_s, 2)},
            **{f"{name}_ms": stats(lat[name]) for name in peers},
        },
    }  # fmt: skip


def machine() -> dict[str, Any]:
    import torch

    def git(*cmd: str) -> str:
        r = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else "unknown"

    return {
        "git_rev": git("rev-parse", "HEAD"), "git_dirty": bool(git("status", "--porcelain")),
        "python": platform.python_version(), "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()], "platform": platform.platform(),
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    fmt = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    ap.add_argument("--n", type=int, default=10_000, help="turns to ingest")
    ap.add_argument("--queries", type=int, default=300, help="timed searches (after 10 warm-ups)")
    ap.add_argument("--batch", type=int, default=50, help="messages per POST")
    ap.add_argument("--out", type=Path, help="JSON (default bench/results/api-<n>.json)")
    ap.add_argument("--data-dir", type=Path, help="server data (default: a fresh temp dir)")
    ap.add_argument("--port", type=int, default=0, help="default: a free port")
    ap.add_argument("--threads", type=int, help="torch threads (server and peers)")
    args = ap.parse_args(argv)
    if min(args.n, args.queries, args.batch) < 1:
        ap.error("--n, --queries and --batch must be at least 1")
    os.environ["HF_HUB_OFFLINE"] = "1"
    args.out = args.out or ROOT / f"bench/results/api-{args.n}.json"
    if not args.port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = int(sock.getsockname()[1])
    cli_args = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    started = datetime.now(UTC).isoformat(timespec="seconds")
    msgs, queries, info = build(*load(sorted(DATA.glob("*.json"))), args.n, args.queries)
    print(f"data: {json.dumps(info)}", flush=True)
    temp = args.data_dir is None
    args.data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="memsvc-bench-"))
    args.data_dir.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        res = run(args, msgs, queries)
    finally:
        if temp:
            shutil.rmtree(args.data_dir, ignore_errors=True)
    peers = res["peers"]
    p50 = res["search"]["client_ms"].get("p50", float("nan"))
    ratios = {
        "ingest_vs_embedder": res["ingest"]["turns_per_s"] / peers["embedder"]["texts_per_s"],
        "search_p50_vs_query_encode": p50 / peers["query_encode_ms"]["p50"],
        "search_p50_vs_query_embed_query": p50 / peers["query_embed_query_ms"]["p50"],
        "search_p50_vs_faiss_flat": p50 / peers["faiss_flat_ms"]["p50"],
    }
    ratios = {k: round(v, 3) if np.isfinite(v) else None for k, v in ratios.items()}
    result = {
        "benchmark": "bench/api.py", "date": started, "args": cli_args, "machine": machine(),
        "data": info, **res, "ratios": ratios,
    }  # fmt: skip
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, args.out)
    print_table(result)
    print(f"-> {args.out}")
    return result


def print_table(r: dict[str, Any]) -> None:
    c, i, s, p, x = r["cold_start"], r["ingest"], r["search"], r["peers"], r["ratios"]

    def ms(d: dict[str, float]) -> str:
        return "  ".join(
            f"{k} {d.get(k, float('nan')):7.2f}" for k in ("p50", "p95", "p99", "mean")
        )

    rows = [
        ("cold start: /readyz 200", f"{c['readyz_s']:.2f} s"),
        ("cold start: first search", f"{c['first_search_s']:.2f} s"),
        (f"ingest: {i['turns']} turns, {i['posts']} POSTs", f"{i['turns_per_s']:.1f} turns/s"),
        ("ingest: events", str(i["events"])),
        ("embedder alone, same batches", f"{p['embedder']['texts_per_s']:.1f} texts/s"),
        (f"search: {s['ok']} ok, errors", str(s["errors"] or "none")),
        ("search ms (client)", ms(s["client_ms"])),
        ("search ms (server took_ms)", ms(s["server_took_ms"])),
        ("query encode alone ms", ms(p["query_encode_ms"])),
        ("query embed_query alone ms", ms(p["query_embed_query_ms"])),
        ("embed_query + faiss flat ms", ms(p["faiss_flat_ms"])),
    ]
    rows += [(f"ratio {k.replace('_vs_', ' / ')}", f"{v}") for k, v in x.items()]
    width = max(len(a) for a, _ in rows)
    print("\n".join(f"{a:<{width}}  {b}" for a, b in rows))


if __name__ == "__main__":
    main()
