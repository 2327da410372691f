"""LongMemEval records: typed model, date parsing and a streaming loader.

The official files (oracle, S, M) are one JSON array of records; M is ~2.7 GB, so
:func:`iter_records` decodes one record at a time from a bounded buffer instead of
``json.load``-ing the file. JSON Lines (one record per line) is accepted too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .jsonstream import JSONStreamError, iter_json_values

ABSTENTION_SUFFIX = "_abs"
REQUIRED_FIELDS = (
    "question_id",
    "question_type",
    "question",
    "answer",
    "question_date",
    "haystack_session_ids",
    "haystack_dates",
    "haystack_sessions",
)
# "2023/05/20 (Sat) 02:21": the weekday is redundant, so it is dropped rather than checked.
_LME_DATE = re.compile(
    r"^\s*(\d{4})/(\d{1,2})/(\d{1,2})\s*(?:\([A-Za-z]{3}\))?\s*(\d{1,2}):(\d{2})\s*$"
)
_QID = re.compile(rb'"question_id"\s*:\s*"([^"]{1,200})"')


class RecordError(ValueError):
    """A malformed record; the message names the file, the record index and its id."""


def parse_date(text: str) -> datetime:
    """Parse a LongMemEval date ("2023/05/20 (Sat) 02:21") or an ISO-8601 one (naive)."""
    m = _LME_DATE.match(text)
    if m:
        y, mo, d, h, mi = (int(g) for g in m.groups())
        return datetime(y, mo, d, h, mi)
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"unrecognised date {text!r}") from None


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    content: str
    has_answer: bool = False
    # The speaker's name (OpenAI-style ``name``): LoCoMo's two people, or a named user.
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    date: datetime
    turns: tuple[Turn, ...]
    # Hash of the turns only (not id or date): distractor copies re-dated by a suite keep it.
    content_hash: str = ""

    @staticmethod
    def make(session_id: str, date: datetime, turns: tuple[Turn, ...]) -> Session:
        h = hashlib.sha256()
        for t in turns:
            h.update(t.role.encode())
            if t.name is not None:  # unnamed turns hash as before (stable LongMemEval ids)
                h.update(b"\x02" + t.name.encode())
            h.update(b"\x00")
            h.update(t.content.encode())
            h.update(b"\x01")
        return Session(session_id, date, turns, h.hexdigest())

    def turn_time(self, index: int) -> datetime:
        """Event time of a turn: the session date + index seconds, which keeps turn order."""
        return self.date + timedelta(seconds=index)

    @property
    def end(self) -> datetime:
        return self.turn_time(max(len(self.turns) - 1, 0))


TurnId = tuple[str, int]  # (session_id, turn_index)


@dataclass(frozen=True, slots=True)
class Record:
    question_id: str
    question_type: str
    question: str
    answer: str
    question_date: datetime
    sessions: tuple[Session, ...]
    answer_session_ids: tuple[str, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    # Evidence turns given directly (LoCoMo's dia_ids) instead of by has_answer flags, so
    # the questions of one conversation can share its session objects.
    turn_evidence: frozenset[TurnId] | None = None

    @property
    def is_abstention(self) -> bool:
        return self.question_id.endswith(ABSTENTION_SUFFIX)

    @property
    def evidence_sessions(self) -> frozenset[str]:
        present = {s.session_id for s in self.sessions}
        return frozenset(sid for sid in self.answer_session_ids if sid in present)

    @property
    def evidence_turns(self) -> frozenset[TurnId]:
        # Only the question's own evidence sessions count: a distractor borrowed from another
        # record keeps its has_answer flags, which belong to that other question.
        ev = self.evidence_sessions
        if self.turn_evidence is not None:
            return frozenset(t for t in self.turn_evidence if t[0] in ev)
        return frozenset(
            (s.session_id, i)
            for s in self.sessions
            if s.session_id in ev
            for i, t in enumerate(s.turns)
            if t.has_answer
        )

    @property
    def as_of(self) -> datetime:
        """The time the question is asked, for ``search(as_of=...)``.

        LongMemEval sometimes dates the question a few hours *before* the last session of
        the same day (77 of 500 S questions, upstream issue xiaowu0162/LongMemEval#8); the
        question is meant to follow the whole history, so it never precedes the end of the
        record's own last session.
        """
        if not self.sessions:
            return self.question_date
        return max(self.question_date, max(s.end for s in self.sessions))

    def haystack_hash(self) -> str:
        """Identity of the haystack: equal hashes mean one ingested scope can serve both."""
        h = hashlib.sha256()
        for s in self.sessions:
            h.update(f"{s.session_id}\x00{s.date.isoformat()}\x00{s.content_hash}\x01".encode())
        return h.hexdigest()


def _fail(where: str, msg: str) -> RecordError:
    return RecordError(f"{where}: {msg}")


def _turn(raw: object, where: str) -> Turn:
    if not isinstance(raw, Mapping):
        raise _fail(where, f"turn is {type(raw).__name__}, expected an object")
    role, content = raw.get("role"), raw.get("content")
    if not isinstance(role, str) or not isinstance(content, str):
        raise _fail(where, "turn needs string 'role' and 'content'")
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise _fail(where, "turn 'name' must be a string")
    return Turn(role, content, bool(raw.get("has_answer", False)), name or None)


def parse_record(raw: object, where: str = "record") -> Record:
    """Validate one decoded record; errors name ``where`` (file, index and id)."""
    if not isinstance(raw, Mapping):
        raise _fail(where, f"is {type(raw).__name__}, expected an object")
    qid = raw.get("question_id")
    if isinstance(qid, str):
        where = f"{where} (question_id={qid!r})"
    missing = [k for k in REQUIRED_FIELDS if k not in raw]
    if missing:
        raise _fail(where, f"missing field(s) {', '.join(missing)}")
    for k in ("question_id", "question_type", "question", "question_date"):
        if not isinstance(raw[k], str):
            raise _fail(where, f"field {k!r} must be a string")
    ids, dates, sessions = (
        raw["haystack_session_ids"],
        raw["haystack_dates"],
        raw["haystack_sessions"],
    )
    if not (isinstance(ids, list) and isinstance(dates, list) and isinstance(sessions, list)):
        raise _fail(where, "haystack_session_ids/dates/sessions must be lists")
    if not len(ids) == len(dates) == len(sessions):
        raise _fail(
            where,
            f"haystack lengths differ: {len(ids)} ids, {len(dates)} dates, "
            f"{len(sessions)} sessions",
        )
    try:
        qdate = parse_date(raw["question_date"])
        parsed: list[Session] = []
        for j, (sid, d, turns) in enumerate(zip(ids, dates, sessions, strict=True)):
            if not isinstance(sid, str) or not isinstance(d, str) or not isinstance(turns, list):
                raise _fail(where, f"session {j}: id/date must be strings, turns a list")
            tw = f"{where} session {sid!r}"
            parsed.append(
                Session.make(
                    sid,
                    parse_date(d),
                    tuple(_turn(t, f"{tw} turn {i}") for i, t in enumerate(turns)),
                )
            )
    except ValueError as e:
        if isinstance(e, RecordError):
            raise
        raise _fail(where, str(e)) from None
    answer_ids = raw.get("answer_session_ids")
    if answer_ids is None:
        # Oracle-style files without the field: every session carrying an answer turn.
        answer_ids = [s.session_id for s in parsed if any(t.has_answer for t in s.turns)]
    if not isinstance(answer_ids, list) or not all(isinstance(a, str) for a in answer_ids):
        raise _fail(where, "answer_session_ids must be a list of strings")
    extra = {k: v for k, v in raw.items() if k not in REQUIRED_FIELDS and k != "answer_session_ids"}
    return Record(
        question_id=raw["question_id"],
        question_type=raw["question_type"],
        question=raw["question"],
        answer=str(raw["answer"]),  # a few official answers are integers
        question_date=qdate,
        sessions=tuple(parsed),
        answer_session_ids=tuple(answer_ids),
        extra=extra,
    )


def iter_raw(path: Path, chunk_size: int = 1 << 20) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, decoded object)`` from a JSON array or JSON Lines file, streaming."""
    try:
        yield from iter_json_values(path, chunk_size=chunk_size, id_pattern=_QID)
    except JSONStreamError as e:
        raise RecordError(str(e)) from None


def iter_records(path: str | Path, chunk_size: int = 1 << 20) -> Iterator[Record]:
    """Stream validated records from an official LongMemEval file (array or JSON Lines)."""
    p = Path(path)
    for index, raw in iter_raw(p, chunk_size):
        yield parse_record(raw, f"{p.name}: record {index}")


def load_records(paths: list[Path] | list[str]) -> list[Record]:
    """All records of several files, in file order; question ids must be unique."""
    out: list[Record] = []
    seen: set[str] = set()
    for p in paths:
        for r in iter_records(p):
            if r.question_id in seen:
                raise RecordError(f"{Path(p).name}: duplicate question_id {r.question_id!r}")
            seen.add(r.question_id)
            out.append(r)
    return out


def dump_records(records: list[Record], path: Path) -> None:
    """Write records in the official layout (used for suites saved to disk and tests)."""
    rows = [to_raw(r) for r in records]
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    os.replace(tmp, path)


def format_date(d: datetime) -> str:
    return d.strftime("%Y/%m/%d (%a) %H:%M")


def to_raw(r: Record) -> dict[str, Any]:
    # Direct turn evidence is written as has_answer flags, the layout's own way.
    marked = r.evidence_turns if r.turn_evidence is not None else frozenset()
    return {
        "question_id": r.question_id,
        "question_type": r.question_type,
        "question": r.question,
        "answer": r.answer,
        "question_date": format_date(r.question_date),
        "haystack_session_ids": [s.session_id for s in r.sessions],
        "haystack_dates": [format_date(s.date) for s in r.sessions],
        "haystack_sessions": [
            [_raw_turn(t, (s.session_id, i) in marked) for i, t in enumerate(s.turns)]
            for s in r.sessions
        ],
        "answer_session_ids": list(r.answer_session_ids),
        **dict(r.extra),
    }


def _raw_turn(t: Turn, marked: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "role": t.role,
        "content": t.content,
        "has_answer": t.has_answer or marked,
    }
    if t.name is not None:
        out["name"] = t.name
    return out
