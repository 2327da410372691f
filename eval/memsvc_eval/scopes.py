"""Ingested scopes of a run: ids, grouping by haystack, and their on-disk state.

A finished ingest leaves ``scopes/<system>/<haystack>.json`` (the episode id → turn map
that search results are translated with); a ``.started`` marker without it means a crash
hit mid-ingest, and the scope is emptied before it is ingested again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from .data import Record, TurnId
from .results import write_json_atomic


def scope_id(system: str, haystack: str) -> str:
    return f"lme-{hashlib.sha256(f'{system}:{haystack}'.encode()).hexdigest()[:20]}"


class ScopeStore:
    """Finished ingests (episode id → turn maps) on disk, plus "started" markers."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, system: str, haystack: str, suffix: str) -> Path:
        return self.root / system / f"{haystack}{suffix}"

    def load(self, system: str, haystack: str) -> dict[str, TurnId] | None:
        p = self._path(system, haystack, ".json")
        if not p.exists():
            return None
        rows = json.loads(p.read_text())["episodes"]
        return {str(e): (str(s), int(i)) for e, s, i in rows}

    def started(self, system: str, haystack: str) -> bool:
        return self._path(system, haystack, ".started").exists()

    def mark_started(self, system: str, haystack: str) -> None:
        p = self._path(system, haystack, ".started")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.touch()

    def save(self, system: str, haystack: str, episodes: dict[str, TurnId]) -> None:
        rows = [[e, s, i] for e, (s, i) in episodes.items()]
        write_json_atomic(self._path(system, haystack, ".json"), {"episodes": rows})


def group_by_haystack(records: Sequence[Record]) -> list[list[Record]]:
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(r.haystack_hash(), []).append(r)
    return list(groups.values())
