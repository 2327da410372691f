"""Bad input gets a clear 4xx JSON error and changes nothing, on SQLite and PostgreSQL.

One table of cases, each a request that answered 5xx or was silently accepted before (NUL
bytes, NaN, timestamps that overflow in UTC, a cursor past BIGINT, invalid UTF-8 in the URL,
an over-limit page size, PATCH skipping add's checks, ...). Each is sent over real HTTP to a
server holding a few memories; the answer must be the listed status with the error shape
`{"error": {"code", "message", "details"}}`, and every table of the database must hold the
same rows afterwards (and the seeded memory the same content).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from memsvc.api import create_app
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings

MAX_CHARS = 2_000  # the add limit of the server under test (api.max_content_chars)
OWNER = {"user_id": "alice"}
MID = "{mid}"  # replaced by the seeded memory's id
UNDER_UTC = "0001-01-01T00:00:00+01:00"  # before year 1 once converted to UTC
OVER_UTC = "9999-12-31T23:30:00-01:00"  # after year 9999 once converted to UTC
HUGE_CURSOR = "bjo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"  # "n:99999999999999999999999999"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: str  # sent as is: percent-escapes are not re-encoded
    status: int
    body: Any = None  # JSON-encoded unless `raw`
    raw: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)

    def request(self, http: httpx.Client, mid: str) -> httpx.Response:
        url = self.url.replace(MID, mid)
        content = self.raw
        if content is None and self.body is not None:
            content = json.dumps(self.body).replace(MID, mid).encode()
        headers = {"content-type": "application/json"} if content is not None else {}
        # No `params` at all when there are none: httpx would drop the query in `url`.
        params = self.params or None
        return http.request(self.method, url, params=params, content=content, headers=headers)


def _add(**body: Any) -> dict[str, Any]:
    return {**OWNER, "text": "I keep bees on my balcony.", **body}


def _msg(**message: Any) -> dict[str, Any]:
    return {**OWNER, "messages": [{"role": "user", "content": "Hello there.", **message}]}


def _search(**body: Any) -> dict[str, Any]:
    return {**OWNER, "query": "what do I keep?", **body}


def _thought(**body: Any) -> dict[str, Any]:
    return {**OWNER, "text": "Alice likes insects.", **body}


def _raw(doc: str) -> bytes:
    return doc.encode()


ADD, SEARCH, THOUGHTS = "/v1/memories", "/v1/memories/search", "/v1/thoughts"
ITEM = f"/v1/memories/{MID}"

CASES = [
    # Timestamps that overflow when converted to UTC, wherever a time is accepted.
    Case("add timestamp before year 1 in UTC", "POST", ADD, 422, _add(timestamp=UNDER_UTC)),
    Case("add timestamp after 9999 in UTC", "POST", ADD, 422, _add(timestamp=OVER_UTC)),
    Case("message timestamp overflow", "POST", ADD, 422, _msg(timestamp=UNDER_UTC)),
    Case("thought timestamp overflow", "POST", THOUGHTS, 422, _thought(timestamp=OVER_UTC)),
    Case("search as_of overflow", "POST", SEARCH, 422, _search(as_of=UNDER_UTC)),
    Case("search known_at overflow", "POST", SEARCH, 422, _search(known_at=OVER_UTC)),
    Case("timestamp as a number", "POST", ADD, 422, _add(timestamp=1700000000)),
    Case("timestamp not a date", "POST", ADD, 422, _add(timestamp="yesterday")),
    # Cursors: past BIGINT, negative, padded, not base64.
    Case("cursor past bigint", "GET", ADD, 422, params={**OWNER, "cursor": HUGE_CURSOR}),
    Case("cursor negative", "GET", ADD, 422, params={**OWNER, "cursor": "bjotMQ"}),
    Case("cursor with spaces", "GET", ADD, 422, params={**OWNER, "cursor": "bjogNQ"}),
    Case("cursor garbage", "GET", ADD, 422, params={**OWNER, "cursor": "%%%"}),
    # NUL in every text the body carries.
    Case("NUL in text", "POST", ADD, 422, _add(text="bees\x00wasps")),
    Case("NUL in content", "POST", ADD, 422, _msg(content="Hi\x00")),
    Case("NUL in role", "POST", ADD, 422, _msg(role="us\x00er")),
    Case("NUL in speaker name", "POST", ADD, 422, _msg(name="Al\x00ice")),
    Case("NUL in metadata key", "POST", ADD, 422, _add(metadata={"k\x00": "v"})),
    Case("NUL in metadata value", "POST", ADD, 422, _add(metadata={"k": "v\x00"})),
    Case("NUL nested in metadata", "POST", ADD, 422, _add(metadata={"a": [{"b": ["\x00"]}]})),
    Case("NUL nested metadata key", "POST", ADD, 422, _add(metadata={"a": {"\x00": 1}})),
    Case("NUL in body user_id", "POST", ADD, 422, {"user_id": "al\x00ice", "text": "Bees."}),
    Case("NUL in body agent_id", "POST", ADD, 422, _add(agent_id="bot\x00")),
    Case("NUL in body session_id", "POST", ADD, 422, _add(session_id="s\x00")),
    Case("NUL in search user_id", "POST", SEARCH, 422, {"user_id": "\x00", "query": "bees"}),
    Case("NUL in search query", "POST", SEARCH, 422, _search(query="bees\x00")),
    Case("NUL in filter value", "POST", SEARCH, 422, _search(filters={"k": "v\x00"})),
    Case("NUL in filter key", "POST", SEARCH, 422, _search(filters={"k\x00": "v"})),
    Case("NUL in thought text", "POST", THOUGHTS, 422, _thought(text="x\x00")),
    Case("NUL in source_ids", "POST", THOUGHTS, 422, _thought(source_ids=["a\x00b"])),
    Case("NUL in PATCH text", "PATCH", ITEM, 422, {"text": "x\x00"}, params=OWNER),
    Case("NUL in PATCH metadata", "PATCH", ITEM, 422, {"metadata": {"k": "\x00"}}, params=OWNER),
    Case(
        "unpaired surrogate in text",
        "POST",
        ADD,
        422,
        raw=_raw('{"user_id": "alice", "text": "bees \\ud800"}'),
    ),
    Case(
        "unpaired surrogate in metadata key",
        "POST",
        ADD,
        422,
        raw=_raw('{"user_id": "alice", "text": "Bees.", "metadata": {"\\udc00": 1}}'),
    ),
    # NUL in the URL: query, path; ids of every id route and the user erase.
    Case("NUL in query user_id", "GET", ADD, 400, params={"user_id": "al\x00ice"}),
    Case("NUL in scope delete", "DELETE", ADD, 400, params={"user_id": "alice\x00"}),
    Case("NUL in erased user", "DELETE", "/v1/users/alice%00", 400),
    Case("NUL in memory id (GET)", "GET", f"{ITEM}%00", 400, params=OWNER),
    Case(
        "NUL in memory id (PATCH)",
        "PATCH",
        "/v1/memories/a%00b",
        400,
        {"text": "Hi."},
        params=OWNER,
    ),
    Case("NUL in memory id (DELETE)", "DELETE", "/v1/memories/a%00b", 400, params=OWNER),
    Case("NUL in memory id (history)", "GET", "/v1/memories/a%00/history", 400, params=OWNER),
    Case("NUL in memory id (links)", "GET", "/v1/memories/a%00/links", 400, params=OWNER),
    Case("NUL in owner of id route", "GET", ITEM, 400, params={"user_id": "\x00"}),
    # Invalid UTF-8 in the URL (servers would turn it into U+FFFD without a word).
    Case("invalid UTF-8 in query", "GET", "/v1/memories?user_id=%ff%fe", 400),
    Case("invalid UTF-8 in query name", "GET", "/v1/memories?user_id=a&%c3=1", 400),
    Case("invalid UTF-8 in path", "GET", "/v1/memories/%ff?user_id=alice", 400),
    Case("invalid UTF-8 in erased user", "DELETE", "/v1/users/%c3%28", 400),
    Case("control character in query id", "GET", ADD, 422, params={"user_id": "a\x01"}),
    # NaN and infinities are not JSON numbers: stored as null by SQLite, a 500 on PostgreSQL.
    Case(
        "NaN in metadata",
        "POST",
        ADD,
        422,
        raw=_raw('{"user_id": "alice", "text": "Bees.", "metadata": {"x": NaN}}'),
    ),
    Case(
        "Infinity in metadata",
        "POST",
        ADD,
        422,
        raw=_raw('{"user_id": "alice", "text": "Bees.", "metadata": {"x": [1, Infinity]}}'),
    ),
    Case(
        "-Infinity nested",
        "POST",
        ADD,
        422,
        raw=_raw('{"user_id": "alice", "text": "Bees.", "metadata": {"a": {"b": -Infinity}}}'),
    ),
    Case(
        "NaN in PATCH metadata",
        "PATCH",
        ITEM,
        422,
        raw=_raw('{"metadata": {"x": NaN}}'),
        params=OWNER,
    ),
    Case(
        "NaN in filters",
        "POST",
        SEARCH,
        422,
        raw=_raw('{"user_id": "alice", "query": "bees", "filters": {"x": NaN}}'),
    ),
    Case(
        "1e400 in metadata",
        "POST",
        ADD,
        422,
        raw=_raw('{"user_id": "alice", "text": "Bees.", "metadata": {"x": 1e400}}'),
    ),
    # PATCH applies add's checks.
    Case("PATCH blank text", "PATCH", ITEM, 422, {"text": "  \n\t "}, params=OWNER),
    Case("PATCH empty text", "PATCH", ITEM, 422, {"text": ""}, params=OWNER),
    Case("PATCH nothing", "PATCH", ITEM, 422, {}, params=OWNER),
    Case("PATCH status unknown", "PATCH", ITEM, 422, {"status": "gone"}, params=OWNER),
    # The same checks on add, for comparison (these were already 4xx).
    Case("add blank text", "POST", ADD, 422, _add(text="   ")),
    Case("add text over the limit", "POST", ADD, 422, _add(text="b" * (MAX_CHARS + 1))),
    Case("add blank content", "POST", ADD, 422, _msg(content=" \n")),
    Case("add no messages", "POST", ADD, 422, {**OWNER, "messages": []}),
    Case("add text and messages", "POST", ADD, 422, {**_msg(), "text": "Both."}),
    Case("add no scope", "POST", ADD, 422, {"text": "Bees."}),
    Case("add blank scope", "POST", ADD, 422, {"user_id": "  ", "text": "Bees."}),
    Case("add wait as a string", "POST", ADD, 422, _add(wait="yes")),
    Case("add body not an object", "POST", ADD, 422, [1, 2]),
    Case("add malformed JSON", "POST", ADD, 400, raw=b'{"user_id": "alice", "text": '),
    # A page size above the maximum is an error, not a silent clamp.
    Case("limit above the maximum", "GET", ADD, 422, params={**OWNER, "limit": "501"}),
    Case("limit past int64", "GET", ADD, 422, params={**OWNER, "limit": "9" * 30}),
    Case("limit zero", "GET", ADD, 422, params={**OWNER, "limit": "0"}),
    Case("list without owner", "GET", ADD, 422),
    # Search: query, top_k, filters.
    Case("search blank query", "POST", SEARCH, 422, _search(query=" \t ")),
    Case("search empty query", "POST", SEARCH, 422, _search(query="")),
    Case("search huge query", "POST", SEARCH, 422, _search(query="bees " * 1700)),
    Case("search top_k zero", "POST", SEARCH, 422, _search(top_k=0)),
    Case("search top_k above max", "POST", SEARCH, 422, _search(top_k=201)),
    Case("search top_k huge", "POST", SEARCH, 422, _search(top_k=10**30)),
    Case("search top_k a string", "POST", SEARCH, 422, _search(top_k="5")),
    Case("search top_k fractional", "POST", SEARCH, 422, _search(top_k=2.5)),
    Case("search filter object", "POST", SEARCH, 422, _search(filters={"k": {"a": 1}})),
    Case("search without owner", "POST", SEARCH, 422, {"query": "bees"}),
    Case("search explain as 1", "POST", SEARCH, 422, _search(explain=1)),
    # Thoughts: sources must exist in the scope, and be bounded.
    Case("thought unknown source", "POST", THOUGHTS, 422, _thought(source_ids=["nope"])),
    Case("thought too many sources", "POST", THOUGHTS, 422, _thought(source_ids=["x"] * 101)),
    Case(
        "thought source of another owner",
        "POST",
        THOUGHTS,
        422,
        {"user_id": "bob", "text": "Bob thinks.", "source_ids": [MID]},
    ),
]


@pytest.fixture
def server(db_url: str, tmp_path: Path, embedder: CachedEmbedder) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, db_url, api={"max_content_chars": MAX_CHARS})
    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        yield srv


def row_counts(engine: sa.Engine) -> dict[str, int]:
    """Rows of every table in the database (full-text and bookkeeping tables included)."""
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        return {
            name: conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in sorted(names)
        }


def _error_shape_problem(resp: httpx.Response, status: int) -> str | None:
    if resp.status_code != status:
        return f"status {resp.status_code} != {status}: {resp.text[:300]}"
    try:
        body = resp.json()
    except ValueError:
        return f"not JSON: {resp.text[:300]}"
    error = body.get("error") if isinstance(body, dict) else None
    if set(body) != {"error"} or not isinstance(error, dict):
        return f"not an error object: {body}"
    if set(error) != {"code", "message", "details"}:
        return f"error keys {sorted(error)}"
    if not (isinstance(error["code"], str) and error["code"] and error["message"]):
        return f"empty code or message: {error}"
    return None


def test_bad_input_is_a_4xx_that_changes_nothing(server: LiveServer, db_url: str) -> None:
    """Every case of the table, in order, against one server; all problems reported at once."""
    engine = sa.create_engine(db_url)
    try:
        problems = _run_cases(server, engine)
    finally:
        engine.dispose()
    assert not problems, "\n".join(problems)


def _run_cases(server: LiveServer, engine: sa.Engine) -> list[str]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        seeded = http.post(
            "/v1/memories",
            json={**OWNER, "text": "I keep bees on my balcony.", "metadata": {"hive": 2}},
        )
        assert seeded.status_code == 200, seeded.text
        mid = seeded.json()["results"][0]["id"]
        http.post("/v1/memories", json={"user_id": "bob", "text": "Bob rides a red bicycle."})
        before = http.get(f"/v1/memories/{mid}", params=OWNER).json()
        counts = row_counts(engine)
        assert counts["notes"] == 2 and counts["episodes"] == 2

        problems = []
        for case in CASES:
            resp = case.request(http, mid)
            problem = _error_shape_problem(resp, case.status)
            after = row_counts(engine)
            if after != counts:
                changed = {k: (counts.get(k), v) for k, v in after.items() if counts.get(k) != v}
                problem = f"{problem or ''} rows changed: {changed}".strip()
                counts = after
            if problem:
                problems.append(f"{case.name}: {problem}")

        if (now := http.get(f"/v1/memories/{mid}", params=OWNER).json()) != before:
            problems.append(f"the seeded memory changed: {before} -> {now}")
        assert http.get("/healthz").status_code == 200
    return problems


PATCH_OVER_LIMIT = Case(
    "PATCH text over the add limit",
    "PATCH",
    ITEM,
    422,
    {"text": "b" * (MAX_CHARS + 1)},
    params=OWNER,
)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_patch_applies_the_add_length_limit(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        added = http.post("/v1/memories", json={**OWNER, "text": "I keep bees."})
        mid = added.json()["results"][0]["id"]
        resp = PATCH_OVER_LIMIT.request(http, mid)
        assert _error_shape_problem(resp, 422) is None, resp.text[:300]
        assert http.get(f"/v1/memories/{mid}", params=OWNER).json()["memory"] == "I keep bees."
