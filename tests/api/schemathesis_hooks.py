"""schemathesis hooks for tests/api/test_openapi_conformance.py (loaded by the CLI through
SCHEMATHESIS_HOOKS). They state rules the OpenAPI document cannot carry as a parameter's
schema, and which it documents in words instead:

- routes that take their scope from the query string need at least one of user_id,
  agent_id, session_id (a valid request names one);
- a cursor is opaque: only a `next_cursor` the server handed out is valid;
- a thought's `source_ids` must name memories of the same scope;
- an `Idempotency-Key` names one request: reused with another body it is a 422;
- /v1/import's body is JSON Lines (`application/x-ndjson`, a media type schemathesis has no
  serializer for): a valid body is a JSON line (a mem0 item here), sent as UTF-8 bytes.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import schemathesis

SCOPE = ("user_id", "agent_id", "session_id")
_keys = itertools.count()


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    """A negative case for /v1/import whose body is not a string: JSON Lines has no wire form
    for it (the serializer would send it as a valid JSON line), so it is not sent."""
    meta = case.meta
    if case.operation.path != "/v1/import" or meta is None or meta.generation.mode.is_positive:
        return True
    return case.body is None or isinstance(case.body, str | bytes)


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case  # negative cases must stay invalid
    params = {p.name for p in case.operation.query}
    if set(SCOPE) <= params:
        query = dict(case.query or {})
        if not any(query.get(k) for k in SCOPE):
            query["user_id"] = "schemathesis"
        query.pop("cursor", None)
        case.query = query
    headers = case.headers or {}
    if "Idempotency-Key" in headers:
        case.headers = {**headers, "Idempotency-Key": f"schemathesis-{next(_keys)}"}
    if isinstance(case.body, dict) and "source_ids" in case.body:
        case.body = {**case.body, "source_ids": []}
    if case.operation.path == "/v1/import":
        # The document can only say "a string"; a valid one is JSON Lines: the generated
        # text becomes a mem0 item's memory (within the deployment's content limit).
        text = case.body if isinstance(case.body, str) and case.body.strip() else "imported"
        case.body = json.dumps({"memory": text[:200], "user_id": "schemathesis"}) + "\n"
    return case


@schemathesis.serializer("application/x-ndjson")
def ndjson(context: Any, value: Any) -> bytes:
    """The body's bytes: a string as UTF-8 (a string that is not JSON Lines must get a 4xx,
    never a 5xx), anything else the negative phases make as one JSON line."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return (json.dumps(value) + "\n").encode()
