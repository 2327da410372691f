"""`Memory`: the service in-process, no server — same methods and return types as the SDK."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Self, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy.orm import Session

from memsvc import background
from memsvc.config import Settings, get_local_settings
from memsvc.embed import Embedder
from memsvc.runtime import Runtime
from memsvc.schemas import (
    AddBatchResult,
    AddResult,
    DeleteResult,
    EpisodeRead,
    HistoryEntry,
    LinkRead,
    MemoryPage,
    MemoryRead,
    SearchResult,
)
from memsvc.schemas.calls import Call
from memsvc.schemas.memory import MemoryBatchCreate, MemoryCreate, MemoryUpdate, ThoughtCreate
from memsvc.schemas.methods import SyncMemoryAPI
from memsvc.schemas.search import SearchRequest
from memsvc.schemas.thought import ReflectRequest
from memsvc.services import episodes, ingest, ingest_batch, memories, recall, thoughts
from memsvc.services.decay import SweepResult
from memsvc.services.scope import Scope

T = TypeVar("T")
B = TypeVar("B", bound=BaseModel)


class Memory(SyncMemoryAPI):
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
        database and indexes, e.g. to compare rankings on one store. Ingest-side
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

    def _params_scope(self, call: Call[Any]) -> Scope:
        p = call.params
        return self._scope(p["user_id"], p["agent_id"], p["session_id"])

    def _send(self, call: Call[T], /) -> T:
        """Run a call of `memsvc.schemas.calls` here, by the services the API's routes use."""
        run: Callable[[Call[Any]], Any] = getattr(self, f"_run_{call.op}")
        return cast(T, run(call))

    def _run_add(self, call: Call[AddResult]) -> AddResult:
        req = _body(call, MemoryCreate)
        scope = self._scope(req.user_id, req.agent_id, req.session_id)
        key = call.headers.get("idempotency-key")
        deps = self._rt.ingest_deps()
        return self._write(
            lambda s: ingest.add(session=s, deps=deps, scope=scope, req=req, idempotency_key=key)
        )

    def _run_add_many(self, call: Call[AddBatchResult]) -> AddBatchResult:
        req = _body(call, MemoryBatchCreate)
        key = call.headers.get("idempotency-key")
        deps = self._rt.ingest_deps()
        return self._write(
            lambda s: ingest_batch.add_many(
                session=s, deps=deps, namespace=self.namespace, req=req, idempotency_key=key
            )
        )

    def _run_search(self, call: Call[SearchResult]) -> SearchResult:
        req = _body(call, SearchRequest)
        scope = self._scope(req.user_id, req.agent_id, req.session_id)
        deps = self._rt.recall_deps()
        return self._read(lambda s: recall.search(session=s, deps=deps, scope=scope, req=req))

    def _run_get(self, call: Call[MemoryRead]) -> MemoryRead:
        scope, memory_id = self._params_scope(call), call.target
        return self._read(lambda s: memories.get(session=s, scope=scope, memory_id=memory_id))

    def _run_get_all(self, call: Call[MemoryPage]) -> MemoryPage:
        scope, params = self._params_scope(call), call.params
        size = memories.page_size(self.settings.api, params["limit"])
        return self._read(
            lambda s: memories.list_page(
                session=s,
                scope=scope,
                limit=size,
                cursor=params["cursor"],
                include_forgotten=params["include_forgotten"],
            )
        )

    def _run_update(self, call: Call[MemoryRead]) -> MemoryRead:
        scope, memory_id, req = self._params_scope(call), call.target, _body(call, MemoryUpdate)
        deps = self._rt.memory_deps()
        return self._write(
            lambda s: memories.update(
                session=s, deps=deps, scope=scope, memory_id=memory_id, req=req
            )
        )

    def _run_delete(self, call: Call[DeleteResult]) -> DeleteResult:
        scope, memory_id = self._params_scope(call), call.target
        deps = self._rt.memory_deps()
        return self._write(
            lambda s: memories.delete_one(session=s, deps=deps, scope=scope, memory_id=memory_id)
        )

    def _run_delete_all(self, call: Call[DeleteResult]) -> DeleteResult:
        scope = self._params_scope(call)
        indexes = self._rt.indexes
        return self._write(lambda s: memories.delete_scope(session=s, indexes=indexes, scope=scope))

    def _run_history(self, call: Call[list[HistoryEntry]]) -> list[HistoryEntry]:
        scope, memory_id = self._params_scope(call), call.target
        return self._read(
            lambda s: memories.history_of(session=s, scope=scope, memory_id=memory_id)
        )

    def _run_links(self, call: Call[list[LinkRead]]) -> list[LinkRead]:
        scope, memory_id = self._params_scope(call), call.target
        return self._read(lambda s: memories.links_of(session=s, scope=scope, memory_id=memory_id))

    def _run_get_episode(self, call: Call[EpisodeRead]) -> EpisodeRead:
        scope, episode_id = self._params_scope(call), call.target
        return self._read(lambda s: episodes.get(session=s, scope=scope, episode_id=episode_id))

    def _run_reflect(self, call: Call[AddResult]) -> AddResult:
        req = _body(call, ReflectRequest)
        scope = self._scope(req.user_id, req.agent_id, req.session_id)
        deps = self._rt.ingest_deps()
        return self._write(lambda s: thoughts.reflect(session=s, deps=deps, scope=scope, req=req))

    def _run_add_thought(self, call: Call[AddResult]) -> AddResult:
        req = _body(call, ThoughtCreate)
        scope = self._scope(req.user_id, req.agent_id, req.session_id)
        deps = self._rt.ingest_deps()
        return self._write(lambda s: ingest.add_thought(session=s, deps=deps, scope=scope, req=req))

    def _run_erase_user(self, call: Call[DeleteResult]) -> DeleteResult:
        user_id, namespace = call.target, self.namespace
        indexes = self._rt.indexes
        return self._write(
            lambda s: memories.erase_user(
                session=s, indexes=indexes, namespace=namespace, user_id=user_id
            )
        )

    def sync(self) -> None:
        """Do now what the background worker would do soon: write pending reinforcements,
        run due LLM enrichment jobs, save dirty indexes. Handy in scripts and tests."""
        from memsvc.services import jobs

        rt = self._rt
        rt.reinforcer.flush(rt.db)
        deps = rt.ingest_deps()
        while jobs.run_pending(deps=deps):
            pass
        rt.indexes.save_dirty()

    def sweep(self, *, as_of: datetime | None = None) -> SweepResult:
        """MemoryBank forgetting now: notes whose retention fell under the threshold."""
        from memsvc.services.decay import sweep

        rt = self._rt
        return sweep(db=rt.db, reinforcer=rt.reinforcer, settings=rt.settings, as_of=as_of)

    def close(self) -> None:
        if not self._view:
            self._rt.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _body(call: Call[Any], model: type[B]) -> B:
    """The call's validated request body (built by `memsvc.schemas.requests`)."""
    if not isinstance(call.body, model):
        raise TypeError(f"{call.op}: expected a {model.__name__} body, got {call.body!r}")
    return call.body
