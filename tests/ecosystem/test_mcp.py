"""The MCP server end to end with the SDK's own client: streamable HTTP against a live server
(API keys, scopes) and stdio against `memsvc mcp` in a subprocess."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from memsvc.api import create_app
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings

TOOLS = {
    "add_memory",
    "search_memories",
    "get_memory",
    "list_memories",
    "update_memory",
    "delete_memory",
    "memory_history",
}


@asynccontextmanager
async def http_client(url: str, key: str | None) -> AsyncIterator[Client]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client,
    ):
        yield client


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def failure(client: Client, tool: str, **args: Any) -> str:
    result = await client.call_tool(tool, args)
    assert result.is_error
    return " ".join(getattr(c, "text", "") for c in result.content)


async def exercise(client: Client, user: str) -> None:
    """Every tool once, in one scope, and the scope's resource."""
    assert {t.name for t in (await client.list_tools()).tools} >= TOOLS
    added = await call(client, "add_memory", text="I am allergic to peanuts.", user_id=user)
    memory_id = added["results"][0]["id"]
    turns = [
        {"role": "user", "content": "My sister Ana lives in Porto."},
        {"role": "assistant", "content": "Nice, Porto is lovely."},
    ]
    await call(client, "add_memory", messages=turns, user_id=user, session_id="s1")
    found = await call(client, "search_memories", query="which food is unsafe?", user_id=user)
    assert found["results"][0]["id"] == memory_id
    got = await call(client, "get_memory", memory_id=memory_id, user_id=user)
    assert got["memory"] == "I am allergic to peanuts."
    page = await call(client, "list_memories", user_id=user)
    assert len(page["results"]) == 2
    text = "I am allergic to peanuts and cashews."
    await call(client, "update_memory", memory_id=memory_id, text=text, user_id=user)
    history = await call(client, "memory_history", memory_id=memory_id, user_id=user)
    assert [h["event"] for h in history["results"]] == ["ADD", "UPDATE"]
    resource = await client.read_resource(f"memsvc://users/{user}/memories")
    listed = json.loads(resource.contents[0].text)  # type: ignore[union-attr]
    assert {m["memory"] for m in listed["results"]} >= {text}
    # Another owner's id is "not found", like an unknown one.
    assert "not found" in await failure(client, "get_memory", memory_id=memory_id, user_id="eve")
    assert "scope" in await failure(client, "search_memories", query="anything")
    deleted = await call(client, "delete_memory", memory_id=memory_id, user_id=user)
    assert deleted["deleted"] == 1
    assert "not found" in await failure(client, "get_memory", memory_id=memory_id, user_id=user)


def test_streamable_http_honours_api_keys(tmp_path: Path, embedder: CachedEmbedder) -> None:
    settings = make_settings(tmp_path, api={"api_keys": {"key-a": "team-a", "key-b": "team-b"}})
    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        rest = httpx.post(f"{srv.url}/mcp", json={}, timeout=10)
        assert rest.status_code == 401 and rest.json()["error"]["code"] == "unauthorized"

        async def scenario() -> None:
            async with http_client(srv.url, "key-a") as client:
                await exercise(client, "alice")
                await call(
                    client,
                    "add_memory",
                    text="Team A's secret: the launch is on May 3.",
                    user_id="alice",
                )
            async with http_client(srv.url, "key-b") as client:  # same user id, other namespace
                found = await call(client, "search_memories", query="launch date", user_id="alice")
                assert found["results"] == []
            # The REST API sees what MCP wrote, in the same namespace.
            hits = httpx.post(
                f"{srv.url}/v1/memories/search",
                json={"query": "when is the launch?", "user_id": "alice"},
                headers={"authorization": "Bearer key-a"},
                timeout=30,
            ).json()["results"]
            assert "May 3" in hits[0]["memory"]

        anyio.run(scenario)


@pytest.mark.slow
def test_stdio_subprocess(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMSVC_")}
    env |= {"HF_HUB_OFFLINE": "1", "MEMSVC_DATA_DIR": str(tmp_path / "store")}
    env["MEMSVC_EMBED__QUERY_ENGINE"] = "torch"
    exe = str(Path(sys.executable).parent / "memsvc")
    params = StdioServerParameters(command=exe, args=["mcp"], env=env)

    async def scenario() -> None:
        async with Client(params, read_timeout_seconds=120) as client:
            await exercise(client, "bob")

    anyio.run(scenario)
    assert (tmp_path / "store" / "memsvc.db").exists()
