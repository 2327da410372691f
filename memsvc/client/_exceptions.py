"""Exceptions raised by the SDK. The same classes are raised by the in-process `Memory`, so code
written against one runs unchanged against the other.

    MemsvcError                      (memsvc.errors) base of everything below
    ├── APIConnectionError           the server could not be reached
    │   └── APITimeoutError          ... or did not answer in time
    ├── InvalidInput        422      bad request body or parameters
    │   └── ScopeRequired   422      no user_id / agent_id / session_id given
    ├── Unauthorized        401      missing or wrong API key
    ├── NotFound            404      unknown memory id / user
    ├── Conflict            409
    ├── PayloadTooLarge     413      body over the server's limit
    └── APIStatusError      any      any other non-2xx answer (e.g. 500, 503)
        └── Overloaded      429      the server is at capacity: retry after `.retry_after` s
"""

from __future__ import annotations

from typing import Any

from memsvc.errors import (
    Conflict,
    InvalidInput,
    MemsvcError,
    NotFound,
    PayloadTooLarge,
    ScopeRequired,
    Unauthorized,
)


class APIConnectionError(MemsvcError):
    code = "connection_error"


class APITimeoutError(APIConnectionError):
    code = "timeout"


class APIStatusError(MemsvcError):
    def __init__(self, message: str, *, status: int, code: str, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.code = code


class Overloaded(APIStatusError):
    """429: the server is saturated and did not start the work; nothing was changed, so the
    same call may simply be sent again after `retry_after` seconds (None if not given)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "overloaded",
        details: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=429, code=code, details=details)
        self.retry_after = retry_after


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None  # absent, or an HTTP date (memsvc sends seconds)
    return seconds if seconds >= 0 else None


_BY_CODE: dict[str, type[MemsvcError]] = {
    cls.code: cls
    for cls in (InvalidInput, ScopeRequired, Unauthorized, NotFound, Conflict, PayloadTooLarge)
}


def from_response(status: int, body: Any, *, retry_after: str | None = None) -> MemsvcError:
    """The exception for a non-2xx answer, from the server's JSON error body (and its
    `Retry-After` header)."""
    error = body.get("error") if isinstance(body, dict) else None
    if status == 429:
        details = error.get("details") if isinstance(error, dict) else body
        message = str(error.get("message")) if isinstance(error, dict) else "HTTP 429"
        code = str(error.get("code", "overloaded")) if isinstance(error, dict) else "overloaded"
        wait = _seconds(retry_after)
        if wait is None and isinstance(details, dict):
            wait = _seconds(details.get("retry_after_s"))
        return Overloaded(message, code=code, details=details, retry_after=wait)
    if not isinstance(error, dict):
        return APIStatusError(f"HTTP {status}", status=status, code="http_error", details=body)
    code = str(error.get("code", "http_error"))
    message = str(error.get("message", f"HTTP {status}"))
    cls = _BY_CODE.get(code)
    if cls is not None and cls.status == status:
        return cls(message, details=error.get("details"))
    return APIStatusError(message, status=status, code=code, details=error.get("details"))


__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Conflict",
    "InvalidInput",
    "MemsvcError",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "ScopeRequired",
    "Unauthorized",
]
