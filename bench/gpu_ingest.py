"""In-process ingest benchmark: the dev suites' turns through `Memory.add` (no LLM), against
the embedder alone on the same texts, with a stage profile.

    python -m bench.gpu_ingest --device cuda --seconds 150 --out bench/results/gpu-ingest.json

Turns: the LongMemEval dev suite (`eval/data`, every distinct haystack) and LoCoMo
(`--locomo`, default ../shared/data/locomo/locomo10_dev5.json), one scope per haystack, every
session one `add(messages=..., wait=True)` as the eval sends it (`--sessions-per-add K`: K
sessions a call through `add_many`, embedded together). `--workers` threads ingest
different scopes at once (their embedding calls share forward passes through the embedder's
micro-batcher). `--processes N` runs N such processes on one database, each its own `Memory`
(its own index folder and model: the several-replicas setup of the README) with the scopes
dealt between them, so that Python's work is spread over N interpreter locks. Ingest stops
starting new sessions after `--seconds`; the rate is the turns finished over the wall time.

Stages (seconds summed over worker threads, so they can exceed the wall time): the
functions below are wrapped in this process only (nothing in memsvc changes):
  tokenize   SentenceTransformer.tokenize/preprocess (inside encode)
  forward    SentenceTransformer.forward, synchronised with the GPU (inside encode)
  embed      planning.embed_units as ingest calls it (tokenize + forward + pooling + waiting
             for the micro-batcher)
  prepare    ingest.prepare_units (attributes + parts + embed: what depends on the text alone)
  decide     ingest.decide_units (neighbour search, decisions, evolved neighbours embedded)
  plan       ingest.plan_units, for a baseline's package that has no prepare/decide stages
  write      ingest.write_plan (the transaction: rows, FTS, commit; index/graph after it)
  add        Memory.add as a whole
  lock_wait  SQLite only: BEGIN IMMEDIATE waiting for the database's write lock
  lock_held  SQLite only: from BEGIN IMMEDIATE's return to the end of the COMMIT"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.dev_turns import DEFAULT_LOCOMO, Record, distinct_sessions, haystacks, shard
from bench.measure import Stages, run_children, write_lock

# isort: split
from memsvc_eval.system import message, utc  # eval/ is on the path once bench.dev_turns is imported


def settings_values(
    data_dir: Path, device: str, batch: int, extra: dict[str, Any]
) -> dict[str, Any]:
    """The benchmark's settings as plain values (they travel to spawned processes)."""
    embed: dict[str, Any] = {"device": device, "batch_size": batch, "query_engine": "torch"}
    model = os.environ.get("MEMSVC_BENCH_MODEL")
    if model:
        embed["model"] = model
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "embed": embed,
        "llm": {"model": "none"},
    }
    for key, val in extra.items():
        section, _, field = key.partition(".")
        values.setdefault(section, {})[field] = val
    return values


def make_settings(values: dict[str, Any]) -> Any:
    from memsvc.config import Settings

    return Settings(**values)


def inner(emb: Any) -> Any:
    """The SentenceTransformerEmbedder under memsvc's caching wrapper."""
    while hasattr(emb, "inner"):
        emb = emb.inner
    return emb


@contextmanager
def instrumented(mem: Any, stages: Stages) -> Iterator[None]:
    from memsvc.services import ingest

    emb = inner(mem.runtime.embedder)
    model = emb._model  # the SentenceTransformer inside memsvc's embedder
    for name in ("preprocess", "tokenize"):
        if hasattr(model, name):
            stages.wrap(model, name, "tokenize")
    stages.wrap(model, "forward", "forward", sync=True)
    for name, stage in (
        ("prepare_units", "prepare"),
        ("decide_units", "decide"),
        ("plan_units", "plan"),  # a baseline's package: no prepare/decide, one plan stage
        ("write_plan", "write"),
        ("embed_units", "embed"),
        ("add_offline_attributes", "attributes"),
    ):
        if not hasattr(ingest, name):
            continue  # each package has either prepare/decide or plan
        stages.wrap(ingest, name, stage)
    stages.wrap(mem, "add", "add")
    if hasattr(mem, "add_many"):  # not in a baseline's package from before it
        stages.wrap(mem, "add_many", "add")
    with write_lock(mem.runtime.db.engine, stages.add):
        yield


