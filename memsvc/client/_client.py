"""`MemoryClient` and `AsyncMemoryClient`: the memsvc HTTP API with mem0-style method names.

A 429 (the server at capacity; nothing was done) is sent again after its Retry-After, up to
`max_retries` times (0 turns that off and raises `Overloaded` at once).

Both accept an injectable httpx `transport=` (e.g. `httpx.ASGITransport(app=create_app(...))`
for the async client) and are context managers.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Self, TypeVar

import httpx

from memsvc.client._base import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    Call,
    Calls,
    headers_for,
    retry_wait,
    translate,
)
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
from memsvc.schemas.requests import MessagesArg

T = TypeVar("T")


class MemoryClient:
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

    def _send(self, call: Call[T]) -> T:
        for attempt in itertools.count():
            try:
                response = self._http.request(call.method, call.path, **call.request_kwargs())
            except httpx.TransportError as exc:
                raise translate(exc) from exc
            wait = retry_wait(response, attempt, self.max_retries)
            if wait is None:
                break
            time.sleep(wait)
        return call.parse(response)

    def add(
        self,
        messages: MessagesArg = None,
        *,
        text: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        timestamp: datetime | str | None = None,
        kind: str | None = None,
        infer: bool = True,
        wait: bool = True,
        idempotency_key: str | None = None,
    ) -> AddResult:
        return self._send(
            Calls.add(
                messages,
                text=text,
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                metadata=metadata,
                timestamp=timestamp,
                kind=kind,
                infer=infer,
                wait=wait,
                idempotency_key=idempotency_key,
            )
        )

    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        filters: Mapping[str, Any] | None = None,
        top_k: int | None = None,
        as_of: datetime | str | None = None,
        known_at: datetime | str | None = None,
        kinds: Sequence[str] | None = None,
        include_forgotten: bool | None = None,
        thoughts_first: bool | None = None,
        explain: bool | None = None,
        reinforce: bool | None = None,
        include_episodes: bool | None = None,
    ) -> SearchResult:
        return self._send(
            Calls.search(
                query,
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                filters=filters,
                top_k=top_k,
                as_of=as_of,
                known_at=known_at,
                kinds=kinds,
                include_forgotten=include_forgotten,
                thoughts_first=thoughts_first,
                explain=explain,
                reinforce=reinforce,
                include_episodes=include_episodes,
            )
        )

    def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> MemoryRead:
        return self._send(
            Calls.get(memory_id, user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        include_forgotten: bool = False,
    ) -> MemoryPage:
        return self._send(
            Calls.get_all(
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                limit=limit,
                cursor=cursor,
                include_forgotten=include_forgotten,
            )
        )

    def update(
        self,
        memory_id: str,
        text: str | None = None,
        *,
        metadata: dict[str, Any] | None = None,
        status: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> MemoryRead:
        scope = {"user_id": user_id, "agent_id": agent_id, "session_id": session_id}
        call = Calls.update(memory_id, scope, text=text, metadata=metadata, status=status)
        return self._send(call)

    def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> DeleteResult:
        return self._send(
            Calls.delete(memory_id, user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> DeleteResult:
        return self._send(
            Calls.delete_all(user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> list[HistoryEntry]:
        return self._send(
            Calls.history(memory_id, user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    def links(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> list[LinkRead]:
        return self._send(
            Calls.links(memory_id, user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    def get_episode(
        self,
        episode_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> EpisodeRead:
        """One raw message (as sent) of this scope; another owner's id raises NotFound."""
        return self._send(
            Calls.get_episode(episode_id, user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    def reflect(
        self,
        question: str,
        answer: str,
        *,
        source_ids: Sequence[str] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        timestamp: datetime | str | None = None,
        wait: bool = True,
    ) -> AddResult:
        """Think-in-Memory post-thinking: keep what `answer` concluded about `question` as a
        thought linked to the recalled memories `source_ids` (distilled by the LLM when one is
        configured, the answer itself otherwise; nothing is stored when it adds nothing)."""
        return self._send(
            Calls.reflect(
                question,
                answer,
                source_ids=list(source_ids or []),
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                metadata=dict(metadata or {}),
                timestamp=timestamp,
                wait=wait,
            )
        )

    def add_thought(
        self,
        text: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        source_ids: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        timestamp: datetime | str | None = None,
    ) -> AddResult:
        return self._send(
            Calls.add_thought(
                text,
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                source_ids=list(source_ids) if source_ids is not None else None,
                metadata=metadata,
                timestamp=timestamp,
            )
        )

    def erase_user(self, user_id: str) -> DeleteResult:
        return self._send(Calls.erase_user(user_id))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncMemoryClient:
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

    async def _send(self, call: Call[T]) -> T:
        for attempt in itertools.count():
            try:
                response = await self._http.request(call.method, call.path, **call.request_kwargs())
            except httpx.TransportError as exc:
                raise translate(exc) from exc
            wait = retry_wait(response, attempt, self.max_retries)
            if wait is None:
                break
            await asyncio.sleep(wait)
        return call.parse(response)

    async def add(
        self,
        messages: MessagesArg = None,
        *,
        text: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        timestamp: datetime | str | None = None,
        kind: str | None = None,
        infer: bool = True,
        wait: bool = True,
        idempotency_key: str | None = None,
    ) -> AddResult:
        return await self._send(
            Calls.add(
                messages,
                text=text,
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                metadata=metadata,
                timestamp=timestamp,
                kind=kind,
                infer=infer,
                wait=wait,
                idempotency_key=idempotency_key,
            )
        )

    async def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        filters: Mapping[str, Any] | None = None,
        top_k: int | None = None,
        as_of: datetime | str | None = None,
        known_at: datetime | str | None = None,
        kinds: Sequence[str] | None = None,
        include_forgotten: bool | None = None,
        thoughts_first: bool | None = None,
        explain: bool | None = None,
        reinforce: bool | None = None,
        include_episodes: bool | None = None,
    ) -> SearchResult:
        return await self._send(
            Calls.search(
                query,
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                filters=filters,
                top_k=top_k,
                as_of=as_of,
                known_at=known_at,
                kinds=kinds,
                include_forgotten=include_forgotten,
                thoughts_first=thoughts_first,
                explain=explain,
                reinforce=reinforce,
                include_episodes=include_episodes,
            )
        )

    async def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> MemoryRead:
        return await self._send(
            Calls.get(memory_id, user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    async def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        include_forgotten: bool = False,
    ) -> MemoryPage:
        return await self._send(
            Calls.get_all(
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                limit=limit,
                cursor=cursor,
                include_forgotten=include_forgotten,
            )
        )

    async def update(
        self,
        memory_id: str,
        text: str | None = None,
        *,
        metadata: dict[str, Any] | None = None,
        status: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> MemoryRead:
        scope = {"user_id": user_id, "agent_id": agent_id, "session_id": session_id}
        call = Calls.update(memory_id, scope, text=text, metadata=metadata, status=status)
        return await self._send(call)

    async def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> DeleteResult:
        return await self._send(
            Calls.delete(memory_id, user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    async def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> DeleteResult:
        return await self._send(
            Calls.delete_all(user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    async def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> list[HistoryEntry]:
        return await self._send(
            Calls.history(memory_id, user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    async def links(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> list[LinkRead]:
        return await self._send(
            Calls.links(memory_id, user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    async def get_episode(
        self,
        episode_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> EpisodeRead:
        """One raw message (as sent) of this scope; another owner's id raises NotFound."""
        return await self._send(
            Calls.get_episode(episode_id, user_id=user_id, agent_id=agent_id, session_id=session_id)
        )

    async def reflect(
        self,
        question: str,
        answer: str,
        *,
        source_ids: Sequence[str] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        timestamp: datetime | str | None = None,
        wait: bool = True,
    ) -> AddResult:
        """Think-in-Memory post-thinking: keep what `answer` concluded about `question` as a
        thought linked to the recalled memories `source_ids` (distilled by the LLM when one is
        configured, the answer itself otherwise; nothing is stored when it adds nothing)."""
        return await self._send(
            Calls.reflect(
                question,
                answer,
                source_ids=list(source_ids or []),
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                metadata=dict(metadata or {}),
                timestamp=timestamp,
                wait=wait,
            )
        )

    async def add_thought(
        self,
        text: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        source_ids: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        timestamp: datetime | str | None = None,
    ) -> AddResult:
        return await self._send(
            Calls.add_thought(
                text,
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                source_ids=list(source_ids) if source_ids is not None else None,
                metadata=metadata,
                timestamp=timestamp,
            )
        )

    async def erase_user(self, user_id: str) -> DeleteResult:
        return await self._send(Calls.erase_user(user_id))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
