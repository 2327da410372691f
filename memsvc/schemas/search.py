"""Schemas for recall."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from memsvc.schemas.common import ScopeId, UTCTime
from memsvc.schemas.memory import MemoryRead

FilterValue = str | int | float | bool | None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=8000)
    user_id: ScopeId | None = None
    agent_id: ScopeId | None = None
    session_id: ScopeId | None = None
    filters: dict[str, FilterValue] = Field(
        default_factory=dict, description="Metadata equality filters (all must match)."
    )
    top_k: int = Field(default=10, ge=1)
    as_of: UTCTime | None = Field(
        default=None,
        description="Valid time: only memories that were true at this instant (event time <= "
        "as_of and not yet superseded). Also the clock for decay. Default: now.",
    )
    known_at: UTCTime | None = Field(
        default=None, description="Transaction time: only memories recorded by this instant."
    )
    kinds: list[Literal["turn", "round", "fact", "thought", "summary"]] | None = None
    include_forgotten: bool = False
    thoughts_first: bool = Field(
        default=False, description="Put matching thoughts before other memories."
    )
    explain: bool = False
    reinforce: bool = Field(default=True, description="Recall strengthens the returned memories.")

    @model_validator(mode="after")
    def _not_blank(self) -> SearchRequest:
        if not self.query.strip():
            raise ValueError("'query' must not be blank")
        return self


class SearchHit(MemoryRead):
    score: float
    via: Literal["index", "part", "lexical", "time", "link"] = "index"
    explain: dict[str, float] | None = None


class SearchResult(BaseModel):
    results: list[SearchHit]
    took_ms: float = 0.0
