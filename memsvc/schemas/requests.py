"""Build request models from keyword arguments: one place shared by `Memory`, `MemoryClient`
and `AsyncMemoryClient`, so all three validate identically and raise the same errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from memsvc.errors import InvalidInput, ScopeRequired
from memsvc.schemas.memory import (
    MemoryBatchCreate,
    MemoryCreate,
    MemoryUpdate,
    Message,
    ThoughtCreate,
)
from memsvc.schemas.search import SearchRequest
from memsvc.schemas.thought import ReflectRequest

M = TypeVar("M", bound=BaseModel)
MessagesArg = str | Sequence[Mapping[str, Any] | Message | str] | None


def validation_details(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pydantic/FastAPI error entries in the API's shape (the 'body' prefix dropped)."""
    return [
        {
            "loc": [p for p in err.get("loc", ()) if p != "body"],
            # pydantic prefixes the messages of custom validators: "Value error, ...".
            "msg": str(err.get("msg", "")).removeprefix("Value error, "),
            "type": str(err.get("type", "")),
        }
        for err in errors
    ]


def validation_message(details: list[dict[str, Any]]) -> str:
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def build(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc.errors())
        raise InvalidInput(validation_message(details), details=details) from exc


def require_scope(
    user_id: str | None, agent_id: str | None, session_id: str | None
) -> dict[str, Any]:
    if not (user_id or agent_id or session_id):
        raise ScopeRequired(
            "a scope is required: give at least one of user_id, agent_id, session_id"
        )
    return {"user_id": user_id, "agent_id": agent_id, "session_id": session_id}


def add_request(
    messages: MessagesArg = None,
    *,
    text: str | None = None,
    user_id: str | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    timestamp: datetime | str | None = None,
    kind: str | None = None,
    infer: bool = True,
    wait: bool = True,
) -> MemoryCreate:
    if isinstance(messages, str):  # mem0 style: add("I like tea", user_id=...)
        text, messages = messages, None
    data: dict[str, Any] = {
        **require_scope(user_id, agent_id, session_id),
        "metadata": dict(metadata or {}),
        "timestamp": timestamp,
        "kind": kind,
        "infer": infer,
        "wait": wait,
    }
    if messages is not None:
        data["messages"] = [_message(m) for m in messages]
    if text is not None:
        data["text"] = text
    return build(MemoryCreate, data)


BatchItem = MemoryCreate | Mapping[str, Any]


def batch_request(items: Sequence[BatchItem]) -> MemoryBatchCreate:
    """`items`: each a `MemoryCreate` or a mapping of `add`'s keyword arguments (so
    `{"messages": "I like tea", "user_id": "alice"}` works as `add` does). An error names the
    item: `items.3.messages: ...`."""
    if isinstance(items, str | bytes | Mapping):
        raise InvalidInput("items: a list of adds is required", details=[{"loc": ["items"]}])
    built: list[MemoryCreate] = []
    for i, item in enumerate(items):
        if isinstance(item, MemoryCreate):
            built.append(item)
            continue
        if not isinstance(item, Mapping):
            raise InvalidInput(
                f"items.{i}: an add's arguments (a mapping) or a MemoryCreate is required",
                details=[{"loc": ["items", i]}],
            )
        try:
            built.append(add_request(**item))
        except TypeError as exc:  # an argument `add` does not take
            raise InvalidInput(f"items.{i}: {exc}", details=[{"loc": ["items", i]}]) from exc
        except InvalidInput as exc:
            details = exc.details if isinstance(exc.details, list) else [{"loc": []}]
            for d in details:
                d["loc"] = ["items", i, *d.get("loc", [])]
            raise type(exc)(f"items.{i}.{exc.message}", details=details) from exc
    return build(MemoryBatchCreate, {"items": built})


def _message(m: Mapping[str, Any] | Message | str) -> dict[str, Any]:
    if isinstance(m, Message):
        return m.model_dump()
    if isinstance(m, str):  # a bare string is a user turn
        return {"role": "user", "content": m}
    return dict(m)


def search_request(query: str, **kwargs: Any) -> SearchRequest:
    require_scope(kwargs.get("user_id"), kwargs.get("agent_id"), kwargs.get("session_id"))
    data = {k: v for k, v in kwargs.items() if v is not None}
    return build(SearchRequest, {"query": query, **data})


def update_request(**kwargs: Any) -> MemoryUpdate:
    return build(MemoryUpdate, {k: v for k, v in kwargs.items() if v is not None})


def thought_request(text: str, **kwargs: Any) -> ThoughtCreate:
    require_scope(kwargs.get("user_id"), kwargs.get("agent_id"), kwargs.get("session_id"))
    return build(
        ThoughtCreate, {"text": text, **{k: v for k, v in kwargs.items() if v is not None}}
    )


def reflect_request(question: str, answer: str, **kwargs: Any) -> ReflectRequest:
    require_scope(kwargs.get("user_id"), kwargs.get("agent_id"), kwargs.get("session_id"))
    data = {k: v for k, v in kwargs.items() if v is not None}
    return build(ReflectRequest, {"question": question, "answer": answer, **data})
