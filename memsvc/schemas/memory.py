"""Schemas for writing and reading memories."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from memsvc.schemas.common import (
    SCOPE_RULE,
    Content,
    Label,
    MemoryId,
    Metadata,
    MetadataDoc,
    ScopeId,
    UTCTime,
    one_of_required,
)
from memsvc.schemas.usage import LLMUsageRead

EventName = Literal["ADD", "MERGE", "SUPERSEDE", "NOOP"]
NoteKind = Literal["turn", "round", "fact", "thought", "summary"]
Status = Literal["active", "forgotten"]


class _Scoped(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=SCOPE_RULE)

    user_id: ScopeId | None = None
    agent_id: ScopeId | None = None
    session_id: ScopeId | None = None


# A speaker's name, as in OpenAI chat messages: short, printable, no control characters.
SpeakerName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Label = "user"
    content: Content
    name: SpeakerName | None = Field(
        default=None,
        description="Who said it (as in OpenAI chat messages). Conversations between people, "
        "or a group, carry each speaker's name; it is part of what the memory is found by.",
    )
    timestamp: UTCTime | None = None


class MemoryCreate(_Scoped):
    """`messages` (conversation turns) or `text` (a fact stated directly), plus a scope."""

    model_config = ConfigDict(
        json_schema_extra={"allOf": [SCOPE_RULE, one_of_required("messages", "text", any_of=False)]}
    )

    messages: list[Message] | None = Field(default=None, min_length=1)
    text: Content | None = None
    metadata: Metadata
    timestamp: UTCTime | None = Field(
        default=None, description="Event time for messages without their own (default: now)."
    )
    kind: NoteKind | None = Field(
        default=None, description="Default: 'turn' for messages, 'fact' for text."
    )
    infer: StrictBool = Field(
        default=True,
        description="Extract attributes and run merge/supersede decisions (LLM if configured, "
        "offline heuristics otherwise). False stores the text as given.",
    )
    wait: StrictBool = Field(
        default=True,
        description="Return once the memory is searchable. With an LLM configured and "
        "wait=false, LLM enrichment runs after the acknowledgement.",
    )

    @model_validator(mode="after")
    def _one_payload(self) -> MemoryCreate:
        if (self.messages is None) == (self.text is None):
            raise ValueError("give exactly one of 'messages' or 'text'")
        if self.messages is not None and not self.messages:
            raise ValueError("'messages' must not be empty")
        return self


class MemoryBatchCreate(BaseModel):
    """Several adds in one request, stored in order as if sent one after another."""

    model_config = ConfigDict(extra="forbid")

    items: list[MemoryCreate] = Field(
        min_length=1,
        description="The adds, in the order they are stored. Each is an add of its own (own "
        "scope, own transaction); all are checked before the first is written.",
    )


class ThoughtCreate(_Scoped):
    """A conclusion the agent reached (Think-in-Memory), linked to the memories it came from."""

    text: Content
    source_ids: list[MemoryId] = Field(default_factory=list, max_length=100)
    metadata: Metadata
    timestamp: UTCTime | None = None
    wait: StrictBool = True


class MemoryUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra=one_of_required("text", "metadata", "status")
    )

    text: Content | None = None
    metadata: MetadataDoc | None = Field(
        default=None, description="Replaces the whole metadata object when given."
    )
    status: Status | None = Field(
        default=None, description="'forgotten' hides a memory from recall; 'active' restores it."
    )

    @model_validator(mode="after")
    def _something(self) -> MemoryUpdate:
        if self.text is None and self.metadata is None and self.status is None:
            raise ValueError("nothing to update: give 'text', 'metadata' or 'status'")
        return self


class MemoryEvent(BaseModel):
    id: str | None = Field(description="The memory written or reinforced; null for NOOP.")
    event: EventName
    memory: str
    target_id: str | None = Field(
        default=None, description="MERGE: the note merged into; SUPERSEDE: the note replaced."
    )
    previous_memory: str | None = None


class AddResult(BaseModel):
    results: list[MemoryEvent]
    episode_ids: list[str] = Field(description="One per input message, in input order.")
    llm: LLMUsageRead = Field(default_factory=LLMUsageRead)
    pending_enrichment: int = Field(
        default=0, description="Notes whose LLM enrichment is queued (wait=false or LLM down)."
    )


class AddBatchResult(BaseModel):
    results: list[AddResult] = Field(description="One per item, in item order.")


class MemoryRead(BaseModel):
    id: str
    memory: str
    kind: str
    role: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    keywords: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    context: str = ""
    facts: list[str] = Field(default_factory=list)
    episode_ids: list[str] = Field(default_factory=list)
    event_time: UTCTime
    valid_from: UTCTime
    valid_to: UTCTime | None = None
    superseded_by: str | None = None
    status: str
    strength: float
    recall_count: int
    last_recalled_at: UTCTime | None = Field(
        default=None, description="When it was last recalled; null until its first recall."
    )
    created_at: UTCTime
    updated_at: UTCTime


class MemoryPage(BaseModel):
    results: list[MemoryRead]
    next_cursor: str | None = None


class HistoryEntry(BaseModel):
    id: int
    memory_id: str
    event: str
    old_memory: str | None = None
    new_memory: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    actor: str
    reason: str = ""
    created_at: UTCTime


class LinkRead(BaseModel):
    id: str = Field(description="The linked memory's id.")
    memory: str
    kind: str
    direction: Literal["out", "in"]
    reason: str = ""
    weight: float = 1.0
    created_at: UTCTime


class DeleteResult(BaseModel):
    deleted: int
    message: str = ""
