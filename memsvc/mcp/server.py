"""The MCP tools and resources, over the same services as the HTTP routers.

Every tool names its scope (`user_id`, `agent_id` and/or `session_id`, at least one), and id
tools look the memory up in that scope only, as the HTTP id routes do: another owner's id is
"not found". The namespace is the API key's over HTTP and the server's own over stdio.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal, TypeVar, cast

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

import memsvc
from memsvc.auth import namespace_for
from memsvc.errors import MemsvcError
from memsvc.runtime import Runtime
from memsvc.schemas import (
    AddResult,
    DeleteResult,
    HistoryEntry,
    MemoryPage,
    MemoryRead,
    SearchResult,
)
from memsvc.schemas.requests import add_request, search_request, update_request
from memsvc.services import ingest, memories, recall
from memsvc.services.scope import Scope

INSTRUCTIONS = """\
Long-term memory. Before answering, `search_memories` with the user's question and the
user's id; after a turn, `add_memory` with what was said (or a fact worth keeping). Every
call names its scope: user_id (or agent_id / session_id). Memories of one scope are never
visible from another."""


class Message(BaseModel):
    role: Literal["user", "assistant", "system", "tool"] = "user"
    content: str
    name: str | None = None
    timestamp: datetime | None = None


class History(BaseModel):
    results: list[HistoryEntry]


F = TypeVar("F", bound=Callable[..., Any])


def _errors(fn: F) -> F:
    """Domain errors (not found, no scope, bad input) reach the client with their message as
    a tool error; anything else stays a crash, logged here and reported without details."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MemsvcError as exc:
            raise ToolError(f"{exc.code}: {exc}") from exc
        except ValidationError as exc:
            raise ToolError(f"invalid_input: {exc}") from exc

    return cast(F, wrapper)


def build_server(get_runtime: Callable[[], Runtime], *, namespace: str = "default") -> MCPServer:
    """The MCP server. `get_runtime` is called per request (the app makes its runtime in the
    lifespan, after the server is built); `namespace` applies where no HTTP request carries
    an API key (stdio)."""
    server = MCPServer(
        "memsvc", version=memsvc.__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    def namespace_of(ctx: Context) -> str:
        request = ctx.request_context.request
        if request is None:  # stdio: one local user, the server's namespace
            return namespace
        return namespace_for(request.headers, get_runtime().settings.api.api_keys)

    def scope_of(
        ctx: Context, user_id: str | None, agent_id: str | None, session_id: str | None
    ) -> Scope:
        return Scope(namespace_of(ctx), user_id, agent_id, session_id)

    @contextmanager
    def session(write: bool = False) -> Iterator[tuple[Session, Runtime]]:
        rt = get_runtime()
        if write:
            with rt.db.session() as s:
                yield s, rt
        else:
            with rt.db.read() as s:
                yield s, rt

    @server.tool()
    @_errors
    def add_memory(
        ctx: Context,
        text: str | None = None,
        messages: list[Message] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> AddResult:
        """Store a fact (`text`) or conversation turns (`messages`) in a scope's memory."""
        req = add_request(
            [m.model_dump(exclude_none=True) for m in messages] if messages else None,
            text=text,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            metadata=metadata,
            timestamp=timestamp,
        )
        scope = scope_of(ctx, req.user_id, req.agent_id, req.session_id)
        with session(write=True) as (s, rt):
            return ingest.add(session=s, deps=rt.ingest_deps(), scope=scope, req=req)

    @server.tool()
    @_errors
    def search_memories(
        ctx: Context,
        query: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        top_k: int = Field(5, ge=1, le=100),
        explain: bool = False,
    ) -> SearchResult:
        """The memories of a scope that best answer `query`, best first, with provenance."""
        req = search_request(
            query,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            top_k=top_k,
            explain=explain,
        )
        scope = scope_of(ctx, user_id, agent_id, session_id)
        with session() as (s, rt):
            return recall.search(session=s, deps=rt.recall_deps(), scope=scope, req=req)

    @server.tool()
    @_errors
    def get_memory(
        ctx: Context,
        memory_id: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> MemoryRead:
        """One memory of the scope, by id."""
        scope = scope_of(ctx, user_id, agent_id, session_id)
        with session() as (s, _):
            return memories.get(session=s, scope=scope, memory_id=memory_id)

    @server.tool()
    @_errors
    def list_memories(
        ctx: Context,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        limit: int = Field(50, ge=1, le=500),
        cursor: str | None = None,
        include_forgotten: bool = False,
    ) -> MemoryPage:
        """A page of the scope's memories, oldest first; pass `next_cursor` for the next."""
        scope = scope_of(ctx, user_id, agent_id, session_id)
        with session() as (s, _):
            return memories.list_page(
                session=s,
                scope=scope,
                limit=limit,
                cursor=cursor,
                include_forgotten=include_forgotten,
            )

    @server.tool()
    @_errors
    def update_memory(
        ctx: Context,
        memory_id: str,
        text: str | None = None,
        metadata: dict[str, Any] | None = None,
        status: Literal["active", "forgotten"] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> MemoryRead:
        """Change a memory's text, metadata or status (forgotten / active); kept in history."""
        req = update_request(text=text, metadata=metadata, status=status)
        scope = scope_of(ctx, user_id, agent_id, session_id)
        with session(write=True) as (s, rt):
            return memories.update(
                session=s, deps=rt.memory_deps(), scope=scope, memory_id=memory_id, req=req
            )

    @server.tool()
    @_errors
    def delete_memory(
        ctx: Context,
        memory_id: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> DeleteResult:
        """Delete one memory of the scope."""
        scope = scope_of(ctx, user_id, agent_id, session_id)
        with session(write=True) as (s, rt):
            return memories.delete_one(
                session=s, deps=rt.memory_deps(), scope=scope, memory_id=memory_id
            )

    @server.tool()
    @_errors
    def memory_history(
        ctx: Context,
        memory_id: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> History:
        """Every change of a memory (add, update, merge, supersede, forget), oldest first."""
        scope = scope_of(ctx, user_id, agent_id, session_id)
        with session() as (s, _):
            return History(results=memories.history_of(session=s, scope=scope, memory_id=memory_id))

    def page(ctx: Context, scope: Scope) -> str:
        size = get_runtime().settings.api.max_page_size
        with session() as (s, _):
            result = memories.list_page(session=s, scope=scope, limit=size)
        return json.dumps(result.model_dump(mode="json"), ensure_ascii=False)

    @server.resource("memsvc://users/{user_id}/memories", mime_type="application/json")
    def user_memories(user_id: str, ctx: Context) -> str:
        """A user's memories (the first page, as JSON)."""
        return page(ctx, Scope(namespace_of(ctx), user_id=user_id))

    @server.resource("memsvc://agents/{agent_id}/memories", mime_type="application/json")
    def agent_memories(agent_id: str, ctx: Context) -> str:
        """An agent's own memories (the first page, as JSON)."""
        return page(ctx, Scope(namespace_of(ctx), agent_id=agent_id))

    @server.resource("memsvc://sessions/{session_id}/memories", mime_type="application/json")
    def session_memories(session_id: str, ctx: Context) -> str:
        """A session's memories, for sessions that belong to no user or agent (JSON)."""
        return page(ctx, Scope(namespace_of(ctx), session_id=session_id))

    return server
