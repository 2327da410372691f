"""memsvc and mem0 (open source) side by side, in one process, on the same texts and queries.

    python -m bench.peers --n 10000 --out bench/results/peers-10k.json

Data: the LongMemEval files in eval/data, every turn split into prose-like sentences
(`bench.api.sentences`), deduplicated. Each sentence of a turn marked `has_answer` is evidence
for its record's question. Stored: every evidence sentence, then the other sentences in date
order up to --n, all as one user's messages in date order. Queries: the questions with at
least one evidence sentence stored (never stored themselves).

memsvc: `memsvc.Memory` in process (SQLite + index folder, defaults, no LLM), messages added
50 at a time with wait=True. mem0: `mem0.Memory` (mem0ai, open source) with its local Qdrant
(qdrant-client's embedded mode on a folder), the same all-MiniLM-L6-v2 (the bundled folder
through mem0's huggingface embedder), `infer=False` (no LLM: one memory per message), added 50
messages per call. mem0 embeds each message on its own; to build its store fast the same
texts are first encoded in batches by mem0's own model and its `embed` answers from that
table while adding (searches embed the query through mem0's own path, uncached).

Search: each query through both, interleaved (memsvc then mem0) so both see the same load,
top_k=--k, query embedding included, after 5 warm-ups. recall@k = share of queries whose top k
holds at least one evidence sentence (memsvc: a hit whose episodes include one; mem0: a hit
that is one). mem0 is asked with threshold=0 so that it returns k hits like memsvc.

Larger stores (bench/peers_device.sh, on the lent GPU machine): `--fill` adds sentences of a
text file (one per line, .xz read too) once LongMemEval's run out, dated before its first
session, roles alternating; `--phase build` builds the stores in `--work` (`--build-device cuda`
embeds memsvc's documents and mem0's batch table on the GPU; `--systems` builds one system, so
two processes can build both at once) and `--phase search` opens them again on the CPU and
times the searches (run it under `taskset` with `--threads`: memsvc's embed.torch_threads,
which sizes its ONNX query session too, and torch's threads for mem0's query embedding)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.api import DATA, parse_date, sentences, stats
from bench.corpus import read_sentences
from bench.peer_stores import (
    BATCH,
    USER,
    ingest_mem0,
    ingest_memsvc,
    mem0_store,
    memsvc_store,
    note_count,
)

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 5


def load(
    n: int, fill: Path | None = None
) -> tuple[list[dict[str, str]], list[set[int]], list[str], dict[str, Any]]:
    """(messages, evidence sets per message by question index, questions, info)."""
    rows: dict[str, tuple[datetime, str, str, set[int]]] = {}
    questions: list[str] = []
    for path in sorted(DATA.glob("*.json")):
        for rec in json.loads(path.read_text()):
            qi = len(questions)
            questions.append(rec["question"].strip())
            for date, session in zip(rec["haystack_dates"], rec["haystack_sessions"], strict=True):
                start = parse_date(date)
                for i, t in enumerate(session):
                    if t["role"] not in ("user", "assistant"):
                        continue
                    for s in sentences(t["content"]):
                        key = s.lower()
                        row = rows.setdefault(
                            key, (start + timedelta(seconds=i), t["role"], s, set())
                        )
                        if t.get("has_answer"):
                            row[3].add(qi)
    qset = {q.lower() for q in questions}
    units = [r for k, r in rows.items() if k not in qset]
    units.sort(key=lambda r: (r[0], r[2]))
    evidence = [r for r in units if r[3]]
    other = [r for r in units if not r[3]][: max(0, n - len(evidence))]
    chosen = sorted(evidence[:n] + other, key=lambda r: (r[0], r[2]))
    extra: list[str] = []
    if fill is not None and len(chosen) < n:
        seen = set(rows) | qset
        for text in read_sentences(fill):
            if len(chosen) + len(extra) >= n:
                break
            if text.lower() not in seen:
                seen.add(text.lower())
                extra.append(text)
        first = chosen[0][0] if chosen else datetime(2023, 1, 1, tzinfo=UTC)
        filled = [
            (first - timedelta(seconds=len(extra) - i), ("user", "assistant")[i % 2], t, set())
            for i, t in enumerate(extra)
        ]
        chosen = filled + chosen
    msgs, rel = [], []
    prev = datetime.min.replace(tzinfo=UTC)
    for when, role, text, qs in chosen:
        prev = max(when, prev + timedelta(seconds=1))
        msgs.append({"role": role, "content": text, "timestamp": prev.isoformat()})
        rel.append(qs)
    info = {
        "sentences_distinct": len(units),
        "evidence_sentences": len(evidence),
        "messages": len(msgs),
        "fill_sentences": len(extra),
        "mean_chars": round(float(np.mean([len(m["content"]) for m in msgs])), 1),
    }
    return msgs, rel, questions, info


def build(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Builds the stores of `args.systems` in `work`; writes their id maps and build times."""
    msgs, _, _, info = load(args.n, args.fill)
    print(f"data: {json.dumps(info)}", flush=True)
    out: dict[str, Any] = {"data": info}
    if "memsvc" in args.systems:
        mem = memsvc_store(
            work / "memsvc", args.model, args.build_device, granularity=args.granularity
        )
        where_ms, memsvc_s = ingest_memsvc(mem, msgs, args.batch)
        t = time.perf_counter()
        mem.close()
        close_s = time.perf_counter() - t
        print(
            f"memsvc: {len(msgs)} messages in {memsvc_s:.1f}s (+{close_s:.1f}s close)", flush=True
        )
        (work / "memsvc-ids.json").write_text(json.dumps(where_ms))
        out["memsvc"] = {
            "ingest_s": round(memsvc_s, 2),
            "close_s": round(close_s, 2),
            "granularity": args.granularity,
            "notes": note_count(work / "memsvc"),
        }
    if "mem0" in args.systems:
        m0 = mem0_store(work, args.model, args.build_device)
        where_m0, mem0_s, mem0_encode_s = ingest_mem0(m0, msgs, args.batch)
        print(f"mem0: {len(msgs)} messages in {mem0_s:.1f}s (+{mem0_encode_s:.1f}s)", flush=True)
        client = getattr(m0.vector_store, "client", None)
        if client is not None:
            client.close()  # qdrant's local mode writes and unlocks its folder
        (work / "mem0-ids.json").write_text(json.dumps(where_m0))
        out["mem0"] = {
            "ingest_s": round(mem0_s, 2),
            "ingest_pre_encode_s": round(mem0_encode_s, 2),
        }
    for name in ("memsvc", "mem0"):
        if name in out:
            out[name].update({"build_device": args.build_device, "add_batch": args.batch})
            (work / f"{name}-build.json").write_text(json.dumps(out[name]))
    return out


