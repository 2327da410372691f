"""The work an add does under the database's write lock (issue 16 item 4): `ingest.write_plan`
timed over the LoCoMo dev conversations, one thread, no LLM, embeddings from a warm cache so
that the write is not drowned by the encoder.

SQLite has one writer: whatever `write_plan` costs a turn caps ingest at 1 / that cost for
every process sharing the database, so this is the number to make small. `--sql` also times
each SQL statement kind inside the write (cursor time only) and counts them.

    HF_HUB_OFFLINE=1 python -m bench.write_path --runs 5 --out bench/results/write-path.json

The first run of a fresh cache folder embeds every turn (minutes on 2 cores); later runs read
the vectors from it. `--suite dev --limit N` writes the first N haystacks of the
LongMemEval dev suite instead (long rounds: more text a note for the full-text terms).

To compare two revisions, run it from each tree (`PYTHONPATH=TREE`) alternately and compare
medians: these machines are noisy."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.dev_turns import DEFAULT_LOCOMO, haystacks
from bench.measure import listening, write_lock

# isort: split
from memsvc_eval.system import message  # eval/ is on the path once bench.dev_turns is imported


@contextmanager
def _statements(table: dict[str, list[float]], active: list[bool]) -> Iterator[None]:
    from sqlalchemy.engine import Engine

    def before(conn: Any, *args: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if active[0]:
            row = table[" ".join(statement.split())[:60]]
            row[0] += time.perf_counter() - conn.info["bench_t0"]
            row[1] += 1

    with listening(
        (Engine, "before_cursor_execute", before), (Engine, "after_cursor_execute", after)
    ):
        yield


def one_run(
    locomo: Path, cache: Path, sql: bool, suite: str = "locomo", limit: int | None = None
) -> dict[str, Any]:
    from memsvc import Memory
    from memsvc.config import Settings
    from memsvc.services import ingest

    stacks = [s for s in haystacks(locomo) if s[0].startswith(suite)][:limit]
    spent = {"wall": 0.0, "cpu": 0.0, "adds": 0, "lock": 0.0}
    active = [False]
    inner = ingest.write_plan

    def timed(*args: Any, **kw: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        active[0] = True
        try:
            return inner(*args, **kw)
        finally:
            active[0] = False
            spent["wall"] += time.perf_counter() - t0
            spent["cpu"] += time.thread_time() - c0
            spent["adds"] += 1

    statements: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])

    def held(stage: str, seconds: float) -> None:
        if active[0] and stage == "lock_held":  # one thread: no other writer to wait for
            spent["lock"] += seconds

    ingest.write_plan = timed  # the name `Memory.add` calls through the module
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="memsvc-write-path-")),
        llm={"model": "none"},
        # The document model before the first add: its background load would share the
        # cores with the writes being timed.
        embed={"cache_dir": str(cache), "document_load": "startup"},
    )
    turns = 0
    try:
        with (
            Memory(settings) as mem,
            write_lock(mem.runtime.db.engine, held),
            _statements(statements, active) if sql else _null(),
        ):
            t0 = time.perf_counter()
            for scope, rec in stacks:
                for s in rec.sessions:
                    msgs = [message(t, s.turn_time(i)) for i, t in enumerate(s.turns)]
                    mem.add(messages=msgs, user_id=scope, wait=True)
                    turns += len(s.turns)
            wall = time.perf_counter() - t0
    finally:
        ingest.write_plan = inner
    out: dict[str, Any] = {
        "turns": turns,
        "adds": spent["adds"],
        "ingest_wall_s": round(wall, 2),
        "write_s": round(spent["wall"], 3),
        "write_cpu_s": round(spent["cpu"], 3),
        "write_ms_per_turn": round(1000 * spent["wall"] / turns, 3),
        "write_cpu_ms_per_turn": round(1000 * spent["cpu"] / turns, 3),
        # BEGIN IMMEDIATE to the end of COMMIT: the part of the write other writers wait for.
        "lock_ms_per_turn": round(1000 * spent["lock"] / turns, 3),
    }
    if sql:
        top = sorted(statements.items(), key=lambda kv: -kv[1][0])[:15]
        out["statements"] = [{"sql": k, "s": round(v[0], 3), "n": int(v[1])} for k, v in top]
    return out


@contextmanager
def _null() -> Iterator[None]:
    yield


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--locomo", type=Path, default=DEFAULT_LOCOMO)
    ap.add_argument("--cache", type=Path, default=Path(".cache/write-path-embed"))
    ap.add_argument("--sql", action="store_true", help="time and count SQL statements too")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--suite",
        choices=["locomo", "dev"],
        default="locomo",
        help="LoCoMo's turns, or the LongMemEval dev suite's (long rounds; use --limit)",
    )
    ap.add_argument("--limit", type=int, default=None, help="the first N haystacks only")
    args = ap.parse_args(argv)
    runs = []
    for i in range(args.runs):
        res = one_run(args.locomo, args.cache, args.sql, args.suite, args.limit)
        print(json.dumps({"run": i, **{k: v for k, v in res.items() if k != "statements"}}))
        for st in res.get("statements", []):
            print(f"  {st['s']:7.3f} s {st['n']:6d}  {st['sql']}")
        runs.append(res)
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": runs,
        "median_write_ms_per_turn": statistics.median(r["write_ms_per_turn"] for r in runs),
        "median_write_cpu_ms_per_turn": statistics.median(r["write_cpu_ms_per_turn"] for r in runs),
        "median_lock_ms_per_turn": statistics.median(r["lock_ms_per_turn"] for r in runs),
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}))
    if args.out is not None:
        args.out.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
