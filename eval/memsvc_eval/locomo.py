"""LoCoMo (Maharana et al., ACL 2024) read natively: conversations between two named people.

A LoCoMo file is a JSON array of conversations, each ``{sample_id, conversation, qa}``;
``conversation`` holds ``speaker_a``/``speaker_b``, ``session_N`` (turns with ``speaker``,
``dia_id`` "D<N>:<M>", ``text`` and, for a shared photo, ``blip_caption``) and
``session_N_date_time`` ("1:56 pm on 8 May, 2023"). Every QA pair becomes one
:class:`~memsvc_eval.data.Record` over its conversation (all questions of a conversation
share one haystack, so it is ingested once), with:

* turns kept under their speaker's name (role ``user`` for both: nobody is the assistant),
  a shared photo as its caption ("[shares a photo: a photo of a dog ...]");
* session dates as event times (turn i at date + i seconds, as for LongMemEval);
* evidence from the ``evidence`` dia_ids, at turn level and at session level;
* the category as the question type (:data:`CATEGORIES`); category 5 (adversarial) is an
  abstention question (id suffix ``_abs``), left out of retrieval metrics like
  LongMemEval's ``_abs`` questions.

The data is CC BY-NC: it is read from where the user keeps it, never copied into the repo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .data import ABSTENTION_SUFFIX, Record, RecordError, Session, Turn, TurnId

# As used by the field and the data's SOURCE.txt; checked against the data itself: category
# 2 questions all ask "when", 4 have one evidence turn, 1 mostly several, 5 have
# adversarial_answer instead of answer.
CATEGORIES: dict[int, str] = {
    1: "multi-hop",
    2: "temporal",
    3: "open-domain",
    4: "single-hop",
    5: "adversarial",
}
ABSTENTION_CATEGORY = 5
# Where the repository expects the shared copy (see eval/README.md, "LoCoMo").
DEFAULT_FILE = Path(__file__).resolve().parents[3] / "shared/data/locomo/locomo10_dev5.json"
_SESSION_KEY = re.compile(r"^session_(\d+)$")
# "D8:6", and the few malformed ids of the official file: "D:11:26", "D8:6; D9:17".
_DIA_ID = re.compile(r"D:?(\d+):(\d+)")
_DATE = "%I:%M %p on %d %B, %Y"


def parse_date(text: str) -> datetime:
    """``"1:56 pm on 8 May, 2023"`` → naive datetime."""
    try:
        return datetime.strptime(" ".join(text.split()), _DATE)
    except ValueError:
        raise ValueError(f"unrecognised LoCoMo date {text!r}") from None


def turn_text(raw: Mapping[str, Any]) -> str:
    """The turn as a reader sees it: its text, then the caption of a photo it shares."""
    text = str(raw.get("text") or "").strip()
    caption = raw.get("blip_caption")
    if isinstance(caption, str) and caption.strip():
        photo = f"[shares a photo: {caption.strip()}]"
        text = f"{text} {photo}" if text else photo
    return text


def default_file() -> Path:
    """``$MEMSVC_LOCOMO_DATA``, else ``../shared/data/locomo/locomo10_dev5.json``."""
    import os

    env = os.environ.get("MEMSVC_LOCOMO_DATA")
    return Path(env) if env else DEFAULT_FILE


def is_locomo(path: Path) -> bool:
    """True when the file's first record has LoCoMo's shape (``conversation`` and ``qa``)."""
    from .jsonstream import JSONStreamError, iter_json_values

    try:
        for _, first in iter_json_values(path):
            return isinstance(first, Mapping) and "conversation" in first and "qa" in first
    except (JSONStreamError, OSError):
        return False
    return False


@dataclass(frozen=True)
class Conversation:
    sample_id: str
    speakers: tuple[str, str]
    sessions: tuple[Session, ...]
    # dia_id -> (session id, turn index)
    turns: dict[str, TurnId]
    # Evidence ids that name no turn of the conversation (the official file has a few).
    unknown_evidence: int = 0


def session_id(sample_id: str, n: int) -> str:
    return f"{sample_id}/session_{n}"


def parse_conversation(sample_id: str, raw: Mapping[str, Any]) -> Conversation:
    where = f"conversation {sample_id!r}"
    numbers = sorted(int(m.group(1)) for k in raw if (m := _SESSION_KEY.match(k)))
    sessions: list[Session] = []
    turns: dict[str, TurnId] = {}
    for n in numbers:
        rows = raw[f"session_{n}"]
        when = raw.get(f"session_{n}_date_time")
        if not isinstance(rows, list) or not isinstance(when, str):
            raise RecordError(f"{where}: session_{n} needs a list of turns and a date_time")
        sid = session_id(sample_id, n)
        out: list[Turn] = []
        for i, t in enumerate(rows):
            if not isinstance(t, Mapping) or not isinstance(t.get("speaker"), str):
                raise RecordError(f"{where} session_{n} turn {i}: needs 'speaker' and 'text'")
            out.append(Turn("user", turn_text(t), name=t["speaker"]))
            if isinstance(t.get("dia_id"), str):
                turns[t["dia_id"]] = (sid, i)
        try:
            date = parse_date(when)
        except ValueError as e:
            raise RecordError(f"{where}: {e}") from None
        sessions.append(Session.make(sid, date, tuple(out)))
    sessions.sort(key=lambda s: (s.date, s.session_id))
    speakers = (str(raw.get("speaker_a", "")), str(raw.get("speaker_b", "")))
    return Conversation(sample_id, speakers, tuple(sessions), turns)


def evidence_turns(conv: Conversation, evidence: object) -> tuple[list[TurnId], int]:
    """The turns a QA pair's evidence names, and how many ids named none."""
    found: list[TurnId] = []
    unknown = 0
    items = evidence if isinstance(evidence, list) else []
    for item in items:
        ids = [f"D{a}:{b}" for a, b in _DIA_ID.findall(str(item))]
        if not ids:
            unknown += 1
        for dia in ids:
            if dia in conv.turns:
                if conv.turns[dia] not in found:
                    found.append(conv.turns[dia])
            else:
                unknown += 1
    return found, unknown


