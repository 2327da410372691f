"""What every SDK call sends and how its answer is read — shared by the sync and async clients,
which only differ in how they perform the HTTP exchange."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from memsvc.client._exceptions import APIConnectionError, APITimeoutError, from_response
from memsvc.schemas import (
    AddResult,
    DeleteResult,
    EpisodeRead,
    HistoryEntry,
    LinkRead,
    MemoryPage,
    MemoryRead,
    SearchResult,
)
from memsvc.schemas.requests import (
    MessagesArg,
    add_request,
    reflect_request,
    search_request,
    thought_request,
    update_request,
)

T = TypeVar("T")
DEFAULT_BASE_URL = "http://127.0.0.1:8420"
DEFAULT_TIMEOUT = 60.0
# A 429 means the server did not start the work, so sending the same call again is always
# safe (adds included); the server says when in Retry-After.
DEFAULT_MAX_RETRIES = 2
MAX_RETRY_WAIT_S = 30.0


@dataclass
class Call(Generic[T]):
    method: str
    path: str
    result: TypeAdapter[T]
    body: BaseModel | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def request_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"params": {k: v for k, v in self.params.items() if v is not None}}
        headers = dict(self.headers)
        if self.body is not None:
            kwargs["content"] = self.body.model_dump_json(exclude_none=True)
            headers["content-type"] = "application/json"
        if headers:
            kwargs["headers"] = headers
        return kwargs

    def parse(self, response: httpx.Response) -> T:
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text
            retry_after = response.headers.get("retry-after")
            raise from_response(response.status_code, body, retry_after=retry_after)
        return self.result.validate_json(response.content)


def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


_ADD, _SEARCH, _READ = _adapter(AddResult), _adapter(SearchResult), _adapter(MemoryRead)
_PAGE, _DELETE = _adapter(MemoryPage), _adapter(DeleteResult)
_HISTORY, _LINKS = _adapter(list[HistoryEntry]), _adapter(list[LinkRead])
_EPISODE = _adapter(EpisodeRead)


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


class Calls:
    """Builds one `Call` per SDK method; validation happens here, before any network I/O."""

    @staticmethod
    def add(
        messages: MessagesArg, idempotency_key: str | None = None, **kwargs: Any
    ) -> Call[AddResult]:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
        body = add_request(messages, **kwargs)
        return Call("POST", "/v1/memories", _ADD, body=body, headers=headers)

    @staticmethod
    def search(query: str, **kwargs: Any) -> Call[SearchResult]:
        return Call("POST", "/v1/memories/search", _SEARCH, body=search_request(query, **kwargs))

    @staticmethod
    def get(memory_id: str, **scope: str | None) -> Call[MemoryRead]:
        return Call("GET", _item(memory_id), _READ, params=_scope_params(scope))

    @staticmethod
    def get_all(**params: Any) -> Call[MemoryPage]:
        return Call("GET", "/v1/memories", _PAGE, params=_scope_params(params))

    @staticmethod
    def update(memory_id: str, scope: dict[str, str | None], **kwargs: Any) -> Call[MemoryRead]:
        params = _scope_params(scope)
        body = update_request(**kwargs)
        return Call("PATCH", _item(memory_id), _READ, body=body, params=params)

    @staticmethod
    def delete(memory_id: str, **scope: str | None) -> Call[DeleteResult]:
        return Call("DELETE", _item(memory_id), _DELETE, params=_scope_params(scope))

    @staticmethod
    def delete_all(**params: Any) -> Call[DeleteResult]:
        return Call("DELETE", "/v1/memories", _DELETE, params=_scope_params(params))

    @staticmethod
    def history(memory_id: str, **scope: str | None) -> Call[list[HistoryEntry]]:
        path = f"{_item(memory_id)}/history"
        return Call("GET", path, _HISTORY, params=_scope_params(scope))

    @staticmethod
    def links(memory_id: str, **scope: str | None) -> Call[list[LinkRead]]:
        return Call("GET", f"{_item(memory_id)}/links", _LINKS, params=_scope_params(scope))

    @staticmethod
    def get_episode(episode_id: str, **scope: str | None) -> Call[EpisodeRead]:
        path = f"/v1/episodes/{_quote(episode_id)}"
        return Call("GET", path, _EPISODE, params=_scope_params(scope))

    @staticmethod
    def reflect(question: str, answer: str, **kwargs: Any) -> Call[AddResult]:
        body = reflect_request(question, answer, **kwargs)
        return Call("POST", "/v1/thoughts/reflect", _ADD, body=body)

    @staticmethod
    def add_thought(text: str, **kwargs: Any) -> Call[AddResult]:
        return Call("POST", "/v1/thoughts", _ADD, body=thought_request(text, **kwargs))

    @staticmethod
    def erase_user(user_id: str) -> Call[DeleteResult]:
        return Call("DELETE", f"/v1/users/{_quote(user_id)}", _DELETE)


def _item(memory_id: str) -> str:
    return f"/v1/memories/{_quote(memory_id)}"


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _scope_params(params: Mapping[str, Any]) -> dict[str, Any]:
    from memsvc.schemas.requests import _scope

    _scope(params.get("user_id"), params.get("agent_id"), params.get("session_id"))
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in params.items()}
