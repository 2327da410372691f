"""Ingest cost as a scope grows (issue 16 item 3: "ingest cost flat as a scope grows from 1k
to 100k notes"): the same messages added to a scope of ~1k notes and to one of ~100k, in
one store, alternately, with their embeddings cached so that what is timed is the rest of
ingest (attributes, candidates and decisions against the scope, the write).

    python -m bench.ingest_growth --store /tmp/peers100k/memsvc --fill .cache/peers-fill.txt.xz \\
        --work /tmp/growth --out bench/results/ingest-growth.json [--profile]

`--store`: a memsvc store of `bench.peers --phase build --granularity turn` (its one scope,
`bench.peer_stores.USER`, holds ~100k notes); it is copied to `--work` first, so the
original stays as built. Messages: sentences of `--fill` that the store does not hold (the
build used the file's first ones), roles alternating, dated after the store's last event,
50 an add as the build added them. First a ~1k-note scope is filled from other unused
sentences; then every batch is added once to a throwaway scope (its vectors go to the
embedding cache; the attribute memo is off, so attributes are computed on every add) and
then to the small and the big scope, which goes first alternating. Times are wall times of
`Memory.add(..., wait=True)`, ms a message. `--profile` runs each scope's adds under cProfile
and adds its top entries (cumulative ms a message) to the output; the times are then inflated,
so compare entries, not times, across runs."""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import shutil
import sqlite3
import statistics
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.corpus import read_sentences
from bench.peer_stores import BATCH, USER

SMALL, WARM = "growth-small", "growth-warm"


def held_out(store: Path, fill: Path, n: int) -> list[str]:
    """`n` sentences of `fill` that no note of `store` holds, from the end of the file."""
    with closing(sqlite3.connect(store / "memsvc.db")) as db:
        stored = {str(c).lower() for (c,) in db.execute("SELECT content FROM notes")}
    out: list[str] = []
    for sentence in reversed(list(read_sentences(fill))):
        if sentence.lower() not in stored and sentence not in out:
            out.append(sentence)
            if len(out) == n:
                break
    if len(out) < n:
        raise SystemExit(f"only {len(out)} unused sentences in {fill}")
    return out


def last_event(store: Path) -> datetime:
    with closing(sqlite3.connect(store / "memsvc.db")) as db:
        (value,) = db.execute("SELECT max(event_time) FROM notes").fetchone()
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def messages(texts: list[str], start: datetime) -> list[dict[str, str]]:
    return [
        {
            "role": ("user", "assistant")[i % 2],
            "content": t,
            "timestamp": (start + timedelta(seconds=i)).isoformat(),
        }
        for i, t in enumerate(texts)
    ]


def notes_in(mem: Any, scope: str) -> int:
    with mem.runtime.db.engine.connect() as conn:
        row = conn.execute(
            text("SELECT count(*) FROM notes WHERE user_id = :u AND status = 'active'"),
            {"u": scope},
        ).one()
    return int(row[0])


def top_entries(prof: cProfile.Profile, messages: int, n: int = 30) -> list[str]:
    """The profile's top entries by cumulative time, in ms a message."""
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (file, line, func), (_, calls, _, cum, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "memsvc" in file or "bench" in file or "sqlalchemy/orm/session" in file:
            short = file.split("site-packages/")[-1].split("/main/")[-1]
            rows.append(
                (cum, f"{cum * 1000 / messages:8.3f} ms  {calls:7d}  {short}:{line}({func})")
            )
    return [r for _, r in sorted(rows, reverse=True)[:n]]


def run(
    store: Path, fill: Path, work: Path, adds: int, small: int, profile: bool = False
) -> dict[str, Any]:
    from memsvc import Memory
    from memsvc.config import Settings

    copy = work / "store"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(store, copy)
    texts = held_out(copy, fill, small + adds * BATCH)
    start = last_event(copy) + timedelta(days=1)
    prefill = messages(texts[:small], start)
    measured = messages(texts[small:], start + timedelta(days=1))
    settings = Settings(
        data_dir=copy,
        llm={"model": "none"},
        embed={"cache_dir": str(work / "embed-cache"), "document_load": "startup"},
        ingest={"granularity": "turn", "attribute_memo": 0},
        decay={"threshold": 0.0},  # as the store was built: nothing forgotten
    )
    out: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.processor() or platform.machine(),
        "batch": BATCH,
    }
    with Memory(settings) as mem:
        for s in range(0, len(prefill), BATCH):
            mem.add(messages=prefill[s : s + BATCH], user_id=SMALL, wait=True)
        out["notes_before"] = {"small": notes_in(mem, SMALL), "big": notes_in(mem, USER)}
        times: dict[str, list[float]] = {"small": [], "big": []}
        profs = {"small": cProfile.Profile(), "big": cProfile.Profile()}
        for i in range(adds):
            batch = measured[i * BATCH : (i + 1) * BATCH]
            mem.add(messages=batch, user_id=WARM, wait=True)  # embeddings into the cache
            order = [("small", SMALL), ("big", USER)]
            for name, scope in order if i % 2 == 0 else order[::-1]:
                t0 = time.perf_counter()
                if profile:
                    profs[name].enable()
                mem.add(messages=batch, user_id=scope, wait=True)
                if profile:
                    profs[name].disable()
                times[name].append((time.perf_counter() - t0) * 1000 / len(batch))
        out["notes_after"] = {"small": notes_in(mem, SMALL), "big": notes_in(mem, USER)}
    for name, ms in times.items():
        out[name] = {
            "ms_per_message_p50": round(statistics.median(ms), 3),
            "ms_per_message_mean": round(statistics.fmean(ms), 3),
            "adds": len(ms),
        }
    out["big_over_small_p50"] = round(
        out["big"]["ms_per_message_p50"] / out["small"]["ms_per_message_p50"], 3
    )
    out["big_over_small_mean"] = round(
        out["big"]["ms_per_message_mean"] / out["small"]["ms_per_message_mean"], 3
    )
    out["per_add_ms_per_message"] = {k: [round(v, 3) for v in ms] for k, ms in times.items()}
    if profile:  # under the profiler the times above are inflated: compare entries only
        out["profile"] = {name: top_entries(prof, adds * BATCH) for name, prof in profs.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--fill", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--adds", type=int, default=30, help="measured adds of 50 messages")
    ap.add_argument("--small", type=int, default=1000, help="notes the small scope starts with")
    ap.add_argument("--profile", action="store_true", help="cProfile each scope's adds")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    res = run(args.store, args.fill, args.work, args.adds, args.small, args.profile)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: v for k, v in res.items() if k != "per_add_ms_per_message"}, indent=1))


if __name__ == "__main__":
    main()
