"""A request's trips to the worker-thread pool. FastAPI runs every plain `def` dependency on a
worker thread; each trip is a hand-over and a wake-up, which under load is a good share of
a search's time on two cores. Only the session (it may talk to the database when it closes)
and the route itself go there; reading the runtime and the API key does not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest

from memsvc.api import create_app
from memsvc.client import MemoryClient
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings

# The session's enter and exit, the route, and FastAPI's check of a plain route's result.
MOST = 4


def test_search_and_list_make_few_trips(
    tmp_path: Path, embedder: CachedEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips: list[str] = []
    real = anyio.to_thread.run_sync

    async def counting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(func, "__qualname__", repr(func)))
        return await real(func, *args, **kwargs)

    settings = make_settings(tmp_path, api={"api_keys": {"k1": "team"}})
    with (
        LiveServer(create_app(settings, embedder=embedder)) as srv,
        MemoryClient(srv.url, api_key="k1") as client,
    ):
        client.add("I keep bees on the roof.", user_id="ana", infer=False, wait=True)
        client.search("bees", user_id="ana")  # the first search warms caches
        monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
        hits = client.search("what do I keep on the roof?", user_id="ana").results
        searched = list(trips)
        trips.clear()
        page = client.get_all(user_id="ana")
        listed = list(trips)
    assert hits and page.results
    assert 0 < len(searched) <= MOST, searched
    assert 0 < len(listed) <= MOST, listed
