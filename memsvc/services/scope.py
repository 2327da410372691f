"""Scopes and partitions.

A memory belongs to a namespace (the API key's) and an *owner*: its `user_id`, else its
`agent_id`, else its `session_id`. The owner decides the index partition, so one user's vectors
never share an index with another's. A search must name the owner; other ids narrow it down.
"""

from __future__ import annotations

from dataclasses import dataclass

from memsvc.errors import ScopeRequired


@dataclass(frozen=True, slots=True)
class Scope:
    namespace: str
    user_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = None

    def __post_init__(self) -> None:
        if not (self.user_id or self.agent_id or self.session_id):
            raise ScopeRequired(
                "a scope is required: give at least one of user_id, agent_id, session_id"
            )

    @property
    def partition(self) -> str:
        if self.user_id:
            return f"{self.namespace}/u/{self.user_id}"
        if self.agent_id:
            return f"{self.namespace}/a/{self.agent_id}"
        return f"{self.namespace}/s/{self.session_id}"

    def columns(self) -> dict[str, str | None]:
        """The scope as a stored row holds it (notes and episodes)."""
        return {
            "namespace": self.namespace,
            "partition": self.partition,
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "session_id": self.session_id,
        }

    def narrows(self) -> dict[str, str]:
        """The ids beyond the owner that a stored note must match to be in this scope."""
        out: dict[str, str] = {}
        if self.user_id:
            if self.agent_id:
                out["agent_id"] = self.agent_id
            if self.session_id:
                out["session_id"] = self.session_id
        elif self.agent_id and self.session_id:
            out["session_id"] = self.session_id
        return out
