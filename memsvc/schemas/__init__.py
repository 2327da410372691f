"""API schemas (pydantic), shared by the HTTP API, the SDK and the in-process `Memory`.

ORM tables live in `memsvc.db.models`; these are the public shapes, versioned with the API."""

from memsvc.schemas.episode import EpisodeRead
from memsvc.schemas.memory import (
    AddBatchResult,
    AddResult,
    DeleteResult,
    HistoryEntry,
    LinkRead,
    MemoryBatchCreate,
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
    "AddBatchResult",
    "AddResult",
    "DeleteResult",
    "EpisodeRead",
    "HistoryEntry",
    "LLMUsageRead",
    "LinkRead",
    "MemoryBatchCreate",
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
