"""schemathesis hooks for tests/api/test_openapi_conformance.py (loaded by the CLI through
SCHEMATHESIS_HOOKS). They state rules the OpenAPI document cannot carry as a parameter's
schema, and which it documents in words instead:

- routes that take their scope from the query string need at least one of user_id,
  agent_id, session_id (a valid request names one);
- a cursor is opaque: only a `next_cursor` the server handed out is valid;
- a thought's `source_ids` must name memories of the same scope;
- an `Idempotency-Key` names one request: reused with another body it is a 422.
"""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis

SCOPE = ("user_id", "agent_id", "session_id")
_keys = itertools.count()


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
    return case
