"""API schemas (pydantic), shared by the HTTP API, the SDK and the in-process `Memory`.

ORM tables live in `memsvc.db.models`; these are the public shapes, versioned with the API."""

from memsvc.schemas.episode import EpisodeRead
from memsvc.schemas.memory import (
    AddResult,
    DeleteResult,
    HistoryEntry,
    LinkRead,
    MemoryCreate,
    MemoryEvent,
    MemoryPage,
    MemoryRead,
    MemoryUpdate,
    Message,
    ThoughtCreate,
)
from memsvc.schemas.search import SearchHit, SearchRequest, SearchResult
from memsvc.schemas.usage import LLMUsageRead

__all__ = [
    "AddResult",
    "DeleteResult",
    "EpisodeRead",
    "HistoryEntry",
    "LLMUsageRead",
    "LinkRead",
    "MemoryCreate",
    "MemoryEvent",
    "MemoryPage",
    "MemoryRead",
    "MemoryUpdate",
    "Message",
    "SearchHit",
    "SearchRequest",
    "SearchResult",
    "ThoughtCreate",
]
