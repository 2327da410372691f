"""The memsvc Python SDK (HTTP). See `memsvc.Memory` for the same surface in-process."""

from memsvc.client._client import AsyncMemoryClient, MemoryClient
from memsvc.client._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    Conflict,
    InvalidInput,
    MemsvcError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    ScopeRequired,
    Unauthorized,
)
from memsvc.schemas import (
    AddResult,
    DeleteResult,
    HistoryEntry,
    LinkRead,
    MemoryEvent,
    MemoryPage,
    MemoryRead,
    SearchHit,
    SearchResult,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AddResult",
    "AsyncMemoryClient",
    "Conflict",
    "DeleteResult",
    "HistoryEntry",
    "InvalidInput",
    "LinkRead",
    "MemoryClient",
    "MemoryEvent",
    "MemoryPage",
    "MemoryRead",
    "MemsvcError",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "ScopeRequired",
    "SearchHit",
    "SearchResult",
    "Unauthorized",
]
