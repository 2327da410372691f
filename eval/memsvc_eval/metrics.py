"""Retrieval metrics (exact definitions in eval/README.md, "Metrics").

A system answers a question with a ranked list of hits; each hit names the turns it came
from (one for a turn-level baseline, several for a memsvc note built from a round). At
level ``session`` a hit covers the sessions of its turns; at level ``turn``, the turns.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np

from .data import TurnId

KS: tuple[int, ...] = (1, 3, 5, 10)
Level = Literal["session", "turn"]
LEVELS: tuple[Level, ...] = ("session", "turn")
METRICS = ("recall_any", "recall_all", "ndcg_any")


def covered(hit: Sequence[TurnId], level: Level) -> set[object]:
    """The units (session ids, or (session, turn) pairs) one hit comes from."""
    if level == "session":
        return {sid for sid, _ in hit}
    return {(sid, int(i)) for sid, i in hit}


def _discount(rank: int) -> float:
    # LongMemEval's dcg (src/retrieval/eval_utils.py): rank 1 weighs 1, rank r >= 2
    # weighs 1/log2(r). Kept identical so our ndcg is comparable with the paper's.
    return 1.0 if rank == 1 else 1.0 / math.log2(rank)


def question_metrics(
    hits: Sequence[Sequence[TurnId]],
    evidence: Iterable[object],
    level: Level,
    ks: Sequence[int] = KS,
) -> dict[str, float] | None:
    """``recall_any@k``, ``recall_all@k``, ``ndcg_any@k`` for one question at one level;
    None when the question has no evidence at that level (it is then left out)."""
    ev = set(evidence)
    if not ev:
        return None
    out: dict[str, float] = {}
    for k in ks:
        seen: set[object] = set()
        dcg = 0.0
        for rank, hit in enumerate(hits[:k], start=1):
            new = (covered(hit, level) & ev) - seen
            # A hit earns gain 1 only if it reaches evidence no earlier hit reached, so
            # duplicates (the same session twice) cannot inflate the score.
            if new:
                dcg += _discount(rank)
                seen |= new
        ideal = sum(_discount(r) for r in range(1, min(k, len(ev)) + 1))
        out[f"recall_any@{k}"] = float(bool(seen))
        out[f"recall_all@{k}"] = float(seen == ev)
        out[f"ndcg_any@{k}"] = dcg / ideal
    return out


def mean_metrics(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Key-wise mean of metric dicts (all rows share the same keys)."""
    sums: dict[str, float] = defaultdict(float)
    n = 0
    for row in rows:
        n += 1
        for key, v in row.items():
            sums[key] += v
    return {key: v / n for key, v in sums.items()} if n else {}


def aggregate(
    per_question: Sequence[tuple[str, bool, Mapping[Level, Mapping[str, float] | None]]],
) -> dict[str, object]:
    """Means over non-abstention questions, overall and per question type.

    ``per_question`` holds ``(question_type, is_abstention, {level: metrics or None})``.
    """
    groups: dict[str, list[Mapping[Level, Mapping[str, float] | None]]] = defaultdict(list)
    for qtype, abstention, by_level in per_question:
        if abstention:
            continue
        groups["overall"].append(by_level)
        groups[qtype].append(by_level)

    def summarize(items: list[Mapping[Level, Mapping[str, float] | None]]) -> dict[str, object]:
        out: dict[str, object] = {}
        for level in LEVELS:
            rows = [m[level] for m in items if m.get(level) is not None]
            out[level] = {"n": len(rows), **mean_metrics(r for r in rows if r is not None)}
        return out

    overall = summarize(groups.pop("overall", []))
    return {"overall": overall, "by_type": {t: summarize(v) for t, v in sorted(groups.items())}}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation between closest ranks, numpy's default)."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def latency_summary(values_ms: Sequence[float]) -> dict[str, float | int | None]:
    return {
        "n": len(values_ms),
        "p50_ms": percentile(values_ms, 50),
        "p95_ms": percentile(values_ms, 95),
        "mean_ms": float(np.mean(values_ms)) if values_ms else None,
        "max_ms": float(np.max(values_ms)) if values_ms else None,
    }


def accuracy(labels: Iterable[bool | None]) -> dict[str, float | int | None]:
    """Share of True among judged labels; None labels (judge failed) are counted apart."""
    vals = list(labels)
    judged = [v for v in vals if v is not None]
    return {
        "n": len(vals),
        "judged": len(judged),
        "accuracy": sum(judged) / len(judged) if judged else None,
    }


def sign_test(gained: int, lost: int) -> float:
    """Two-sided exact sign test on paired outcomes: the probability, were a change neutral
    (each question that moves as likely to be gained as lost), of a split at least as uneven
    as `gained` / `lost`. Questions that do not move carry no evidence and are not counted.
    On a 97-question suite a two-question loss with none gained gives 0.5: not evidence of
    anything, which is the point of reporting it beside the means (eval/README.md)."""
    if gained < 0 or lost < 0:
        raise ValueError("counts must be non-negative")
    n = gained + lost
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(gained, lost) + 1)) / (1 << n)
    return min(1.0, 2 * tail)
