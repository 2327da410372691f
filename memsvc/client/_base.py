"""What the sync and async clients share: headers, reading an answer, the 429 retry policy.
The calls themselves (parameters, request built) are declared once in `memsvc.schemas.calls`;
the two clients only differ in how they perform the HTTP exchange (`_send`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import httpx

from memsvc.client._exceptions import APIConnectionError, APITimeoutError, from_response
from memsvc.schemas.calls import Call

T = TypeVar("T")
DEFAULT_BASE_URL = "http://127.0.0.1:8420"
DEFAULT_TIMEOUT = 60.0
# A 429 means the server did not start the work, so sending the same call again is always
# safe (adds included); the server says when in Retry-After.
DEFAULT_MAX_RETRIES = 2
MAX_RETRY_WAIT_S = 30.0


def parse(call: Call[T], response: httpx.Response) -> T:
    """The call's result, or the typed error the server answered."""
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        retry_after = response.headers.get("retry-after")
        raise from_response(response.status_code, body, retry_after=retry_after)
    return call.result.validate_json(response.content)


def headers_for(api_key: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {"accept": "application/json", "user-agent": "memsvc-python"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    headers.update(extra or {})
    return headers


def retry_wait(response: httpx.Response, attempt: int, max_retries: int) -> float | None:
    """Seconds to wait before sending the call again, or None to give the answer back: only a
    429 is retried, at most `max_retries` times, after its Retry-After (1 s if absent, capped
    at MAX_RETRY_WAIT_S), so a saturated server sheds load without the caller seeing it."""
    if response.status_code != 429 or attempt >= max_retries:
        return None
    try:
        wait = float(response.headers.get("retry-after", "1"))
    except ValueError:  # an HTTP date or garbage: the server's own default
        wait = 1.0
    return min(max(wait, 0.0), MAX_RETRY_WAIT_S)


def translate(exc: httpx.TransportError) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request timed out: {exc}")
    return APIConnectionError(f"cannot reach the memsvc server: {exc}")
