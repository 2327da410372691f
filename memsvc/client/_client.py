"""`MemoryClient` and `AsyncMemoryClient`: the memsvc HTTP API with mem0-style method names.

Their methods (parameters, docs, the request each makes) come from `memsvc.schemas.calls`, the
one definition shared with the in-process `memsvc.Memory`; the two classes differ only in
`_send`, which performs the exchange with httpx's sync or async client.

A 429 (the server at capacity; nothing was done) is sent again after its Retry-After, up to
`max_retries` times (0 turns that off and raises `Overloaded` at once).

Both accept an injectable httpx `transport=` (e.g. `httpx.ASGITransport(app=create_app(...))`
for the async client) and are context managers.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Mapping
from typing import Self, TypeVar

import httpx

from memsvc.client._base import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    headers_for,
    parse,
    retry_wait,
    translate,
)
from memsvc.schemas.calls import Call
from memsvc.schemas.methods import AsyncMemoryAPI, SyncMemoryAPI

T = TypeVar("T")


class MemoryClient(SyncMemoryAPI):
    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        self.max_retries = max_retries
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers=headers_for(api_key, headers),
            transport=transport,
        )

    def _send(self, call: Call[T], /) -> T:
        for attempt in itertools.count():
            try:
                response = self._http.request(call.method, call.path, **call.request_kwargs())
            except httpx.TransportError as exc:
                raise translate(exc) from exc
            wait = retry_wait(response, attempt, self.max_retries)
            if wait is None:
                break
            time.sleep(wait)
        return parse(call, response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncMemoryClient(AsyncMemoryAPI):
    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        self.max_retries = max_retries
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            headers=headers_for(api_key, headers),
            transport=transport,
        )

    async def _send(self, call: Call[T], /) -> T:
        for attempt in itertools.count():
            try:
                response = await self._http.request(call.method, call.path, **call.request_kwargs())
            except httpx.TransportError as exc:
                raise translate(exc) from exc
            wait = retry_wait(response, attempt, self.max_retries)
            if wait is None:
                break
            await asyncio.sleep(wait)
        return parse(call, response)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
