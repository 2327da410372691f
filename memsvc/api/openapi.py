"""The OpenAPI document, made to tell the truth about this deployment.

FastAPI documents what the routes declare. Added here, for every operation alike, so routers
stay thin and routes added later are covered too:
- the error responses the app can give (all `{"error": {code, message, details}}`), each
  with the same `ErrorResponse` model: 400 (malformed JSON or URL), 401 (API keys configured,
  none or a wrong one sent), 404 (routes with an id in the path), 413 (body over the limit),
  422 (invalid input), 429 (server saturated; see `Retry-After`), 500, 503 (the embedding
  model failed to load; operations with a body);
- the URL rule `URLCheckMiddleware` enforces: no NUL in any string parameter;
- the rules no parameter can carry: a query-string scope (at least one owner id);
- this deployment's configured limits (`top_k`, content length, message count);
- links from an add to the routes of the memory it wrote (id and owner), for clients and
  stateful tests.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from memsvc.config import Settings
from memsvc.schemas.common import (
    NO_NUL_PATTERN,
    SCOPE_DESCRIPTION,
    SCOPE_FIELDS,
    ErrorResponse,
)

_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_ERRORS: dict[str, str] = {
    "400": "Malformed request: the body is not JSON, or the URL is not valid UTF-8 or "
    "contains NUL.",
    "401": "API keys are configured and the request sent none, or an unknown one.",
    "404": "No such resource in the caller's scope.",
    "413": "The request body is larger than the configured limit.",
    "422": "Invalid input: the body or a parameter breaks a rule of this schema.",
    "429": "The server is saturated: retry after the number of seconds in `Retry-After`.",
    "500": "Internal error (a bug): the request may or may not have been applied.",
    "503": "The embedding model could not be loaded (it loads after startup when searches "
    "can run without it): nothing was stored; retry after `Retry-After` seconds.",
}
_PROBES = {"/healthz", "/readyz", "/metrics"}
_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def install(app: FastAPI, settings: Settings) -> None:
    """Replace `app.openapi` with one that documents what is listed above."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(build(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorResponse"] = error_schema
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method in _METHODS:
                _document_operation(path, op)
    for name in ("HTTPValidationError", "ValidationError"):  # replaced by ErrorResponse
        components.pop(name, None)
    _apply_limits(components, settings)
    _link_created_memories(schema.get("paths", {}))
    return schema


def _link_created_memories(paths: dict[str, Any]) -> None:
    """OpenAPI links from an add to the routes of the memory it wrote: its id comes from the
    response, and the owner, which those routes require, from the request's scope."""
    targets = {
        f"{method.upper()}{path.removeprefix('/v1/memories/{memory_id}')}": op["operationId"]
        for path, item in paths.items()
        if path.startswith("/v1/memories/{memory_id}")
        for method, op in item.items()
        if method in _METHODS and "operationId" in op
    }
    parameters = {
        "memory_id": "$response.body#/results/0/id",
        **{field: f"$request.body#/{field}" for field in SCOPE_FIELDS},
    }
    for path in ("/v1/memories", "/v1/thoughts"):
        ok = paths.get(path, {}).get("post", {}).get("responses", {}).get("200")
        if ok is not None and targets:
            ok["links"] = {
                name: {"operationId": op_id, "parameters": parameters}
                for name, op_id in sorted(targets.items())
            }


def _document_operation(path: str, op: dict[str, Any]) -> None:
    params: list[dict[str, Any]] = op.get("parameters", [])
    for param in params:
        _forbid_nul(param.get("schema", {}))
    statuses = ["400", "500"]
    if path not in _PROBES:
        statuses += ["401", "422", "429"]
        if any(p.get("in") == "path" for p in params):
            statuses.append("404")
        if "requestBody" in op:
            statuses += ["413", "503"]  # a body may be text to embed
    responses = op.setdefault("responses", {})
    for status in sorted(statuses):
        responses[status] = {
            "description": _ERRORS[status],
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
    for retry in ("429", "503"):
        if status := responses.get(retry):
            status["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer"},
                }
            }
    query = {p["name"] for p in params if p.get("in") == "query"}
    if set(SCOPE_FIELDS) <= query:
        op["description"] = "\n\n".join(
            s for s in (op.get("description"), f"{SCOPE_DESCRIPTION} (422 otherwise)") if s
        )


def _forbid_nul(schema: dict[str, Any]) -> None:
    """String parameters without a pattern get the URL rule (no NUL) as theirs."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string" and "pattern" not in branch:
            branch["pattern"] = NO_NUL_PATTERN


def _apply_limits(components: dict[str, Any], settings: Settings) -> None:
    """The configured limits, where the services enforce them (defaults live in config)."""
    api, recall = settings.api, settings.recall
    _set(components, "SearchRequest", "top_k", maximum=recall.max_top_k)
    _set(components, "MemoryCreate", "messages", maxItems=api.max_messages)
    _set(components, "MemoryBatchCreate", "items", maxItems=api.max_batch_items)
    for model, field in (
        ("MemoryCreate", "text"),
        ("Message", "content"),
        ("ThoughtCreate", "text"),
        ("MemoryUpdate", "text"),
    ):
        _set(components, model, field, maxLength=api.max_content_chars)


def _set(components: dict[str, Any], model: str, field: str, **values: Any) -> None:
    prop = components.get(model, {}).get("properties", {}).get(field)
    if prop is not None:
        _set_in(prop, "array" if "maxItems" in values else None, **values)


def _set_in(prop: dict[str, Any], kind: str | None, **values: Any) -> None:
    for branch in prop.get("anyOf", [prop]):
        if branch.get("type", "null") != "null" and (kind is None or branch["type"] == kind):
            branch.update(values)
