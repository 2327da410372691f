"""LLM call and token counters, returned in API responses and summed per ingest.

Counting rules (what the numbers mean):

* ``calls``: logical calls that reached the LLM (one per ``complete_*`` invocation on an
  enabled client, whatever happened next). With batching, ingest aims at ``calls`` ≤ turns.
* ``retries``: extra HTTP attempts made by those calls, so requests sent = calls + retries.
* ``failed_calls``: calls that gave up and returned ``None`` (the offline path takes over).
* ``prompt_tokens`` / ``completion_tokens``: as reported by the provider, over every attempt
  that got an answer (a retried malformed answer still cost its tokens).
"""

from __future__ import annotations

import threading

from pydantic import BaseModel, Field, computed_field

__all__ = ["LLMUsage"]

# One lock for every instance: increments are tiny and rare next to an HTTP call, and a
# module-level lock keeps the model copyable/picklable (a per-instance Lock would not be).
_LOCK = threading.Lock()


class LLMUsage(BaseModel):
    """Counters of LLM work; safe to update from several threads at once."""

    calls: int = Field(default=0, ge=0)
    failed_calls: int = Field(default=0, ge=0)
    retries: int = Field(default=0, ge=0)
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: LLMUsage) -> LLMUsage:
        """Add ``other``'s counts into this one (in place) and return ``self``."""
        snapshot = other.snapshot()
        with _LOCK:
            self.calls += snapshot.calls
            self.failed_calls += snapshot.failed_calls
            self.retries += snapshot.retries
            self.prompt_tokens += snapshot.prompt_tokens
            self.completion_tokens += snapshot.completion_tokens
        return self

    def snapshot(self) -> LLMUsage:
        """A consistent copy (no increment is half-applied)."""
        with _LOCK:
            return self.model_copy()

    def record_call(self) -> None:
        with _LOCK:
            self.calls += 1

    def record_retry(self) -> None:
        with _LOCK:
            self.retries += 1

    def record_failure(self) -> None:
        with _LOCK:
            self.failed_calls += 1

    def record_tokens(self, prompt_tokens: int, completion_tokens: int) -> None:
        with _LOCK:
            self.prompt_tokens += max(0, prompt_tokens)
            self.completion_tokens += max(0, completion_tokens)
