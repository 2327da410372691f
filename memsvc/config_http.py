"""The HTTP server's settings sections (`Settings.api`, `Settings.admission`): request
limits, authentication and overload protection. Split from memsvc.config, which re-exports
them; nothing here is read at import time either."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field


class ApiSettings(BaseModel):
    max_body_bytes: int = 2_000_000
    max_messages: int = 1000
    # Adds in one `POST /v1/memories/batch` (each within max_messages).
    max_batch_items: int = Field(100, ge=1)
    max_content_chars: int = 100_000
    # API key -> namespace. Empty: no authentication, every caller is namespace "default".
    api_keys: dict[str, str] = Field(default_factory=dict)
    page_size: int = 50
    max_page_size: int = 500
    # How long an add's Idempotency-Key is remembered (a retry after that stores again).
    idempotency_ttl_s: float = Field(86_400.0, gt=0)
    # Freeze the heap the server has once started (gc.freeze): full collections then skip
    # it, instead of stopping every request for a quarter of a second (memsvc.api.heap).
    gc_freeze: bool = True


class AdmissionSettings(BaseModel):
    """Overload protection (memsvc.api.overload): per route class, requests at work at once;
    more wait (holding no thread) in a bounded queue; past it, 429 with Retry-After. Keep the
    three limits' sum under the server's 40 worker threads so API work alone never fills them.

    The defaults are sized to the machine (`os.cpu_count()`) and to the latency goals: a
    search waits at most 0.1 s for a slot (its goal is p99 <= 150 ms), an add 0.5 s (p95 <=
    1 s); a client told 429 retries after Retry-After (the SDK does so itself)."""

    enabled: bool = True
    # Adds: the embedding of one add already uses every core (PyTorch), so more at once only
    # queue inside; None = half the cores (1 to 8), or 8 to 16 with an LLM, where an add
    # mostly waits (up to llm.wait_bound_s) on a call that takes no core here.
    add_concurrency: int | None = Field(None, ge=1)
    # Searches are CPU work: more at once than cores only lengthens each one. None = the
    # number of cores (2 to 16).
    search_concurrency: int | None = Field(None, ge=1)
    other_concurrency: int = Field(16, ge=1)
    # Waiting requests per class, and how long one may wait, before it is answered 429:
    # `search_max_wait_s` for searches, `max_wait_s` for adds and the rest.
    max_queue: int = Field(200, ge=0)
    max_wait_s: float = Field(0.5, ge=0)
    search_max_wait_s: float = Field(0.1, ge=0)
    retry_after_s: float = Field(1.0, gt=0)

    def limits(self, *, llm: bool = False) -> tuple[int, int]:
        """(add, search) concurrency, resolved against this machine's cores (and whether adds
        call an LLM)."""
        cores = os.cpu_count() or 2
        auto_add = min(16, max(8, cores // 2)) if llm else min(8, max(1, cores // 2))
        add = self.add_concurrency or auto_add
        search = self.search_concurrency or min(16, max(2, cores))
        return add, search
