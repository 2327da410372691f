"""The dev suites' turns as ingest benchmarks send them (bench/gpu_ingest.py): one scope per
distinct haystack of the LongMemEval dev suite and LoCoMo, each session one `add` of its
turns with their times; the sessions repeated across haystacks left out (`--distinct`), and
the haystacks dealt over ingest processes (`--processes`)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "eval"))

from memsvc_eval.data import Record  # noqa: E402
from memsvc_eval.suites import dev_suite, locomo_suite  # noqa: E402

DEFAULT_LOCOMO = REPO.parent / "shared" / "data" / "locomo" / "locomo10_dev5.json"


def distinct_sessions(stacks: list[tuple[str, Record]]) -> list[tuple[str, Record]]:
    """The same haystacks with every session that an earlier haystack already holds (same
    turns) left out: the dev suite's haystacks share most of their sessions, and memsvc's
    memo and caches answer a repeat almost free, which flatters the rate."""
    seen: set[tuple[tuple[str, str], ...]] = set()
    out: list[tuple[str, Record]] = []
    for scope, rec in stacks:
        keep = []
        for s in rec.sessions:
            key = tuple((t.role, t.content) for t in s.turns)
            if key not in seen:
                seen.add(key)
                keep.append(s)
        if keep:
            out.append((scope, dataclasses.replace(rec, sessions=tuple(keep))))
    return out


def haystacks(locomo: Path | None) -> list[tuple[str, Record]]:
    """(scope, record) for every distinct haystack of the dev suite and LoCoMo."""
    suites = [dev_suite()]
    if locomo is not None and locomo.exists():
        suites.append(locomo_suite(locomo))
    out: dict[str, tuple[str, Record]] = {}
    for suite in suites:
        for r in suite.records:
            h = r.haystack_hash()
            out.setdefault(h, (f"{suite.name.split(':')[0]}-{h[:12]}", r))
    return list(out.values())


def shard(stacks: list[tuple[str, Record]], n: int) -> list[list[tuple[str, Record]]]:
    """`stacks` dealt over `n` processes, largest first to the least loaded (by turns)."""
    shards: list[list[tuple[str, Record]]] = [[] for _ in range(n)]
    load = [0] * n
    for item in sorted(stacks, key=lambda it: -sum(len(s.turns) for s in it[1].sessions)):
        i = load.index(min(load))
        shards[i].append(item)
        load[i] += sum(len(s.turns) for s in item[1].sessions)
    return shards