def conversation_records(raw: Mapping[str, Any], where: str) -> tuple[list[Record], int]:
    """One record per QA pair of one conversation, and the count of unknown evidence ids."""
    sample_id = raw.get("sample_id")
    conv_raw, qa = raw.get("conversation"), raw.get("qa")
    if not isinstance(sample_id, str) or not isinstance(conv_raw, Mapping):
        raise RecordError(f"{where}: needs 'sample_id' and a 'conversation' object")
    if not isinstance(qa, list):
        raise RecordError(f"{where}: 'qa' must be a list")
    conv = parse_conversation(sample_id, conv_raw)
    if not conv.sessions:
        raise RecordError(f"{where}: conversation {sample_id!r} has no sessions")
    # Questions are asked after the whole conversation.
    asked = conv.sessions[-1].end + timedelta(minutes=1)
    records: list[Record] = []
    unknown = 0
    for j, q in enumerate(qa):
        if not isinstance(q, Mapping) or not isinstance(q.get("question"), str):
            raise RecordError(f"{where} qa {j}: needs a string 'question'")
        cat = q.get("category")
        if cat not in CATEGORIES:
            raise RecordError(f"{where} qa {j}: unknown category {cat!r}")
        turns, bad = evidence_turns(conv, q.get("evidence"))
        unknown += bad
        sessions = list(dict.fromkeys(sid for sid, _ in turns))
        answer = q.get("answer", q.get("adversarial_answer", ""))
        qid = f"{sample_id}/q{j:03d}" + (ABSTENTION_SUFFIX if cat == ABSTENTION_CATEGORY else "")
        records.append(
            Record(
                question_id=qid,
                question_type=CATEGORIES[cat],
                question=q["question"],
                answer=str(answer),
                question_date=asked,
                sessions=conv.sessions,
                answer_session_ids=tuple(sessions),
                extra={"source": "locomo", "category": cat, "speakers": list(conv.speakers)},
                turn_evidence=frozenset(turns),
            )
        )
    return records, unknown


def load_locomo(path: str | Path) -> tuple[list[Record], dict[str, int]]:
    """Every QA pair of every conversation in the file, and counts worth reporting."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise RecordError(f"{p.name}: not valid JSON ({e})") from None
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise RecordError(f"{p.name}: expected a JSON array of conversations")
    records: list[Record] = []
    unknown = 0
    for i, conv in enumerate(data):
        rows, bad = conversation_records(conv, f"{p.name}: conversation {i}")
        records += rows
        unknown += bad
    stats = {"conversations": len(data), "unknown_evidence_ids": unknown}
    return records, stats
