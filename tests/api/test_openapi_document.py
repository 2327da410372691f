"""What the OpenAPI document states, checked directly (fast; the schemathesis run in
test_openapi_conformance.py checks that the app behaves as stated)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from memsvc.api import create_app
from tests.conftest import make_settings

ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    # No lifespan: the document and routing need neither the model nor the database.
    settings = make_settings(
        tmp_path,
        api={"max_content_chars": 1234, "max_messages": 7, "max_batch_items": 9},
        recall={"max_top_k": 42},
    )
    return create_app(settings)


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_every_operation_documents_its_errors_with_the_error_model(app: FastAPI) -> None:
    doc = app.openapi()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    error = doc["components"]["schemas"]["ErrorResponse"]
    assert error["required"] == ["error"]
    for path, method, op in _operations(doc):
        expected = {"400", "500"}
        if path.startswith("/v1/"):
            expected |= {"401", "422", "429"}
            if "{" in path:
                expected.add("404")
            if "requestBody" in op:
                expected.add("413")
        assert expected <= set(op["responses"]), (method, path, sorted(op["responses"]))
        for status in expected:
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, (method, path, status)
        if "429" in op["responses"]:
            assert "Retry-After" in op["responses"]["429"]["headers"]


def test_the_document_states_scope_rules_limits_and_links(app: FastAPI) -> None:
    doc = app.openapi()
    schemas = doc["components"]["schemas"]
    scope_rule = [{"required": [f]} for f in ("user_id", "agent_id", "session_id")]
    for model in ("SearchRequest", "ThoughtCreate"):
        assert [{"required": b["required"]} for b in schemas[model]["anyOf"]] == scope_rule
    create = schemas["MemoryCreate"]["allOf"]
    assert [{"required": b["required"]} for b in create[0]["anyOf"]] == scope_rule
    assert [b["required"] for b in create[1]["oneOf"]] == [["messages"], ["text"]]
    # Configured limits, not the defaults.
    assert schemas["SearchRequest"]["properties"]["top_k"]["maximum"] == 42
    messages = schemas["MemoryCreate"]["properties"]["messages"]["anyOf"][0]
    assert messages["maxItems"] == 7 and messages["minItems"] == 1
    batch = schemas["MemoryBatchCreate"]["properties"]["items"]
    assert batch["maxItems"] == 9 and batch["minItems"] == 1
    assert schemas["Message"]["properties"]["content"]["maxLength"] == 1234
    # Query-string scopes are stated in words (no parameter schema can say "one of").
    listing = doc["paths"]["/v1/memories"]["get"]
    assert "at least one of `user_id`, `agent_id`, `session_id`" in listing["description"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"]["anyOf"][0]["maximum"] == 500
    # An add links to the routes of the memory it wrote, owner included.
    links = doc["paths"]["/v1/memories"]["post"]["responses"]["200"]["links"]
    get = links["GET"]["parameters"]
    assert get["memory_id"] == "$response.body#/results/0/id"
    assert get["user_id"] == "$request.body#/user_id"


def test_405_lists_every_method_of_the_path(app: FastAPI) -> None:
    client = TestClient(app)
    for path, allowed in [
        ("/v1/memories", "DELETE, GET, POST"),
        ("/v1/memories/abc", "DELETE, GET, PATCH"),
        ("/v1/memories/search", "POST"),
        ("/healthz", "GET"),
    ]:
        resp = client.request("TRACE", path)
        assert resp.status_code == 405, path
        assert resp.headers["allow"] == allowed, path
        assert resp.json()["error"]["code"] == "method_not_allowed"
