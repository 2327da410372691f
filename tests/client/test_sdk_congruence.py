"""One script of calls through `Memory` (in-process), `MemoryClient` (real HTTP) and
`AsyncMemoryClient` (ASGI transport): the results must be equal, errors included."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import memsvc.client
from memsvc import Memory
from memsvc.api import create_app
from memsvc.client import AsyncMemoryClient, MemoryClient
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
VOLATILE = {
    "id",
    "episode_ids",
    "created_at",
    "updated_at",
    "took_ms",
    "next_cursor",
    "target_id",
    "memory_id",
}


def normalise(value: Any) -> Any:
    """Drop what legitimately differs between stores (generated ids, wall-clock times)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    return value


async def script(call: Callable[..., Awaitable[Any]]) -> list[Any]:
    """The same sequence of calls; `call(name, *args, **kwargs)` runs one method."""
    out: list[Any] = []

    async def step(name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            result = await call(name, *args, **kwargs)
        except Exception as exc:
            out.append((name, "error", type(exc).__name__, getattr(exc, "code", None)))
            return None
        out.append((name, normalise(result)))
        return result

    added = await step(
        "add",
        [
            {"role": "user", "content": "I live in Lisbon and work as a nurse."},
            {"role": "assistant", "content": "Lisbon is lovely in spring!"},
        ],
        user_id="ana",
        session_id="s1",
        timestamp=T0,
        metadata={"src": "chat"},
        infer=False,
    )
    await step(
        "add", "My daughter Sofia turned five in March.", user_id="ana", timestamp=T0, infer=False
    )
    await step("add", "Unrelated user's note.", user_id="ben", timestamp=T0, infer=False)
    await step("search", "what is my job?", user_id="ana", top_k=3, as_of=T0, reinforce=False)
    await step("search", "kids", user_id="ana", filters={"src": "chat"}, as_of=T0, reinforce=False)
    first = added.results[0].id
    await step("get", first, user_id="ana")
    await step("get", first, user_id="ben")  # another owner's id: not found
    await step("get", first)  # no owner: scope required
    await step("update", first, metadata={"src": "edited"}, user_id="ana")
    await step("update", first, metadata={"src": "stolen"}, user_id="ben")
    await step("history", first, user_id="ana")
    await step("links", first, user_id="ben")
    await step("get_all", user_id="ana", limit=2)
    await step("delete", first, user_id="ben")
    await step("delete", first, user_id="ana")
    await step("get", first, user_id="ana")
    await step("search", "anything", top_k=3)  # no scope
    await step("add", [], user_id="ana")  # invalid
    await step("delete_all", user_id="ana")
    await step("get_all", user_id="ana")
    await step("erase_user", "ben")
    return out


def _sync_caller(target: Any) -> Callable[..., Awaitable[Any]]:
    async def call(name: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(target, name)(*args, **kwargs)

    return call


def _async_caller(target: Any) -> Callable[..., Awaitable[Any]]:
    async def call(name: str, *args: Any, **kwargs: Any) -> Any:
        return await getattr(target, name)(*args, **kwargs)

    return call


def test_memory_http_and_async_clients_agree(tmp_path: Path, embedder: CachedEmbedder) -> None:
    with Memory(make_settings(tmp_path / "local"), embedder=embedder) as mem:
        local = asyncio.run(script(_sync_caller(mem)))

    with (
        LiveServer(create_app(make_settings(tmp_path / "http"), embedder=embedder)) as srv,
        MemoryClient(srv.url) as client,
    ):
        remote = asyncio.run(script(_sync_caller(client)))

    async def via_asgi() -> list[Any]:
        app = create_app(make_settings(tmp_path / "asgi"), embedder=embedder)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with AsyncMemoryClient("http://asgi", transport=transport) as aclient:
                return await script(_async_caller(aclient))

    asgi = asyncio.run(via_asgi())
    assert local == remote == asgi
    names = [entry[0] for entry in local]
    assert ("get", "error", "NotFound", "not_found") in local
    assert ("get", "error", "ScopeRequired", "scope_required") in local
    # Another owner's id in the same namespace is a 404 for every id call, and changes nothing.
    for call in ("update", "links", "delete"):
        assert (call, "error", "NotFound", "not_found") in local
    assert local[names.index("history")][1][-1]["after"]["metadata"] == {"src": "edited"}
    assert ("search", "error", "ScopeRequired", "scope_required") in local
    assert ("add", "error", "InvalidInput", "invalid_input") in local
    assert names.count("search") == 3


def test_the_three_surfaces_have_the_same_methods() -> None:
    public = {"add", "search", "get", "get_all", "update", "delete", "delete_all", "history"}
    for cls in (Memory, MemoryClient, AsyncMemoryClient):
        assert public <= {n for n in dir(cls) if not n.startswith("_")}, cls
    for name in public:
        sig = inspect.signature(getattr(MemoryClient, name))
        assert (
            inspect.signature(getattr(AsyncMemoryClient, name)).parameters.keys()
            == sig.parameters.keys()
        )
        assert (
            inspect.signature(getattr(Memory, name)).parameters.keys() == sig.parameters.keys()
        ), name


def test_client_all_is_sorted_and_complete() -> None:
    names = memsvc.client.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(memsvc.client, name)


def test_connection_errors_are_typed() -> None:
    from tests.conftest import free_port

    with (
        MemoryClient(f"http://127.0.0.1:{free_port()}", timeout=2) as client,
        pytest.raises(memsvc.client.APIConnectionError),
    ):
        client.get("x", user_id="u")
