"""How the client reads litellm's exceptions: retry or not, and how long to wait.

litellm maps provider errors onto the openai SDK's classes, which carry ``status_code``;
the response headers are on ``litellm_response_headers`` (or ``response.headers``).
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["describe", "is_retryable", "retry_after", "short", "status_of"]

# Besides 5xx: request timeout, conflict, too early, rate limited.
_RETRYABLE_STATUS = frozenset({408, 409, 425, 429})


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def is_retryable(exc: BaseException) -> bool:
    status = status_of(exc)
    if status is None:
        return True  # no HTTP status: connection-level trouble, worth another try
    return status in _RETRYABLE_STATUS or status >= 500


def retry_after(exc: BaseException) -> float | None:
    """Seconds from a ``Retry-After``/``retry-after-ms`` header on the error, if any."""
    sources = [getattr(exc, "litellm_response_headers", None)]
    response = getattr(exc, "response", None)
    sources.append(getattr(response, "headers", None))
    for headers in sources:
        if not headers:
            continue
        try:
            if headers.get("retry-after-ms") is not None:
                return max(0.0, float(headers["retry-after-ms"]) / 1000)
            value = headers.get("retry-after")
            if value is None:
                continue
            try:
                return max(0.0, float(value))
            except ValueError:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError, AttributeError):
            continue
    return None


def describe(exc: BaseException) -> str:
    status = status_of(exc)
    prefix = f"{type(exc).__name__}({status})" if status is not None else type(exc).__name__
    return f"{prefix}: {short(exc)}"


def short(exc: BaseException | Any, limit: int = 160) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "…"
