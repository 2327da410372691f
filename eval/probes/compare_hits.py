"""A probe: eval runs' results.jsonl compared on the questions they share: session
recall_all@5 / turn recall_all@10 per type (the harness's definitions, eval/README.md), how
many questions got identical hits to the first run's, and, against the first run, the
questions gained and lost at each level with the exact sign test's p (`metrics.sign_test`):
how likely so uneven a split is from a change that helps as often as it hurts.

    python eval/probes/compare_hits.py RUN_DIR:SYSTEM [RUN_DIR:SYSTEM ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from memsvc_eval.metrics import sign_test

Row = dict[str, Any]


def load(spec: str) -> dict[str, Row]:
    run, system = spec.rsplit(":", 1)
    out: dict[str, Row] = {}
    with (Path(run) / "results.jsonl").open() as f:
        for line in f:
            r = json.loads(line)
            if r.get("system") == system and not r.get("abstention") and not r.get("error"):
                out[r["question_id"]] = r
    return out


def hit(r: Row) -> tuple[bool | None, bool | None]:
    """(session recall_all@5, turn recall_all@10); None where the level has no evidence."""
    s5 = {t[0] for h in r["hits"][:5] for t in h}
    t10 = {tuple(t) for h in r["hits"][:10] for t in h}
    s = set(r["evidence_sessions"]) <= s5 if r["evidence_sessions"] else None
    t = {tuple(e) for e in r["evidence_turns"]} <= t10 if r["evidence_turns"] else None
    return s, t


def mean(values: list[bool | None]) -> float:
    kept = [v for v in values if v is not None]
    return sum(kept) / max(len(kept), 1)


def main(specs: list[str]) -> None:
    runs = [load(s) for s in specs]
    common = sorted(set.intersection(*[set(r) for r in runs]))
    print(f"{len(common)} common questions")
    types: list[str | None] = [*sorted({runs[0][q]["question_type"] for q in common}), None]
    for spec, rows in zip(specs, runs, strict=True):
        cells = []
        for t in types:
            qs = [q for q in common if t is None or rows[q]["question_type"] == t]
            s = mean([hit(rows[q])[0] for q in qs])
            tt = mean([hit(rows[q])[1] for q in qs])
            cells.append(f"{t or 'ALL'} {s:.3f}/{tt:.3f} ({len(qs)})")
        same = sum(runs[0][q]["hits"] == rows[q]["hits"] for q in common)
        print(spec, "| identical hits vs first:", same, "\n   ", " | ".join(cells))
        if rows is not runs[0]:
            print("    vs first:", paired(runs[0], rows, common))


def paired(first: dict[str, Row], other: dict[str, Row], common: list[str]) -> str:
    """Questions gained / lost against `first` per level, with the sign test's p."""
    out = []
    for level, name in ((0, "S"), (1, "T")):
        pairs = [(hit(first[q])[level], hit(other[q])[level]) for q in common]
        gained = sum(1 for a, b in pairs if a is False and b is True)
        lost = sum(1 for a, b in pairs if a is True and b is False)
        out.append(f"{name} +{gained} -{lost} (sign test p {sign_test(gained, lost):.2f})")
    return " | ".join(out)


if __name__ == "__main__":
    main(sys.argv[1:])
