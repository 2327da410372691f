"""The public surface is defined once (`memsvc.schemas.calls`): `Memory`, `MemoryClient` and
`AsyncMemoryClient` must expose exactly those calls with identical parameters, and every field
of a request body must be reachable from its SDK method."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import memsvc
import memsvc.client
from memsvc.client import AsyncMemoryClient, MemoryClient
from memsvc.local import Memory
from memsvc.schemas import MemoryCreate, MemoryUpdate, SearchRequest, ThoughtCreate, calls
from memsvc.schemas.thought import ReflectRequest

SURFACES = (Memory, MemoryClient, AsyncMemoryClient)
NAMES = [fn.__name__ for fn in calls.SURFACE]
# Public members that are not calls: lifecycle, and `Memory`'s in-process extras.
NOT_CALLS = {
    Memory: {"close", "sync", "sweep", "search_view", "runtime"},
    MemoryClient: {"close"},
    AsyncMemoryClient: {"aclose"},
}
BODIES: dict[str, type[BaseModel]] = {
    "add": MemoryCreate,
    "search": SearchRequest,
    "update": MemoryUpdate,
    "reflect": ReflectRequest,
    "add_thought": ThoughtCreate,
}


def shape(fn: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    """Name, kind and default of each parameter (annotations are checked by mypy)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("cls", SURFACES, ids=lambda c: c.__name__)
def test_each_surface_has_exactly_the_declared_calls(cls: type) -> None:
    public = {n for n in dir(cls) if not n.startswith("_")}
    assert public - NOT_CALLS[cls] == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_parameters_are_identical_on_the_three_surfaces(name: str) -> None:
    declared = shape(getattr(calls, name))
    assert declared[0][0] != "self"
    for cls in SURFACES:
        method = getattr(cls, name)
        me = ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty)
        assert shape(method) == [me, *declared], cls
        assert method.__doc__ and method.__doc__ == getattr(calls, name).__doc__


def test_bound_methods_keep_the_signature_and_async_ones_are_coroutines() -> None:
    with MemoryClient(transport=httpx.MockTransport(lambda r: httpx.Response(500))) as client:
        assert shape(client.search) == shape(calls.search)
    aclient = AsyncMemoryClient()
    for name in NAMES:
        assert inspect.iscoroutinefunction(getattr(aclient, name)), name
        assert shape(getattr(aclient, name)) == shape(getattr(calls, name))


@pytest.mark.parametrize("name", sorted(BODIES))
def test_every_body_field_is_a_parameter(name: str) -> None:
    params = set(inspect.signature(getattr(calls, name)).parameters)
    fields = set(BODIES[name].model_fields)
    assert fields <= params, f"{name}: {sorted(fields - params)} cannot be set from the SDK"


def test_every_body_field_reaches_the_request() -> None:
    """Not only the names: a non-default value given to the SDK method lands in the body."""
    t = datetime(2024, 5, 1, 12, tzinfo=UTC)
    scope = {"user_id": "u", "agent_id": "a", "session_id": "s"}
    given: dict[str, tuple[Any, dict[str, Any]]] = {
        "add": (
            calls.add(
                [{"role": "user", "content": "hi"}],
                metadata={"k": "v"},
                timestamp=t,
                kind="turn",
                infer=False,
                wait=False,
                **scope,
            ),
            {"metadata": {"k": "v"}, "timestamp": t, "kind": "turn", "infer": False},
        ),
        "search": (
            calls.search(
                "q",
                filters={"k": "v"},
                top_k=3,
                as_of=t,
                known_at=t,
                kinds=["fact"],
                include_forgotten=True,
                thoughts_first=True,
                explain=True,
                reinforce=False,
                include_episodes=True,
                **scope,
            ),
            {"top_k": 3, "as_of": t, "known_at": t, "kinds": ["fact"], "explain": True},
        ),
        "reflect": (
            calls.reflect("q?", "a.", source_ids=["m1"], metadata={"k": "v"}, wait=False, **scope),
            {"source_ids": ["m1"], "wait": False},
        ),
        "add_thought": (
            calls.add_thought("t", source_ids=["m1"], timestamp=t, wait=False, **scope),
            {"source_ids": ["m1"], "timestamp": t, "wait": False},
        ),
        "update": (
            calls.update("m1", "new", metadata={"k": "v"}, status="active", user_id="u"),
            {"text": "new", "metadata": {"k": "v"}, "status": "active"},
        ),
    }
    assert set(given) == set(BODIES)
    for name, (call, expected) in given.items():
        assert isinstance(call.body, BODIES[name]), name
        body = call.body.model_dump()
        assert {k: body[k] for k in expected} == expected, name
        if name != "update":  # update's scope travels in the query string
            assert {k: body[k] for k in scope} == scope, name


def test_calls_validate_before_any_io() -> None:
    with pytest.raises(memsvc.client.ScopeRequired):
        calls.get("m1")
    with pytest.raises(memsvc.client.InvalidInput):
        calls.add(user_id="u")


@pytest.mark.parametrize("module", [memsvc.client, memsvc], ids=lambda m: m.__name__)
def test_all_is_sorted_and_complete(module: Any) -> None:
    names = module.__all__
    assert names == sorted(names)
    for name in names:
        assert getattr(module, name) is not None
