"""LLM usage as reported in API responses."""

from __future__ import annotations

from pydantic import BaseModel


class LLMUsageRead(BaseModel):
    calls: int = 0
    failed_calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
