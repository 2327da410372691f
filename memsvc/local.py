"""`Memory`: the service in-process, no server — same methods and return types as the SDK."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Self, TypeVar

from sqlalchemy.orm import Session

from memsvc import background
from memsvc.config import Settings, get_local_settings
from memsvc.embed import Embedder
from memsvc.runtime import Runtime
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
from memsvc.services import episodes, ingest, memories, recall, thoughts
from memsvc.services.decay import SweepResult
from memsvc.services.scope import Scope

T = TypeVar("T")


class Memory:
    """Long-term memory in this process: SQLite (or any configured database) + a local index.

    >>> with Memory() as m:                                    # doctest: +SKIP
    ...     m.add("I moved to Berlin in May", user_id="alice")
    ...     m.search("where does she live?", user_id="alice").results[0].memory
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        namespace: str = "default",
    ) -> None:
        # Not the server's ./data: see memsvc.config.LOCAL_DATA_DIR.
        self.settings = settings or get_local_settings()
        self.namespace = namespace
        self._view = False  # True for a search_view(), which owns nothing
        self._rt = Runtime(self.settings, embedder=embedder)
        background.start(self._rt)

    @property
    def runtime(self) -> Runtime:
        return self._rt

    def search_view(self, settings: Settings, *, embedder: Embedder | None = None) -> Memory:
        """This store searched with other search-time settings (`recall`, `decay`): the same
        database, indexes and graphs, e.g. to compare rankings on one store. Ingest-side
        settings of `settings` are ignored; closing the view closes nothing."""
        view = object.__new__(Memory)
        view.settings, view.namespace = settings, self.namespace
        view._rt = self._rt.with_settings(settings, embedder=embedder)
        view._view = True
        return view

    def _write(self, fn: Callable[[Session], T]) -> T:
        with self._rt.db.session() as session:
            return fn(session)

    def _read(self, fn: Callable[[Session], T]) -> T:
        with self._rt.db.read() as session:
            return fn(session)

    def _scope(self, user_id: str | None, agent_id: str | None, session_id: str | None) -> Scope:
        return Scope(self.namespace, user_id, agent_id, session_id)

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
        req = add_request(
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
        )
        scope = self._scope(req.user_id, req.agent_id, req.session_id)
        return self._write(
            lambda s: ingest.add(
                session=s, rt=self._rt, scope=scope, req=req, idempotency_key=idempotency_key
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
        req = search_request(
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
        scope = self._scope(req.user_id, req.agent_id, req.session_id)
        return self._read(lambda s: recall.search(session=s, rt=self._rt, scope=scope, req=req))

    def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> MemoryRead:
        scope = self._scope(user_id, agent_id, session_id)
        return self._read(lambda s: memories.get(session=s, scope=scope, memory_id=memory_id))

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
        scope = self._scope(user_id, agent_id, session_id)
        api = self.settings.api
        size = memories.page_size(api, limit)
        return self._read(
            lambda s: memories.list_page(
                session=s,
                scope=scope,
                limit=size,
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
        scope = self._scope(user_id, agent_id, session_id)
        req = update_request(text=text, metadata=metadata, status=status)
        return self._write(
            lambda s: memories.update(
                session=s, rt=self._rt, scope=scope, memory_id=memory_id, req=req
            )
        )

    def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> DeleteResult:
        scope = self._scope(user_id, agent_id, session_id)
        return self._write(
            lambda s: memories.delete_one(session=s, rt=self._rt, scope=scope, memory_id=memory_id)
        )

    def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> DeleteResult:
        scope = self._scope(user_id, agent_id, session_id)
        return self._write(lambda s: memories.delete_scope(session=s, rt=self._rt, scope=scope))

    def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> list[HistoryEntry]:
        scope = self._scope(user_id, agent_id, session_id)
        return self._read(
            lambda s: memories.history_of(session=s, scope=scope, memory_id=memory_id)
        )

    def links(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> list[LinkRead]:
        scope = self._scope(user_id, agent_id, session_id)
        return self._read(lambda s: memories.links_of(session=s, scope=scope, memory_id=memory_id))

    def get_episode(
        self,
        episode_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> EpisodeRead:
        """One raw message (as sent) of this scope; another owner's id raises NotFound."""
        scope = self._scope(user_id, agent_id, session_id)
        return self._read(lambda s: episodes.get(session=s, scope=scope, episode_id=episode_id))

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
        req = reflect_request(
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
        scope = self._scope(req.user_id, req.agent_id, req.session_id)
        return self._write(lambda s: thoughts.reflect(session=s, rt=self._rt, scope=scope, req=req))

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
        req = thought_request(
            text,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            source_ids=list(source_ids) if source_ids is not None else None,
            metadata=metadata,
            timestamp=timestamp,
        )
        scope = self._scope(req.user_id, req.agent_id, req.session_id)
        return self._write(
            lambda s: ingest.add_thought(session=s, rt=self._rt, scope=scope, req=req)
        )

    def sync(self) -> None:
        """Do now what the background worker would do soon: write pending reinforcements,
        run due LLM enrichment jobs, save dirty indexes. Handy in scripts and tests."""
        from memsvc.services import jobs

        self._rt.reinforcer.flush(self._rt.db)
        while jobs.run_pending(self._rt):
            pass
        self._rt.indexes.save_dirty()

    def sweep(self, *, as_of: datetime | None = None) -> SweepResult:
        """MemoryBank forgetting now: notes whose retention fell under the threshold."""
        from memsvc.services.decay import sweep

        return sweep(self._rt, as_of=as_of)

    def erase_user(self, user_id: str) -> DeleteResult:
        return self._write(
            lambda s: memories.erase_user(
                session=s, rt=self._rt, namespace=self.namespace, user_id=user_id
            )
        )

    def close(self) -> None:
        if not self._view:
            self._rt.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