def ingest_part(
    args: argparse.Namespace,
    settings: Any,
    stacks: list[tuple[str, Record]],
    ready: Callable[[], float],
) -> dict[str, Any]:
    """Ingest `stacks` with `args.workers` threads through one `Memory` on `settings`;
    `ready()` is called once warm and returns the wall-clock start (`time.time()`) that the
    run's deadline counts from (other processes wait on the same start)."""
    import torch

    from memsvc import Memory

    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    t_load = time.perf_counter()
    mem = Memory(settings)
    load_s = time.perf_counter() - t_load
    stages = Stages(sync)
    texts: list[str] = []
    done_turns = 0
    lock = threading.Lock()

    def ingest_lane(lane: list[tuple[str, Record]]) -> int:
        """One thread's scopes in order, `args.sessions_per_add` sessions a call (`add`
        for one, `add_many` for more: the items of a call may span scopes)."""
        nonlocal done_turns
        items = [
            {
                "messages": [message(t, s.turn_time(i)) for i, t in enumerate(s.turns)],
                "user_id": scope,
                "session_id": s.session_id,
                "timestamp": utc(s.date),
                "wait": True,
            }
            for scope, rec in lane
            for s in rec.sessions
            if s.turns
        ]
        n, k = 0, max(1, args.sessions_per_add)
        for at in range(0, len(items), k):
            if time.time() > deadline:
                break
            call = items[at : at + k]
            if k == 1:
                mem.add(**call[0])
            else:
                mem.add_many(call)
            contents = [m["content"] for item in call for m in item["messages"]]
            n += len(contents)
            with lock:
                texts.extend(contents)
                done_turns += len(contents)
        return n

    # Warm-up outside the clock: CUDA context, kernels, SQLite schema.
    # Eight messages: enough to start `ingest.cpu_workers` processes, if any.
    mem.add(
        messages=[
            {"role": "user" if i % 2 == 0 else "assistant", "content": f"Warm-up {i}: green tea."}
            for i in range(8)
        ],
        user_id=f"warmup-{os.getpid()}",
        wait=True,
    )
    start = ready()
    deadline = start + args.seconds
    with instrumented(mem, stages):
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(ingest_lane, shard(stacks, args.workers)))
        end = time.time()
    workers = getattr(mem.runtime, "attributes", None)  # absent before ingest.cpu_workers
    attributes = (
        {"computed": workers.computed, "memo_hits": workers.hits, "sent_to_workers": workers.sent}
        if workers is not None
        else None
    )
    alone = None
    if args.alone:
        # The embedder alone on the same texts, the same batch size, the same (warm) model.
        emb = inner(mem.runtime.embedder)
        sync()
        t1 = time.perf_counter()
        for s in range(0, len(texts), args.alone_chunk):
            emb.encode_now(texts[s : s + args.alone_chunk])
        sync()
        alone = time.perf_counter() - t1
    mem.close()
    return {
        "start": start,
        "end": end,
        "turns": done_turns,
        "texts": texts,
        "model_load_s": load_s,
        "embedder_alone_s": alone,
        "stages": {k: (stages.seconds[k], stages.calls[k]) for k in stages.seconds},
        "attributes": attributes,
    }


def embedder_alone(args: argparse.Namespace, values: dict[str, Any], texts: list[str]) -> float:
    """Seconds for this process's own copy of the model to embed `texts` alone."""
    import torch

    from memsvc import Memory

    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    mem = Memory(make_settings(values))
    try:
        emb = inner(mem.runtime.embedder)
        emb.encode_now(texts[: args.alone_chunk])  # warm: CUDA context and kernels
        sync()
        t1 = time.perf_counter()
        for s in range(0, len(texts), args.alone_chunk):
            emb.encode_now(texts[s : s + args.alone_chunk])
        sync()
        return time.perf_counter() - t1
    finally:
        mem.close()


def _child(
    args: argparse.Namespace,
    values: dict[str, Any],
    stacks: list[tuple[str, Record]],
    barrier: Any,
    start: Any,
    results: Any,
) -> None:
    """One ingest process: waits for every process to be warm, then ingests its shard."""
    from memsvc.config import Settings

    def ready() -> float:
        if barrier.wait() == 0:  # one process sets the common start
            start.value = time.time()
        barrier.wait()
        return float(start.value)

    try:
        results.put(ingest_part(args, Settings(**values), stacks, ready))
    except BaseException as exc:  # the parent must not wait forever on a failed child
        results.put({"error": repr(exc)})
        raise


