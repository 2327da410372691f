"""Typed task functions the services call: memorize (batched ingest enrichment) and thoughts.

:func:`memorize` keeps ingest at ≤ 1 LLM call per turn: one call per chunk of up to
``settings.llm.batch_size`` new notes asks, for every note at once, its A-MEM attributes
(keywords, tags, context), extracted facts, the TiM operation (ADD / MERGE / SUPERSEDE /
NOOP), links to existing notes and evolution of those neighbours.

Handles: the caller names each candidate with any string it likes (``"m1"`` or a note id).
Inside a chunk the prompt shows short local handles (``m1``, ``m2``, …; one per distinct
candidate, shared by every note in the chunk), and decisions come back in the caller's
handles. Answers naming a handle the chunk does not know are dropped: such links and
evolutions disappear, and MERGE/SUPERSEDE without a known target become ADD.

The question-answering reader and judge (``answer.md``, ``judge_*.md``) are eval-only: they
run from ``eval/memsvc_eval/judge.py``, through the same client and prompts folder.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from memsvc.llm.client import LLMClient
from memsvc.llm.schemas import (
    Evolution,
    LinkDecision,
    MemorizeOutput,
    NoteDecision,
    Operation,
    ThoughtDraft,
    clip,
)
from memsvc.llm.usage import LLMUsage

__all__ = [
    "Candidate",
    "NewNote",
    "distill_thought",
    "format_time",
    "memorize",
    "numbered",
]

log = logging.getLogger("memsvc.llm")

# Prompt budget per item: a long assistant turn is cut rather than blowing up a batch.
MAX_NOTE_CHARS = 3000
MAX_CANDIDATE_CHARS = 600
MAX_THOUGHT_MEMORY_CHARS = 600
# Output budget per note of a batched call (a decision is ~100–250 tokens): a chunk of 16
# needs more than the usual single-call max_tokens, so memorize asks for at least this.
TOKENS_PER_NOTE = 300


@dataclass(frozen=True)
class Candidate:
    """An existing note shown to the model as a possible link / merge / supersede target."""

    handle: str
    content: str
    keywords: Sequence[str] = ()
    tags: Sequence[str] = ()
    context: str = ""
    timestamp: datetime | None = None


@dataclass(frozen=True)
class NewNote:
    """One new note (usually one conversation turn) to enrich."""

    index: int
    role: str
    content: str
    timestamp: datetime | None = None
    # Where the turn happened, e.g. "session s12 on 2023-05-20; earlier: user asked about…".
    session_context: str = ""
    candidates: Sequence[Candidate] = ()


def format_time(timestamp: datetime | None) -> str:
    """How prompts show time: minute precision and weekday (helps temporal questions)."""
    return timestamp.strftime("%Y-%m-%d %H:%M (%a)") if timestamp is not None else "unknown"


def numbered(items: Sequence[str], limit: int) -> str:
    """``[1] first\\n[2] second`` — how lists of memories appear in prompts (each clipped)."""
    if not items:
        return "(none)"
    return "\n".join(f"[{i}] {clip(text, limit)}" for i, text in enumerate(items, start=1))


def memorize(
    client: LLMClient, notes: Sequence[NewNote], *, usage: LLMUsage | None = None
) -> list[NoteDecision | None]:
    """Decide attributes, facts, operation, links and evolution for each new note.

    Returns one entry per input note, in order. An entry is ``None`` when the LLM is off,
    when the call for that note's chunk failed (after retries), or when the answer skipped
    that note; the caller then uses its offline path for those notes. Chunks are
    independent: one failed chunk does not affect the others. A returned decision's
    ``index`` is the caller's ``NewNote.index`` and its targets are the caller's handles.
    """
    if not notes:
        return []
    if not client.enabled:
        return [None] * len(notes)
    size = max(1, client.settings.batch_size)
    results: list[NoteDecision | None] = []
    for start in range(0, len(notes), size):
        results.extend(_memorize_chunk(client, notes[start : start + size], usage))
    return results


def _memorize_chunk(
    client: LLMClient, chunk: Sequence[NewNote], usage: LLMUsage | None
) -> list[NoteDecision | None]:
    local_of: dict[tuple[str, str], str] = {}  # (caller handle, content) -> "m<k>"
    caller_of: dict[str, str] = {}  # "m<k>" -> caller handle
    memory_lines: list[str] = []
    note_lines: list[str] = []
    for position, note in enumerate(chunk):
        handles: list[str] = []
        for cand in note.candidates:
            key = (cand.handle, cand.content)
            if key not in local_of:
                local = f"m{len(local_of) + 1}"
                local_of[key] = local
                caller_of[local] = cand.handle
                memory_lines.append(_jsonl(_candidate_view(local, cand)))
            if local_of[key] not in handles:
                handles.append(local_of[key])
        note_lines.append(_jsonl(_note_view(position, note, handles)))

    output = client.complete_json(
        "memorize",
        MemorizeOutput,
        usage=usage,
        max_tokens=max(client.settings.max_tokens, TOKENS_PER_NOTE * len(chunk)),
        count=len(chunk),
        notes="\n".join(note_lines),
        memories="\n".join(memory_lines) or "(none yet)",
    )
    if output is None:
        return [None] * len(chunk)
    by_position: dict[int, NoteDecision] = {}
    for answered in output.notes:
        by_position.setdefault(answered.index, answered)
    results: list[NoteDecision | None] = []
    for position, note in enumerate(chunk):
        decision = by_position.get(position)
        if decision is None:
            log.warning("llm memorize answer skipped note index=%d", note.index)
        results.append(None if decision is None else _to_caller(decision, note.index, caller_of))
    return results


def _candidate_view(handle: str, cand: Candidate) -> dict[str, object]:
    return {
        "handle": handle,
        "time": format_time(cand.timestamp),
        "content": clip(cand.content, MAX_CANDIDATE_CHARS),
        "keywords": list(cand.keywords),
        "tags": list(cand.tags),
        "context": cand.context,
    }


def _note_view(position: int, note: NewNote, handles: list[str]) -> dict[str, object]:
    return {
        "index": position,
        "role": note.role,
        "time": format_time(note.timestamp),
        "session": note.session_context,
        "content": clip(note.content, MAX_NOTE_CHARS),
        "candidates": handles,
    }


def _jsonl(obj: dict[str, object]) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _to_caller(decision: NoteDecision, index: int, caller_of: dict[str, str]) -> NoteDecision:
    """Map local handles back to the caller's, dropping what names an unknown handle."""
    op = decision.operation
    if op.op in {"MERGE", "SUPERSEDE"}:
        if op.target in caller_of:
            operation = Operation(op=op.op, target=caller_of[op.target], reason=op.reason)
        else:
            why = f"{op.op} without a known target ({op.target!r}); kept as new. {op.reason}"
            operation = Operation(op="ADD", target=None, reason=why.strip())
    else:
        operation = Operation(op=op.op, target=None, reason=op.reason)

    links: dict[str, LinkDecision] = {}
    for link in decision.links:
        if link.target in caller_of:
            target = caller_of[link.target]
            links.setdefault(target, LinkDecision(target=target, reason=link.reason))
    evolve: dict[str, Evolution] = {}
    for change in decision.evolve:
        if change.target in caller_of and change.changes_something:
            target = caller_of[change.target]
            evolve.setdefault(target, change.model_copy(update={"target": target}))
    dropped = len(decision.links) - len(links) + len(decision.evolve) - len(evolve)
    if dropped:
        log.debug("llm memorize dropped %d link/evolve entries with unknown handles", dropped)
    return decision.model_copy(
        update={
            "index": index,
            "operation": operation,
            "links": list(links.values()),
            "evolve": list(evolve.values()),
        }
    )


def distill_thought(
    client: LLMClient,
    *,
    question: str,
    answer: str,
    memories: Sequence[str],
    usage: LLMUsage | None = None,
) -> ThoughtDraft | None:
    """TiM's post-answer thought: the conclusion as one standalone statement + keywords.

    ``None`` when the LLM is off or failed. A draft with ``keep=False`` means the exchange
    holds nothing new worth remembering (the caller should not store it).
    """
    return client.complete_json(
        "thought",
        ThoughtDraft,
        usage=usage,
        question=question,
        answer=answer,
        memories=numbered(memories, MAX_THOUGHT_MEMORY_CHARS),
    )
