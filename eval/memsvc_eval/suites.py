"""Suites: S-like / M-like haystacks padded from a session pool, and the ``dev`` suite.

Each question keeps its own sessions with their real dates and gets distractor sessions
drawn from a pool (every session of every input record, deduplicated by id) until the
haystack holds ``target_sessions``. Distractors are re-dated so the time filter at
``as_of`` cannot remove them (see eval/README.md, "Suites"). Everything is a pure
function of the input records, the suite seed and the question id.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from .data import Record, Session, load_records

S_TARGET = 50
M_TARGET = 500
# Window for re-dated distractors when the record's own dates span less than a day
# (one-session records): the ~6 months before the question.
FALLBACK_WINDOW = timedelta(days=182)
MIN_SPAN = timedelta(days=1)


@dataclass(frozen=True)
class Suite:
    name: str
    records: list[Record]
    seed: int
    target_sessions: int | None
    sources: tuple[str, ...]
    # Questions whose pool could not supply enough distractors (haystack < target).
    short: int = 0
    dataset: str = "longmemeval"  # or "locomo"
    # Loader counts worth reporting (LoCoMo: conversations, evidence ids naming no turn).
    stats: tuple[tuple[str, int], ...] = ()

    def describe(self) -> dict[str, object]:
        sizes = [len(r.sessions) for r in self.records]
        return {
            "name": self.name,
            "dataset": self.dataset,
            "seed": self.seed,
            "target_sessions": self.target_sessions,
            "sources": list(self.sources),
            "questions": len(self.records),
            "sessions_per_question": {
                "min": min(sizes, default=0),
                "mean": sum(sizes) / len(sizes) if sizes else 0.0,
                "max": max(sizes, default=0),
            },
            "turns": sum(len(s.turns) for r in self.records for s in r.sessions),
            "short_haystacks": self.short,
            **dict(self.stats),
        }


def question_rng(seed: int, question_id: str) -> random.Random:
    """A generator that depends only on the suite seed and the question id (stable order)."""
    digest = hashlib.sha256(f"{seed}\x00{question_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def build_pool(records: Iterable[Record]) -> dict[str, Session]:
    """Every session of every record by id (first occurrence wins), in a stable order."""
    pool: dict[str, Session] = {}
    for r in records:
        for s in r.sessions:
            pool.setdefault(s.session_id, s)
    return dict(sorted(pool.items()))


def _excluded(record: Record, records: Sequence[Record]) -> tuple[set[str], set[str]]:
    """Session ids and content hashes that must not be a distractor for ``record``: its
    own sessions and every session of a record sharing one of its evidence sessions."""
    ids = {s.session_id for s in record.sessions}
    evidence = set(record.answer_session_ids)
    for other in records:
        if other is not record and evidence & set(other.answer_session_ids):
            ids.update(s.session_id for s in other.sessions)
    hashes = {s.content_hash for s in record.sessions}
    return ids, hashes


def distractor_window(record: Record) -> tuple[datetime, datetime]:
    """``[lo, hi)`` for re-dated distractors: from the record's earliest session to the
    question; the FALLBACK_WINDOW before the question when the record's own dates span
    less than MIN_SPAN (one-session records, or all sessions on one day)."""
    hi = record.question_date
    dates = [s.date for s in record.sessions]
    if not dates or max(dates) - min(dates) < MIN_SPAN or hi - min(dates) < MIN_SPAN:
        return hi - FALLBACK_WINDOW, hi
    return min(dates), hi


def _redate(rng: random.Random, lo: datetime, hi: datetime, n_turns: int) -> datetime:
    # Minute granularity like the official dates; the distractor's last turn
    # (date + n_turns seconds) still falls strictly before hi.
    room = (hi - lo).total_seconds() - n_turns - 60
    return lo + timedelta(minutes=rng.randrange(max(int(room // 60), 1)))


def pad_record(
    record: Record,
    pool: dict[str, Session],
    records: Sequence[Record],
    target: int,
    seed: int,
) -> Record:
    """The record with distractors added up to ``target`` sessions, sorted by date."""
    need = target - len(record.sessions)
    if need <= 0:
        return record
    ex_ids, ex_hashes = _excluded(record, records)
    eligible = [
        s for sid, s in pool.items() if sid not in ex_ids and s.content_hash not in ex_hashes
    ]
    rng = question_rng(seed, record.question_id)
    chosen = rng.sample(eligible, min(need, len(eligible)))
    lo, hi = distractor_window(record)
    distractors = [replace(s, date=_redate(rng, lo, hi, len(s.turns))) for s in chosen]
    sessions = sorted([*record.sessions, *distractors], key=lambda s: (s.date, s.session_id))
    return replace(record, sessions=tuple(sessions))


def build_suite(
    name: str,
    records: Sequence[Record],
    *,
    target: int | None,
    seed: int,
    sources: Sequence[str] = (),
    pool_records: Sequence[Record] | None = None,
) -> Suite:
    """Pad every record whose haystack is smaller than ``target`` (None: keep as-is)."""
    if target is None:
        return Suite(name, list(records), seed, None, tuple(sources))
    everything = list(pool_records) if pool_records is not None else list(records)
    pool = build_pool(everything)
    out = [pad_record(r, pool, everything, target, seed) for r in records]
    short = sum(1 for r in out if len(r.sessions) < target)
    return Suite(name, out, seed, target, tuple(sources), short)


def default_data_dir() -> Path:
    """``$MEMSVC_EVAL_DATA``, else the copy shipped in ``eval/data/longmemeval``."""
    env = os.environ.get("MEMSVC_EVAL_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "data" / "longmemeval"


def dev_suite(data_dir: Path | None = None, *, seed: int = 0, target: int = S_TARGET) -> Suite:
    """The dev suite: every oracle record padded to ``target`` sessions, plus every S
    record as-is; the pool is all sessions of all these files."""
    d = data_dir or default_data_dir()
    oracle_files = sorted(d.glob("longmemeval_oracle*.json"))
    s_files = sorted(d.glob("longmemeval_s*.json"))
    if not oracle_files:
        raise FileNotFoundError(f"no longmemeval_oracle*.json under {d}")
    oracle = load_records(oracle_files)
    s_records = load_records(s_files) if s_files else []
    pool_records = [*oracle, *s_records]
    padded = build_suite("dev", oracle, target=target, seed=seed, pool_records=pool_records).records
    files = tuple(str(p) for p in [*oracle_files, *s_files])
    short = sum(1 for r in padded if len(r.sessions) < target)
    return Suite("dev", [*padded, *s_records], seed, target, files, short)


def file_suite(paths: Sequence[Path], *, kind: str, seed: int, target: int | None = None) -> Suite:
    """A suite from user files: ``as-is`` keeps haystacks, ``s-like``/``m-like`` pad them."""
    records = load_records(list(paths))
    t = None if kind == "as-is" else target or (S_TARGET if kind == "s-like" else M_TARGET)
    return build_suite(kind, records, target=t, seed=seed, sources=[str(p) for p in paths])


def locomo_suite(path: Path) -> Suite:
    """Every QA pair of a LoCoMo file over its own conversation, as-is (no padding: a
    LoCoMo conversation is already 19-32 sessions of one pair of people)."""
    from .locomo import load_locomo

    records, stats = load_locomo(path)
    return Suite(
        f"locomo:{path.stem}",
        records,
        seed=0,
        target_sessions=None,
        sources=(str(path),),
        dataset="locomo",
        stats=tuple(sorted(stats.items())),
    )
