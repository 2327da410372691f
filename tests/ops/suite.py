"""The memory-operations suite: labelled cases (tests/ops/cases.jsonl) run through a real
`Memory` (real embedder, real SQLite), offline or with the fixture LLM server.

A case is one or more earlier messages and a new one; its label is the operation the new
message should cause (MERGE, SUPERSEDE or ADD; a list where either is right). A case passes
when the operation is right, the newer value answers the case's present-tense question
(if it has one) and no acknowledged fact became unfindable: every message's details
(numbers, codes, names, and the case's listed words) are carried by a note (its text or its
facts) that a search for that message returns, as of the message's own time.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from memsvc import Memory
from memsvc.config import Settings
from memsvc.embed import Embedder

CASES = Path(__file__).with_name("cases.jsonl")
CLASSES = (
    "duplicate",
    "paraphrase",
    "update",
    "distinct",
    "negation",
    "numbers",
    "names",
    "multi-fact",
)
T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)
_VALUE = re.compile(r"\b(?:\w*\d[\w.,:-]*\w|\d)\b")
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-zA-Z]+")


@dataclass(frozen=True)
class Case:
    id: str
    cls: str
    source: str
    before: tuple[str, ...]
    new: str
    expect: tuple[str, ...]
    query: str | None = None
    answer: str | None = None
    details: tuple[str, ...] = ()


@dataclass
class Outcome:
    case: Case
    op: str
    op_ok: bool
    newest_ok: bool | None  # None: the case asks no question
    lost: list[str] = field(default_factory=list)  # "message: detail" not found

    @property
    def passed(self) -> bool:
        return self.op_ok and self.newest_ok is not False and not self.lost


def load_cases(path: Path = CASES) -> list[Case]:
    cases = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        expect = row["expect"]
        cases.append(
            Case(
                id=row["id"],
                cls=row["class"],
                source=row["source"],
                before=tuple(row["before"]),
                new=row["new"],
                expect=tuple(expect) if isinstance(expect, list) else (expect,),
                query=row.get("query"),
                answer=row.get("answer"),
                details=tuple(row.get("details", ())),
            )
        )
    return cases


def details_of(text: str, extra: tuple[str, ...] = ()) -> list[str]:
    """What must stay findable of one message: numbers and codes, capitalised names (not the
    sentence's first word), and the case's own listed words that this message contains."""
    found = [m.group(0) for m in _VALUE.finditer(text)]
    found += [m.group(0) for m in _NAME.finditer(text) if m.group(0) not in {"I", "I'm", "I've"}]
    found += [d for d in extra if d.lower() in text.lower()]
    return list(dict.fromkeys(found))


def _carried(hit_texts: list[str], details: list[str]) -> list[str]:
    """The details no single returned note carries in full (empty: the message is findable)."""
    if not details:
        return []
    lowered = [t.lower() for t in hit_texts]
    for text in lowered:
        if all(d.lower() in text for d in details):
            return []
    return [d for d in details if not any(d.lower() in t for t in lowered)] or details


def run_case(mem: Memory, case: Case) -> Outcome:
    user = f"ops-{case.id}"
    times = []
    for i, text in enumerate(case.before):
        at = T0 + timedelta(days=i)
        mem.add([{"role": "user", "content": text}], user_id=user, timestamp=at)
        times.append(at)
    at = T0 + timedelta(days=30)
    result = mem.add([{"role": "user", "content": case.new}], user_id=user, timestamp=at)
    op = result.results[0].event if result.results else "NONE"
    newest_ok: bool | None = None
    if case.query and case.answer:
        hits = mem.search(case.query, user_id=user, top_k=5, reinforce=False).results
        newest_ok = bool(hits) and case.answer.lower() in hits[0].memory.lower()
    lost: list[str] = []
    for text, when in [*zip(case.before, times, strict=True), (case.new, at)]:
        hits = mem.search(
            text, user_id=user, top_k=10, as_of=when + timedelta(seconds=1), reinforce=False
        ).results
        carried = [" ".join([h.memory, *h.facts]) for h in hits]
        missing = _carried(carried, details_of(text, case.details))
        lost += [f"{text!r}: {d}" for d in missing]
    return Outcome(case, op, op in case.expect, newest_ok, lost)


def run_suite(mem: Memory, cases: list[Case]) -> list[Outcome]:
    return [run_case(mem, c) for c in cases]


def bulk_notes(mem: Memory, count: int = 220) -> tuple[int, int]:
    """The issue's stress case: `count` distinct "Note i: I spent N hours on ..." turns and
    coded items, one per add; returns (messages sent, active notes left)."""
    topics = ["the garden", "my thesis", "the kitchen", "Spanish", "the bike", "taxes"]
    user = "ops-bulk"
    for i in range(count):
        if i % 2:
            text = f"Note {i}: I spent {i % 9 + 1} hours on {topics[i % len(topics)]}."
        else:
            text = f"Note {i}: item {i} in the storage room has code lf{i:04d}k."
        mem.add(
            [{"role": "user", "content": text}],
            user_id=user,
            timestamp=T0 + timedelta(minutes=i),
        )
    return count, len(mem.get_all(user_id=user, limit=count + 10).results)


@dataclass
class Row:
    cls: str
    cases: int = 0
    op_ok: int = 0
    newest: int = 0
    newest_ok: int = 0
    kept: int = 0
    passed: int = 0


def table(outcomes: list[Outcome]) -> list[Row]:
    rows: dict[str, Row] = defaultdict(lambda: Row(""))
    for o in outcomes:
        for key in (o.case.cls, "all"):
            r = rows[key]
            r.cls = key
            r.cases += 1
            r.op_ok += o.op_ok
            r.kept += not o.lost
            r.passed += o.passed
            if o.newest_ok is not None:
                r.newest += 1
                r.newest_ok += o.newest_ok
    order = [c for c in CLASSES if c in rows] + ["all"]
    return [rows[c] for c in order]


def format_table(title: str, rows: list[Row]) -> str:
    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:5.1f}%" if b else "    -"

    lines = [
        f"### {title}",
        "| class | cases | op right | newer first | nothing lost | pass |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        newest = f"{r.newest_ok}/{r.newest}" if r.newest else "-"
        lines.append(
            f"| {r.cls} | {r.cases} | {pct(r.op_ok, r.cases)} | {newest} | "
            f"{pct(r.kept, r.cases)} | {pct(r.passed, r.cases)} |"
        )
    return "\n".join(lines)


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    data: dict[str, Any] = {"data_dir": data_dir, "background": False}
    data.update(overrides)
    return Settings(**data)


@contextmanager
def memory(settings: Settings, embedder: Embedder | None = None) -> Iterator[Memory]:
    with Memory(settings, embedder=embedder) as mem:
        yield mem


# -- fixture-model behaviours for the LLM mode --------------------------------------------

Decider = Callable[[dict[str, Any], list[dict[str, Any]]], dict[str, Any] | None]


def labelled_model(cases: list[Case]) -> Decider:
    """A model that decides as the labels say (the first acceptable op): checks that the LLM's
    decision is carried out, and that a correct SUPERSEDE makes the newer value win."""
    by_text = {c.new: c for c in cases}

    def decide(note: dict[str, Any], memories: list[dict[str, Any]]) -> dict[str, Any] | None:
        case = by_text.get(note["content"])
        if case is None or case.expect[0] == "ADD":
            return None
        target = next((m["handle"] for m in memories if m["content"] in case.before), None)
        if target is None:
            return None
        return {"op": case.expect[0], "target": target, "reason": "labelled"}

    return decide


def eager_model(cases: list[Case]) -> Decider:
    """A careless model: every new note MERGEs into its nearest candidate (the failure peers'
    users report most). Nothing it says may lose a fact."""

    def decide(note: dict[str, Any], memories: list[dict[str, Any]]) -> dict[str, Any] | None:
        if not memories:
            return None
        return {"op": "MERGE", "target": memories[0]["handle"], "reason": "eager"}

    return decide