def run(args: argparse.Namespace) -> dict[str, Any]:
    import multiprocessing as mp

    import torch

    stacks = haystacks(args.locomo)
    if args.distinct:
        stacks = distinct_sessions(stacks)
    data_dir = Path(tempfile.mkdtemp(prefix="memsvc-gpu-ingest-"))
    extra = dict(kv.split("=", 1) for kv in args.set)
    values = settings_values(data_dir, args.device, args.batch, extra)
    if args.processes <= 1:
        parts = [ingest_part(args, make_settings(values), stacks, time.time)]
    else:
        from memsvc import Memory

        # One database for every process (the replicas' setup: each its own index folder);
        # migrated once here, before any process opens it.
        Memory(make_settings(values)).close()
        ctx = mp.get_context("spawn")
        barrier, start, results = ctx.Barrier(args.processes), ctx.Value("d", 0.0), ctx.Queue()
        specs = []
        for i, part in enumerate(shard(stacks, args.processes)):
            own = json.loads(json.dumps(values, default=str))
            own["index"] = {**own.get("index", {}), "path": str(data_dir / f"index-{i}")}
            own["database"] = {**own.get("database", {}), "auto_migrate": False}
            child_args = argparse.Namespace(**{**vars(args), "alone": False})
            specs.append((child_args, own, part, barrier, start, results))
        parts = run_children(ctx, _child, specs, results)
    wall = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    done_turns = sum(p["turns"] for p in parts)
    texts = [t for p in parts for t in p["texts"]]
    alone = parts[0]["embedder_alone_s"]
    if args.processes > 1 and args.alone:  # once every process is done: the GPU is its alone
        alone = embedder_alone(args, values, texts)
    stages = Stages(lambda: None)
    for p in parts:
        for k, (sec, calls) in p["stages"].items():
            stages.seconds[k] += sec
            stages.calls[k] += calls
    alone_rate = len(texts) / alone if alone else None
    attrs = [p["attributes"] for p in parts if p["attributes"]]
    n_chars = sum(len(t) for t in texts)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "args": {k: str(v) for k, v in vars(args).items()},
        "processes": max(1, args.processes),
        "haystacks": len(stacks),
        "turns_available": sum(len(s.turns) for _, r in stacks for s in r.sessions),
        "turns": done_turns,
        "mean_chars_per_turn": round(n_chars / max(1, len(texts)), 1),
        "model_load_s": round(max(p["model_load_s"] for p in parts), 2),
        "ingest_wall_s": round(wall, 2),
        "ingest_turns_per_s": round(done_turns / wall, 1),
        "embedder_alone_s": round(alone, 2) if alone else None,
        "embedder_alone_turns_per_s": round(alone_rate, 1) if alone_rate else None,
        "ratio_ingest_to_embedder": round((done_turns / wall) / alone_rate, 3)
        if alone_rate
        else None,
        "stages": stages.table(wall),
        "attributes": {k: sum(a[k] for a in attrs) for k in attrs[0]} if attrs else None,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--seconds", type=float, default=150.0, help="stop starting sessions after")
    ap.add_argument(
        "--workers", type=int, default=8, help="threads, each its own share of the scopes"
    )
    ap.add_argument(
        "--processes",
        type=int,
        default=1,
        help="ingest processes on one database (each its own Memory, index folder, model and "
        "--workers threads; scopes dealt between them)",
    )
    ap.add_argument(
        "--no-alone", dest="alone", action="store_false", help="skip the embedder-alone run"
    )
    ap.add_argument("--batch", type=int, default=256, help="embed.batch_size")
    ap.add_argument(
        "--sessions-per-add",
        type=int,
        default=1,
        help="sessions a call: 1 = one add each (as the eval sends them), more = add_many",
    )
    ap.add_argument("--alone-chunk", type=int, default=4096, help="texts per encode_now, alone")
    ap.add_argument("--locomo", type=Path, default=DEFAULT_LOCOMO)
    ap.add_argument("--set", nargs="*", default=[], help="settings section.field=value")
    ap.add_argument(
        "--distinct",
        action="store_true",
        help="each distinct session once (the dev suite's haystacks share most sessions)",
    )
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    res = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1), flush=True)


if __name__ == "__main__":
    main()
