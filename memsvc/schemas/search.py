"""Schemas for recall."""

from __future__ import annotations

from typing import Annotated, Literal

# Strict booleans: 0, 1 or "true" are not booleans.
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from memsvc.schemas.common import (
    SCOPE_RULE,
    ClosedKeys,
    Content,
    Integer,
    JsonNumber,
    JsonText,
    ScopeId,
    UTCTime,
    check_json,
)
from memsvc.schemas.episode import EpisodeRead
from memsvc.schemas.memory import MemoryRead

# Filters are compared with stored metadata, which never holds NUL or NaN: neither may they.
FilterValue = JsonText | int | JsonNumber | bool | None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=SCOPE_RULE)

    query: Annotated[Content, Field(max_length=8000)]
    user_id: ScopeId | None = None
    agent_id: ScopeId | None = None
    session_id: ScopeId | None = None
    filters: Annotated[dict[JsonText, FilterValue], BeforeValidator(check_json), ClosedKeys()] = (
        Field(default_factory=dict, description="Metadata equality filters (all must match).")
    )
    top_k: Integer = Field(
        default=10, ge=1, description="How many hits (at most `recall.max_top_k`, 200 by default)."
    )
    as_of: UTCTime | None = Field(
        default=None,
        description="Valid time: only memories that were true at this instant (event time <= "
        "as_of and not yet superseded), and the time decay, recency and time expressions are "
        "read at. Default: the scope's own clock, its latest event or recall.",
    )
    known_at: UTCTime | None = Field(
        default=None, description="Transaction time: only memories recorded by this instant."
    )
    kinds: list[Literal["turn", "round", "fact", "thought", "summary"]] | None = None
    include_forgotten: StrictBool = False
    thoughts_first: StrictBool = Field(
        default=False, description="Put matching thoughts before other memories."
    )
    explain: StrictBool = False
    reinforce: StrictBool = Field(
        default=True, description="Recall strengthens the returned memories."
    )
    include_episodes: StrictBool = Field(
        default=False, description="Inline each hit's episodes (its raw messages, verbatim)."
    )


class SearchHit(MemoryRead):
    score: float
    via: Literal["index", "part", "lexical", "time", "link", "neighbour"] = Field(
        default="index",
        description=(
            "Which stage found the hit: the key index, a sentence-level part, full text, "
            "the time range the query names, a link from a better hit, or the turn next to "
            "one of the best hits in its conversation."
        ),
    )
    explain: dict[str, float] | None = None
    episodes: list[EpisodeRead] | None = Field(
        default=None, description="With `include_episodes`: the raw messages, in order."
    )


class SearchResult(BaseModel):
    results: list[SearchHit]
    took_ms: float = 0.0
