"""The public surface, defined once: one function per SDK method declares its parameters
(names, kinds, defaults, types, doc) and builds the request it makes as a `Call`.

`MemoryClient`, `AsyncMemoryClient` and the in-process `Memory` all take their methods from
here (`method = sync_method(calls.add)` / `async_method(calls.add)`) and differ only in
`_send(call)`: over HTTP, or run by the services in this process. The request bodies are the
pydantic models of `memsvc.schemas` (built by `memsvc.schemas.requests`), so a new option is one
parameter here plus, for a body option, one field on its model. It lives with the schemas (not in
`memsvc.client`) because `memsvc.local` and `memsvc.client` are sibling layers and may not import
each other; `tests/client/test_sdk_surface.py` checks that the three surfaces and the models
agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from memsvc.schemas.episode import EpisodeRead
from memsvc.schemas.memory import (
    AddBatchResult,
    AddResult,
    DeleteResult,
    HistoryEntry,
    LinkRead,
    MemoryPage,
    MemoryRead,
)
from memsvc.schemas.requests import (
    BatchItem,
    MessagesArg,
    add_request,
    batch_request,
    reflect_request,
    require_scope,
    search_request,
    thought_request,
    update_request,
)
from memsvc.schemas.search import SearchResult

T = TypeVar("T")


@dataclass
class Call(Generic[T]):
    """One SDK call, validated and ready to send: `op` names the method (what `Memory`
    dispatches on), `target` is the id in the path, unquoted (memory, episode or user)."""

    op: str
    method: str
    path: str
    result: TypeAdapter[T]
    body: BaseModel | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    target: str = ""

    def request_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"params": {k: v for k, v in self.params.items() if v is not None}}
        headers = dict(self.headers)
        if self.body is not None:
            kwargs["content"] = self.body.model_dump_json(exclude_none=True)
            headers["content-type"] = "application/json"
        if headers:
            kwargs["headers"] = headers
        return kwargs


_ADD, _SEARCH = TypeAdapter(AddResult), TypeAdapter(SearchResult)
_READ, _PAGE, _DELETE = TypeAdapter(MemoryRead), TypeAdapter(MemoryPage), TypeAdapter(DeleteResult)
_HISTORY, _LINKS = TypeAdapter(list[HistoryEntry]), TypeAdapter(list[LinkRead])
_EPISODE = TypeAdapter(EpisodeRead)
_BATCH = TypeAdapter(AddBatchResult)


def add(
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
) -> Call[AddResult]:
    """Store a conversation (`messages`) or one `text` in a scope; with `idempotency_key`, a
    retry of the same call gets the first answer back and stores nothing."""
    body = add_request(
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
    headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
    return Call("add", "POST", "/v1/memories", _ADD, body=body, headers=headers)


def add_many(
    items: Sequence[BatchItem], *, idempotency_key: str | None = None
) -> Call[AddBatchResult]:
    """Several adds in one call, stored in order exactly as if sent one after another (each
    its own scope and transaction), with their embeddings computed together: the way to load
    a backlog. Each item is a `MemoryCreate` or a mapping of `add`'s arguments. Every item is
    checked before the first is written, so bad input stores nothing. A failure of the server
    part-way leaves the items before it stored: send an `idempotency_key`, and a retry of the
    same items stores each one once."""
    body = batch_request(items)
    headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
    return Call("add_many", "POST", "/v1/memories/batch", _BATCH, body=body, headers=headers)


def search(
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
) -> Call[SearchResult]:
    """The memories of a scope that answer `query`, best first."""
    body = search_request(
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
    return Call("search", "POST", "/v1/memories/search", _SEARCH, body=body)


def get(
    memory_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
) -> Call[MemoryRead]:
    """One memory of this scope; another owner's id raises NotFound."""
    params = _scope_params(user_id=user_id, agent_id=agent_id, session_id=session_id)
    return Call("get", "GET", _item(memory_id), _READ, params=params, target=memory_id)


def get_all(
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    include_forgotten: bool = False,
) -> Call[MemoryPage]:
    """One page of the scope's memories; pass its `next_cursor` as `cursor` for the next."""
    params = _scope_params(
        user_id=user_id,
        agent_id=agent_id,
        session_id=session_id,
        limit=limit,
        cursor=cursor,
        include_forgotten=include_forgotten,
    )
    return Call("get_all", "GET", "/v1/memories", _PAGE, params=params)


