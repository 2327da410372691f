"""Episodes are readable: GET /v1/episodes/{id} (owner-checked) and hits that inline them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from memsvc import Memory
from memsvc.api import create_app
from memsvc.client import MemoryClient, NotFound
from memsvc.config import Settings
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
TURNS = [
    {"role": "user", "content": "I just started a job as a pastry chef.", "name": "Ana"},
    {"role": "assistant", "content": "Congratulations on the new job!"},
]


def _check(client: Memory | MemoryClient) -> None:
    added = client.add(TURNS, user_id="ana", session_id="s1", timestamp=T0, infer=False)
    first, second = added.episode_ids
    ep = client.get_episode(first, user_id="ana")
    assert (ep.role, ep.name, ep.content, ep.seq) == ("user", "Ana", TURNS[0]["content"], 0)
    assert ep.event_time == T0 and ep.session_id == "s1"
    for stranger in ({"user_id": "ben"}, {"user_id": "ana", "session_id": "s2"}):
        with pytest.raises(NotFound):
            client.get_episode(first, **stranger)
    plain = client.search("what is my job?", user_id="ana", top_k=1).results[0]
    assert plain.episodes is None
    hit = client.search("what is my job?", user_id="ana", top_k=1, include_episodes=True)
    episodes = hit.results[0].episodes or []
    assert [e.id for e in episodes] == [first, second]
    assert [e.content for e in episodes] == [t["content"] for t in TURNS]


def test_in_process(settings: Settings, embedder: CachedEmbedder) -> None:
    with Memory(settings, embedder=embedder) as mem:
        _check(mem)


def test_over_http(tmp_path: Path, embedder: CachedEmbedder) -> None:
    with (
        LiveServer(create_app(make_settings(tmp_path), embedder=embedder)) as srv,
        MemoryClient(srv.url) as client,
    ):
        _check(client)
