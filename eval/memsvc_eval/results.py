"""The run folder's append-only logs: per-question results and per-scope ingest costs.

Every line is flushed and fsynced as soon as it is written, so a crash loses at most the
question in flight; a rerun with the same ``--out`` skips what is already there. A torn
last line (the crash hit mid-write) is ignored on load.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .data import Record, TurnId

RESULTS = "results.jsonl"
INGEST = "ingest.jsonl"


@dataclass
class QuestionResult:
    system: str
    question_id: str
    question_type: str
    abstention: bool
    hits: list[list[TurnId]]
    evidence_sessions: list[str]
    evidence_turns: list[TurnId]
    latency_ms: float
    scope: str = ""
    qa: dict[str, Any] | None = None
    error: str | None = None

    @staticmethod
    def for_record(system: str, record: Record, **kw: Any) -> QuestionResult:
        return QuestionResult(
            system=system,
            question_id=record.question_id,
            question_type=record.question_type,
            abstention=record.is_abstention,
            evidence_sessions=sorted(record.evidence_sessions),
            evidence_turns=sorted(record.evidence_turns),
            **kw,
        )

    @staticmethod
    def from_json(d: dict[str, Any]) -> QuestionResult:
        d = dict(d)
        d["hits"] = [[(str(s), int(i)) for s, i in hit] for hit in d["hits"]]
        d["evidence_turns"] = [(str(s), int(i)) for s, i in d["evidence_turns"]]
        return QuestionResult(**d)


@dataclass
class IngestResult:
    system: str
    scope: str
    haystack: str
    sessions: int
    turns: int
    seconds: float
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    events: dict[str, int] = field(default_factory=dict)


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a crash: that question simply runs again


class JsonlLog:
    """Append-only JSON Lines file, safe to share between worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._repair()

    def _repair(self) -> None:
        # Cut a torn last line, so the next append starts on a line of its own.
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with self.path.open("r+b") as fh:
                fh.truncate(cut)

    def append(self, row: dict[str, Any]) -> None:
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def rows(self) -> list[dict[str, Any]]:
        return list(read_jsonl(self.path))


class RunLogs:
    def __init__(self, out_dir: Path) -> None:
        self.results = JsonlLog(out_dir / RESULTS)
        self.ingest = JsonlLog(out_dir / INGEST)

    def done(self) -> set[tuple[str, str]]:
        """(system, question_id) pairs already answered without error."""
        return {(r["system"], r["question_id"]) for r in self.results.rows() if not r.get("error")}

    def add_result(self, res: QuestionResult) -> None:
        self.results.append(asdict(res))

    def add_ingest(self, res: IngestResult) -> None:
        self.ingest.append(asdict(res))


def load_results(out_dir: Path) -> list[QuestionResult]:
    """The latest result per (system, question): a retried question replaces its error."""
    latest: dict[tuple[str, str], QuestionResult] = {}
    for row in read_jsonl(out_dir / RESULTS):
        r = QuestionResult.from_json(row)
        latest[(r.system, r.question_id)] = r
    return list(latest.values())


def load_ingest(out_dir: Path) -> list[IngestResult]:
    latest: dict[tuple[str, str], IngestResult] = {}
    for row in read_jsonl(out_dir / INGEST):
        r = IngestResult(**row)
        latest[(r.system, r.haystack)] = r
    return list(latest.values())


def write_json_atomic(path: Path, obj: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path)