def update(
    memory_id: str,
    text: str | None = None,
    *,
    metadata: dict[str, Any] | None = None,
    status: str | None = None,
    user_id: str | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
) -> Call[MemoryRead]:
    """Change a memory's text, metadata or status (the change is kept in its history)."""
    params = _scope_params(user_id=user_id, agent_id=agent_id, session_id=session_id)
    body = update_request(text=text, metadata=metadata, status=status)
    path = _item(memory_id)
    return Call("update", "PATCH", path, _READ, body=body, params=params, target=memory_id)


def delete(
    memory_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
) -> Call[DeleteResult]:
    """Delete one memory of this scope."""
    params = _scope_params(user_id=user_id, agent_id=agent_id, session_id=session_id)
    return Call("delete", "DELETE", _item(memory_id), _DELETE, params=params, target=memory_id)


def delete_all(
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
) -> Call[DeleteResult]:
    """Delete every memory of this scope."""
    params = _scope_params(user_id=user_id, agent_id=agent_id, session_id=session_id)
    return Call("delete_all", "DELETE", "/v1/memories", _DELETE, params=params)


def history(
    memory_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
) -> Call[list[HistoryEntry]]:
    """Every recorded change of one memory."""
    params = _scope_params(user_id=user_id, agent_id=agent_id, session_id=session_id)
    path = f"{_item(memory_id)}/history"
    return Call("history", "GET", path, _HISTORY, params=params, target=memory_id)


def links(
    memory_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
) -> Call[list[LinkRead]]:
    """The memories linked to this one, both directions."""
    params = _scope_params(user_id=user_id, agent_id=agent_id, session_id=session_id)
    path = f"{_item(memory_id)}/links"
    return Call("links", "GET", path, _LINKS, params=params, target=memory_id)


def get_episode(
    episode_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
) -> Call[EpisodeRead]:
    """One raw message (as sent) of this scope; another owner's id raises NotFound."""
    params = _scope_params(user_id=user_id, agent_id=agent_id, session_id=session_id)
    path = f"/v1/episodes/{_quote(episode_id)}"
    return Call("get_episode", "GET", path, _EPISODE, params=params, target=episode_id)


def reflect(
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
) -> Call[AddResult]:
    """Think-in-Memory post-thinking: keep what `answer` concluded about `question` as a
    thought linked to the recalled memories `source_ids` (distilled by the LLM when one is
    configured, the answer itself otherwise; nothing is stored when it adds nothing)."""
    body = reflect_request(
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
    return Call("reflect", "POST", "/v1/thoughts/reflect", _ADD, body=body)


def add_thought(
    text: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
    source_ids: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    timestamp: datetime | str | None = None,
    wait: bool = True,
) -> Call[AddResult]:
    """Store a thought (a conclusion of the agent's own) linked to the memories `source_ids`."""
    body = thought_request(
        text,
        user_id=user_id,
        agent_id=agent_id,
        session_id=session_id,
        source_ids=list(source_ids) if source_ids is not None else None,
        metadata=metadata,
        timestamp=timestamp,
        wait=wait,
    )
    return Call("add_thought", "POST", "/v1/thoughts", _ADD, body=body)


def erase_user(user_id: str) -> Call[DeleteResult]:
    """Delete everything stored about one user in this namespace."""
    path = f"/v1/users/{_quote(user_id)}"
    return Call("erase_user", "DELETE", path, _DELETE, target=user_id)


# The SDK's public calls, in the order of the README; `tests/client/test_sdk_surface.py` checks
# that each surface has exactly these.
SURFACE = (
    add,
    add_many,
    search,
    get,
    get_all,
    update,
    delete,
    delete_all,
    history,
    links,
    get_episode,
    reflect,
    add_thought,
    erase_user,
)


def _item(memory_id: str) -> str:
    return f"/v1/memories/{_quote(memory_id)}"


def _quote(value: str) -> str:
    return quote(value, safe="")


def _scope_params(**params: Any) -> dict[str, Any]:
    require_scope(params.get("user_id"), params.get("agent_id"), params.get("session_id"))
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in params.items()}
