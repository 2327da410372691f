"""Property-based fuzz of the write and search bodies, on SQLite and PostgreSQL, over real HTTP.

Inputs mix ordinary values with what broke the service before: NUL and other control
characters, unpaired surrogates, NaN and infinities, huge integers, instants at the ends of
the calendar with any UTC offset, nested metadata. Whatever comes in:
- the answer is never a 5xx;
- a 4xx has the error shape and leaves every table's rows as they were;
- an accepted add stored what was sent: its episodes read back verbatim (content, event
  time, metadata), so nothing is silently altered (SQLite once stored NaN as null).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memsvc.api import create_app
from memsvc.embed import CachedEmbedder
from tests.api.test_bad_input import _error_shape_problem, row_counts
from tests.conftest import LiveServer, make_settings

HOSTILE = ["\x00", "a\x00b", "\ud800", "x\udfff", " ", "\t\n", "\x1f", "\u3000", "\x7f", ""]
hostile_texts = st.one_of(
    st.text(st.characters(categories=["Cc", "Cs", "Zs", "Zl", "Cf"]), max_size=8),
    st.sampled_from(HOSTILE),
)
# Mostly ordinary values (so that adds get through and their round trip is checked), some
# hostile: `one_of` picks a branch uniformly, so ordinary branches are listed more often.
plain = st.one_of(st.text(min_size=1, max_size=40), st.sampled_from(["I keep bees.", "Tea."]))
texts = st.one_of(plain, plain, plain, hostile_texts)
ids = st.one_of(*[st.sampled_from(["alice", "bob", " alice ", "a" * 255])] * 3, texts)
numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
flags = st.one_of(st.booleans(), st.booleans(), scalars)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
offsets = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ),
)
aware = st.datetimes(timezones=st.one_of(st.none(), offsets)).map(datetime.isoformat)
instants = st.one_of(
    aware,
    aware,
    aware,
    st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00", "0001-01-01"]),
    st.integers(),
    texts,
)
metadata = st.dictionaries(texts, json_values, max_size=4)
adds = st.fixed_dictionaries(
    {"user_id": ids, "text": texts},
    optional={"metadata": metadata, "timestamp": instants, "session_id": ids, "wait": flags},
)
conversations = st.fixed_dictionaries(
    {
        "user_id": ids,
        "messages": st.lists(
            st.fixed_dictionaries(
                {"content": texts},
                optional={"role": texts, "name": texts, "timestamp": instants},
            ),
            min_size=0,
            max_size=3,
        ),
    },
    optional={"metadata": metadata},
)
searches = st.fixed_dictionaries(
    {"user_id": ids, "query": texts},
    optional={
        "as_of": instants,
        "known_at": instants,
        "top_k": st.one_of(st.integers(min_value=-5, max_value=300), numbers, texts),
        "filters": st.dictionaries(texts, json_values, max_size=2),
    },
)
patches = st.fixed_dictionaries(
    {}, optional={"text": texts, "metadata": metadata, "status": st.sampled_from(["active", "x"])}
)
requests = st.one_of(
    st.tuples(st.just("POST"), st.just("/v1/memories"), adds),
    st.tuples(st.just("POST"), st.just("/v1/memories"), conversations),
    st.tuples(st.just("POST"), st.just("/v1/memories/search"), searches),
    st.tuples(st.just("PATCH"), st.just("/v1/memories/{mid}"), patches),
    st.tuples(st.just("POST"), st.just("/v1/thoughts"), adds),
    st.tuples(
        st.just("POST"),
        st.just("/v1/memories/batch"),
        st.fixed_dictionaries({"items": st.lists(st.one_of(adds, conversations), max_size=3)}),
    ),
)


_SEEDED: dict[str, str] = {}


@pytest.fixture
def server(db_url: str, tmp_path: Path, embedder: CachedEmbedder) -> Iterator[LiveServer]:
    with LiveServer(create_app(make_settings(tmp_path, db_url), embedder=embedder)) as srv:
        yield srv


def _same_json(sent: Any, stored: Any) -> bool:
    if isinstance(sent, float) and isinstance(stored, int | float):
        return math.isclose(sent, stored, rel_tol=0, abs_tol=0) or sent == stored
    if isinstance(sent, dict) and isinstance(stored, dict):
        return sent.keys() == stored.keys() and all(
            _same_json(v, stored[k]) for k, v in sent.items()
        )
    if isinstance(sent, list) and isinstance(stored, list):
        return len(sent) == len(stored) and all(map(_same_json, sent, stored))
    return bool(sent == stored and type(sent) is type(stored))


def _check_stored(http: httpx.Client, body: dict[str, Any], result: dict[str, Any]) -> None:
    """An accepted add's episodes hold exactly what was sent."""
    owner = {"user_id": str(body["user_id"]).strip()}
    sent = body.get("messages") or [{"content": body.get("text")}]
    default_time = body.get("timestamp")
    for message, episode_id in zip(sent, result["episode_ids"], strict=True):
        episode = http.get(f"/v1/episodes/{episode_id}", params=owner)
        assert episode.status_code == 200, episode.text
        stored = episode.json()
        assert stored["content"] == message["content"]
        assert _same_json(body.get("metadata", {}), stored["metadata"]), stored["metadata"]
        when = message.get("timestamp", default_time)
        if isinstance(when, str):
            instant = datetime.fromisoformat(when)
            if instant.tzinfo is None:
                instant = instant.replace(tzinfo=UTC)
            assert datetime.fromisoformat(stored["event_time"]) == instant


@pytest.mark.slow
@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests)
def test_fuzzed_bodies_never_fail_the_server_nor_change_it_on_refusal(
    server: LiveServer, db_url: str, request: tuple[str, str, dict[str, Any]]
) -> None:
    method, path, body = request
    engine = sa.create_engine(db_url)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            if server.url not in _SEEDED:  # one memory to PATCH, added once per server
                seeded = http.post("/v1/memories", json={"user_id": "alice", "text": "Bees."})
                _SEEDED[server.url] = seeded.json()["results"][0]["id"]
            mid = _SEEDED[server.url]
            before = row_counts(engine)
            # Python's encoder writes NaN/Infinity literals and escapes surrogates: as sent
            # by a sloppy client.
            content = json.dumps(body).encode()
            params = {"user_id": "alice"} if method == "PATCH" else None
            resp = http.request(
                method,
                path.replace("{mid}", mid),
                content=content,
                params=params,
                headers={"content-type": "application/json"},
            )
            assert resp.status_code < 500, resp.text
            if resp.status_code >= 400:
                assert _error_shape_problem(resp, resp.status_code) is None, resp.text
                assert row_counts(engine) == before, resp.text
            elif path == "/v1/memories":
                _check_stored(http, body, resp.json())
            elif path == "/v1/memories/batch":
                results = resp.json()["results"]
                assert len(results) == len(body["items"])
                for item, result in zip(body["items"], results, strict=True):
                    _check_stored(http, item, result)
    finally:
        engine.dispose()
