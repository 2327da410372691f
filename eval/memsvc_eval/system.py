"""memsvc as a system under test, driven only through its public SDK.

In-process ``memsvc.Memory`` by default (one data folder per configuration, settings
overrides applied), or ``memsvc.client.MemoryClient`` against a running server (``--url``;
the server's own settings apply). Both expose the same methods and return types.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .baselines import Hits
from .data import Record, Turn, TurnId
from .results import IngestResult

# Applied under every configuration's overrides. The background worker (decay sweep) is
# off because eval replays 2023 timestamps and must see time only through ``as_of``.
# No background worker, so the LLM (when one is configured) is waited for at ingest: a note
# left to the job queue past the API's wait bound would never be enriched in an eval run.
EVAL_DEFAULTS: dict[str, Any] = {"background": False, "llm": {"wait_bound_s": None}}


@dataclass(frozen=True)
class SystemConfig:
    """A named memsvc configuration: settings overrides as nested sections."""

    name: str = "memsvc"
    overrides: Mapping[str, Any] = field(default_factory=dict)


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``over`` into a copy of ``base`` (dicts merge, anything else replaces)."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def utc(d: datetime) -> datetime:
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def build_settings(
    config: SystemConfig,
    *,
    data_dir: Path,
    cache_dir: Path | None,
    device: str,
    common: Mapping[str, Any] | None = None,
) -> Any:
    """Settings for one configuration: eval defaults < ``common`` (--set) < its overrides."""
    from memsvc.config import Settings

    base: dict[str, Any] = merge(EVAL_DEFAULTS, common or {})
    base = merge(base, config.overrides)
    base = merge(base, {"data_dir": data_dir, "embed": {"device": device}})
    if cache_dir is not None:
        base = merge(base, {"embed": {"cache_dir": cache_dir}})
    return Settings(**base)


def message(turn: Turn, when: datetime) -> dict[str, Any]:
    """One turn as an ``add()`` message; a named speaker keeps its name."""
    out: dict[str, Any] = {"role": turn.role, "content": turn.content}
    if turn.name is not None:
        out["name"] = turn.name
    out["timestamp"] = utc(when).isoformat()
    return out


@dataclass
class SearchOutcome:
    hits: Hits
    latency_ms: float
    memories: list[dict[str, Any]]
    unknown_episodes: int = 0


# Sections read only at search time (with the background sweep off, as in eval): two
# configurations that differ only here can search one ingested store.
SEARCH_ONLY = ("recall", "decay", "rerank")


def ingest_key(settings: Any) -> str:
    """What a configuration's ingested store depends on: every setting but the search-time
    sections and the paths that differ per configuration by construction."""
    dump = settings.model_dump(
        mode="json",
        exclude={
            **dict.fromkeys(SEARCH_ONLY, True),
            "data_dir": True,
            "database": {"url"},
            "index": {"path"},
        },
    )
    return repr(sorted(dump.items()))


class MemsvcSystem:
    def __init__(
        self,
        name: str,
        *,
        settings: Any = None,
        url: str | None = None,
        api_key: str | None = None,
        embedder: Any = None,
        shares: MemsvcSystem | None = None,
        sessions_per_add: int = 1,
    ) -> None:
        self.name = name
        self.sessions_per_add = max(1, sessions_per_add)
        self.settings = settings
        # Set when this configuration searches `shares`' store instead of ingesting its own.
        self.ingest_name = shares.name if shares is not None else name
        if shares is not None:
            # The same store with this configuration's search settings; closing it is a no-op.
            self.mem: Any = shares.mem.search_view(settings, embedder=embedder)
        elif url:
            from memsvc.client import MemoryClient

            # Whole haystack sessions go in one request: allow for a slow server.
            self.mem = MemoryClient(url, api_key=api_key, timeout=300.0)
        else:
            from memsvc import Memory

            # A shared embedder (same model and cache) saves one model load per config.
            self.mem = Memory(settings, embedder=embedder)

    def close(self) -> None:
        self.mem.close()

    def reset_scope(self, scope: str) -> None:
        """Drop a scope left half-ingested by a crash before ingesting it again."""
        self.mem.delete_all(user_id=scope)

    def ingest(self, record: Record, scope: str) -> tuple[dict[str, TurnId], IngestResult]:
        """Add every session in haystack order, each turn at its own event time; return
        the episode id → turn map and the cost."""
        episodes: dict[str, TurnId] = {}
        events: Counter[str] = Counter()
        calls = prompt = completion = turns = 0
        t0 = time.perf_counter()
        sessions = [s for s in record.sessions if s.turns]
        items = [
            {
                "messages": [message(t, s.turn_time(i)) for i, t in enumerate(s.turns)],
                "user_id": scope,
                "session_id": s.session_id,
                "timestamp": utc(s.date),
                "metadata": {"source": str(record.extra.get("source", "longmemeval"))},
                "wait": True,
            }
            for s in sessions
        ]
        k = self.sessions_per_add
        results = []
        for at in range(0, len(items), k):
            if k == 1:
                results.append(self.mem.add(**items[at]))
            else:
                results += self.mem.add_many(items[at : at + k]).results
        for s, res in zip(sessions, results, strict=True):
            if len(res.episode_ids) != len(s.turns):
                raise RuntimeError(
                    f"add() returned {len(res.episode_ids)} episode ids for {len(s.turns)} "
                    f"messages (session {s.session_id})"
                )
            for i, eid in enumerate(res.episode_ids):
                episodes[str(eid)] = (s.session_id, i)
            events.update(ev.event for ev in res.results)
            calls += res.llm.calls
            prompt += res.llm.prompt_tokens
            completion += res.llm.completion_tokens
            turns += len(s.turns)
        cost = IngestResult(
            system=self.name,
            scope=scope,
            haystack=record.haystack_hash(),
            sessions=len(record.sessions),
            turns=turns,
            seconds=time.perf_counter() - t0,
            llm_calls=calls,
            prompt_tokens=prompt,
            completion_tokens=completion,
            events=dict(events),
        )
        return episodes, cost

    def search(
        self, record: Record, scope: str, k: int, episodes: Mapping[str, TurnId]
    ) -> SearchOutcome:
        t0 = time.perf_counter()
        # No reinforcement: a question's hits must not depend on which question sharing the
        # scope searched first (with --workers that order is not fixed).
        res = self.mem.search(
            record.question, user_id=scope, top_k=k, as_of=utc(record.as_of), reinforce=False
        )
        latency = (time.perf_counter() - t0) * 1000.0
        hits: Hits = []
        memories: list[dict[str, Any]] = []
        unknown = 0
        for h in res.results:
            turns = [episodes[e] for e in h.episode_ids if e in episodes]
            unknown += len(h.episode_ids) - len(turns)
            hits.append(turns)
            when = getattr(h, "event_time", None)
            memories.append({"memory": h.memory, "event_time": when.isoformat() if when else None})
        return SearchOutcome(hits, latency, memories, unknown)
