"""Pydantic models for what the LLM returns (and what the task functions hand back).

Validators are lenient on form and strict on meaning: they strip, lowercase tags, dedupe,
cap lengths and counts, accept ``"a, b"`` for a list and ``"add"`` for ``"ADD"``; but an
operation outside ADD/MERGE/SUPERSEDE/NOOP or a missing ``index`` is a validation error,
which makes the client retry. Handle checks (unknown ``m7``) happen in ``tasks``, which knows
the candidates; here a handle is only a trimmed string.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

__all__ = [
    "Evolution",
    "LinkDecision",
    "MemorizeOutput",
    "NoteDecision",
    "Operation",
    "ThoughtDraft",
]

MAX_KEYWORDS = 10
MAX_TAGS = 8
MAX_FACTS = 12
MAX_LINKS = 10
MAX_WORD_CHARS = 64
MAX_CONTEXT_CHARS = 400
MAX_FACT_CHARS = 400
MAX_REASON_CHARS = 300
MAX_STATEMENT_CHARS = 1000

OpName = Literal["ADD", "MERGE", "SUPERSEDE", "NOOP"]


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clean_terms(value: Any, *, limit: int, lower: bool) -> list[str]:
    """A list of short distinct strings from a list or a comma-separated string."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if not isinstance(item, str | int | float):
            continue
        term = clip(str(item).strip().strip("#").strip(), MAX_WORD_CHARS)
        if lower:
            term = term.lower()
        if term and term.lower() not in seen:
            seen.add(term.lower())
            out.append(term)
        if len(out) >= limit:
            break
    return out


def _text_or_empty(value: Any) -> Any:
    return "" if value is None else value


class Operation(BaseModel):
    """The TiM decision for one new note; ``target`` names an existing note for MERGE/SUPERSEDE."""

    op: OpName = "ADD"
    target: str | None = None
    reason: str = ""

    @field_validator("op", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("target", mode="before")
    @classmethod
    def _handle(cls, value: Any) -> Any:
        if value is None or (
            isinstance(value, str) and value.strip().lower() in {"", "null", "none"}
        ):
            return None
        return str(value).strip()

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> str:
        return clip(str(_text_or_empty(value)), MAX_REASON_CHARS)


class LinkDecision(BaseModel):
    target: str
    reason: str = ""

    @field_validator("target", mode="before")
    @classmethod
    def _handle(cls, value: Any) -> str:
        return str(value).strip()

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> str:
        return clip(str(_text_or_empty(value)), MAX_REASON_CHARS)


class Evolution(BaseModel):
    """A rewrite of an existing neighbour's context and/or tags (A-MEM memory evolution)."""

    target: str
    context: str | None = None
    tags: list[str] | None = None

    @field_validator("target", mode="before")
    @classmethod
    def _handle(cls, value: Any) -> str:
        return str(value).strip()

    @field_validator("context", mode="before")
    @classmethod
    def _context(cls, value: Any) -> str | None:
        if value is None:
            return None
        text = clip(str(value), MAX_CONTEXT_CHARS)
        return text or None

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str] | None:
        if value is None:
            return None
        return clean_terms(value, limit=MAX_TAGS, lower=True) or None

    @property
    def changes_something(self) -> bool:
        return self.context is not None or self.tags is not None


class NoteDecision(BaseModel):
    """Everything the batched memorize call decides about one new note."""

    index: int
    keywords: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    context: str = ""
    facts: list[str] = Field(default_factory=list)
    operation: Operation = Field(default_factory=Operation)
    links: list[LinkDecision] = Field(default_factory=list)
    evolve: list[Evolution] = Field(default_factory=list)

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords(cls, value: Any) -> list[str]:
        return clean_terms(value, limit=MAX_KEYWORDS, lower=False)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        return clean_terms(value, limit=MAX_TAGS, lower=True)

    @field_validator("context", mode="before")
    @classmethod
    def _context(cls, value: Any) -> str:
        return clip(str(_text_or_empty(value)), MAX_CONTEXT_CHARS)

    @field_validator("facts", mode="before")
    @classmethod
    def _facts(cls, value: Any) -> list[str]:
        if value is None:
            return []
        items = [value] if isinstance(value, str) else list(value)
        facts = [clip(str(item), MAX_FACT_CHARS) for item in items if isinstance(item, str)]
        return list(dict.fromkeys(f for f in facts if f))[:MAX_FACTS]

    @field_validator("operation", mode="before")
    @classmethod
    def _operation(cls, value: Any) -> Any:
        # Models sometimes answer "operation": "ADD" instead of an object.
        if value is None:
            return {"op": "ADD"}
        return {"op": value} if isinstance(value, str) else value

    @field_validator("links", "evolve", mode="before")
    @classmethod
    def _cap(cls, value: Any) -> Any:
        if value is None:
            return []
        # Bare handles ("links": ["m1", "m2"]) are accepted as links without a reason.
        items = [{"target": v} if isinstance(v, str) else v for v in list(value)]
        return items[:MAX_LINKS]


class MemorizeOutput(BaseModel):
    """The whole batched answer: one entry per new note (matched on ``index``)."""

    notes: list[NoteDecision]

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, value: Any) -> Any:
        # A bare array of notes, or a single note object, is accepted as the answer.
        if isinstance(value, list):
            return {"notes": value}
        if isinstance(value, dict) and "notes" not in value and "index" in value:
            return {"notes": [value]}
        return value


class ThoughtDraft(BaseModel):
    """A conclusion worth remembering, distilled from a question and its answer (TiM)."""

    statement: str
    keywords: list[str] = Field(default_factory=list)
    # False when the exchange produced nothing new worth storing (e.g. "I don't know").
    keep: bool = True

    @field_validator("statement", mode="before")
    @classmethod
    def _statement(cls, value: Any) -> str:
        return clip(str(_text_or_empty(value)), MAX_STATEMENT_CHARS)

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords(cls, value: Any) -> list[str]:
        return clean_terms(value, limit=MAX_KEYWORDS, lower=False)

    @model_validator(mode="after")
    def _empty_is_not_kept(self) -> ThoughtDraft:
        if not self.statement:
            self.keep = False
        return self