def search(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Opens both stores in `work` (on the CPU) and times the interleaved searches."""
    _, rel, questions, info = load(args.n, args.fill)
    relevant: dict[int, set[int]] = {}
    for i, qs in enumerate(rel):
        for q in qs:
            relevant.setdefault(q, set()).add(i)
    queries = sorted(relevant)
    print(f"data: {json.dumps(info)}; {len(queries)} queries", flush=True)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    t = time.perf_counter()
    mem = memsvc_store(work / "memsvc", args.model, "cpu", args.threads, args.granularity)
    open_ms = time.perf_counter() - t
    t = time.perf_counter()
    m0 = mem0_store(work, args.model, "cpu")
    open_m0 = time.perf_counter() - t
    print(f"opened: memsvc {open_ms:.1f}s, mem0 {open_m0:.1f}s", flush=True)
    where_ms = {k: int(v) for k, v in json.loads((work / "memsvc-ids.json").read_text()).items()}
    where_m0 = {k: int(v) for k, v in json.loads((work / "mem0-ids.json").read_text()).items()}

    def memsvc_hits(q: str) -> list[set[int]]:
        res = mem.search(q, user_id=USER, top_k=args.k, reinforce=False)
        return [{where_ms[e] for e in h.episode_ids if e in where_ms} for h in res.results]

    def mem0_hits(q: str) -> list[set[int]]:
        res = m0.search(q, filters={"user_id": USER}, top_k=args.k, threshold=0.0)
        out = res["results"] if isinstance(res, dict) else res
        return [{where_m0[r["id"]]} if r["id"] in where_m0 else set() for r in out]

    systems: dict[str, Callable[[str], list[set[int]]]] = {
        "memsvc": memsvc_hits,
        "mem0": mem0_hits,
    }
    lat: dict[str, list[float]] = {k: [] for k in systems}
    found: dict[str, list[bool]] = {k: [] for k in systems}
    nhits: dict[str, list[int]] = {k: [] for k in systems}
    for j, qi in enumerate(queries[:WARMUP] + queries):
        for name, fn in systems.items():
            t = time.perf_counter()
            hits = fn(questions[qi])
            ms = (time.perf_counter() - t) * 1000
            if j >= WARMUP:
                lat[name].append(ms)
                found[name].append(any(h & relevant[qi] for h in hits))
                nhits[name].append(len(hits))
    mem.close()
    out: dict[str, Any] = {}
    for name in systems:
        out[name] = {
            "search_ms": stats(lat[name]),
            f"recall@{args.k}": round(float(np.mean(found[name])), 3),
            "mean_hits": round(float(np.mean(nhits[name])), 2),
        }
        built = work / f"{name}-build.json"
        if built.exists():
            out[name].update(json.loads(built.read_text()))
    out["memsvc"]["open_s"] = round(open_ms, 2)
    out["mem0"]["open_s"] = round(open_m0, 2)
    p = {k: out[k]["search_ms"] for k in systems}
    ratios = {
        "mem0_p50_over_memsvc_p50": round(p["mem0"]["p50"] / p["memsvc"]["p50"], 3),
        "mem0_p95_over_memsvc_p95": round(p["mem0"]["p95"] / p["memsvc"]["p95"], 3),
    }
    return {"data": info, "queries": len(queries), "k": args.k, **out, "ratios": ratios}


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-peers-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.phase in ("all", "build"):
        res = build(args, work)
        if args.phase == "build":
            return res
    return search(args, work)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=10_000, help="messages stored in each system")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--site", type=Path, default=None, help="extra folder for mem0's packages")
    ap.add_argument("--fill", type=Path, default=None, help="sentences once LongMemEval's run out")
    ap.add_argument("--phase", choices=("all", "build", "search"), default="all")
    ap.add_argument("--work", type=Path, default=None, help="store folder (default: a temp one)")
    ap.add_argument("--systems", default="memsvc,mem0", help="what --phase build builds")
    ap.add_argument("--build-device", default="cpu", help="cuda: embed the stores on the GPU")
    ap.add_argument("--batch", type=int, default=BATCH, help="messages per add")
    ap.add_argument("--model", default=None, help="sentence-transformers folder for both")
    ap.add_argument("--threads", type=int, default=None, help="search: torch / ONNX threads")
    ap.add_argument(
        "--granularity",
        default="round",
        choices=("round", "turn"),
        help="memsvc's ingest.granularity (turn: one note per message)",
    )
    ap.add_argument("--label", default=None, help="where the numbers were taken, for the JSON")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    args.systems = set(args.systems.split(","))
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.site:
        sys.path.append(str(args.site))  # after the venv: its packages win
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    res = run(args)
    import mem0

    res.update(
        {
            "benchmark": "bench/peers.py",
            "phase": args.phase,
            "date": started,
            "wall_s": round(time.perf_counter() - t0, 1),
            "versions": {"mem0ai": getattr(mem0, "__version__", "?")},
            "machine": {
                "label": args.label,
                "cpus": os.cpu_count(),
                "cpus_allowed": sorted(os.sched_getaffinity(0)),
                "threads": args.threads,
                "loadavg": [round(x, 2) for x in os.getloadavg()],
                "python": platform.python_version(),
            },
        }
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1), flush=True)


if __name__ == "__main__":
    main()
