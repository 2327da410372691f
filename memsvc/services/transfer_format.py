"""The JSON side of export/import: rows as JSON records and back, reading files (JSON Lines,
or one JSON document), and mem0 items turned into memsvc records. See
:mod:`memsvc.services.transfer` for the format."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import LargeBinary

from memsvc.db.base import Base, UTCDateTime
from memsvc.errors import InvalidInput
from memsvc.schemas.common import check_json

_NOT_EXPORTED = {"pk", "namespace", "partition"}  # the importer's own

Columns = list[tuple[str, str, Any]]


def columns(model: type[Base]) -> Columns:
    """(attribute, JSON name, column type) of every exported column."""
    return [
        (attr.key, "metadata" if attr.key == "meta" else attr.key, attr.columns[0].type)
        for attr in sa.inspect(model).column_attrs
        if attr.key not in _NOT_EXPORTED
    ]


def dump(row: Base, columns: Columns, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind}
    for key, name, _ in columns:
        value = getattr(row, key)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, bytes):
            value = base64.b64encode(value).decode()
        out[name] = value
    return out


def parse_time(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"not a timestamp: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def load(record: dict[str, Any], columns: Columns) -> dict[str, Any]:
    """Constructor arguments from a record; unknown fields are ignored (newer files)."""
    out: dict[str, Any] = {}
    for key, name, type_ in columns:
        if name not in record:
            continue
        value = record[name]
        if value is not None and isinstance(type_, UTCDateTime):
            value = parse_time(value)
        elif value is not None and isinstance(type_, LargeBinary):
            value = base64.b64decode(value)
        out[key] = value
    return out


def parse_lines(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Records from JSON Lines; a line holding a list or mem0's ``{"results": [...]}``
    yields its items. Raises InvalidInput naming the line that is not JSON."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {number} is not JSON: {exc.msg}") from exc
        if (
            isinstance(value, dict)
            and "type" not in value
            and isinstance(value.get("results"), list)
        ):
            value = value["results"]
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                raise InvalidInput(f"line {number}: expected JSON objects")
            try:
                # The API's rule for stored JSON: no NUL or lone surrogates, finite numbers
                # (PostgreSQL refuses them and SQLite would store them as they are).
                check_json(item)
            except ValueError as exc:
                raise InvalidInput(f"line {number}: {exc}") from None
            yield item


_REQUIRED: dict[str, tuple[str, ...]] = {
    "episode": ("id", "role", "content", "event_time"),
    "note": ("id", "content", "event_time"),
    "link": ("source", "target"),
    "history": ("note_id", "event"),
}


def check(item: dict[str, Any]) -> None:
    """Fail with InvalidInput (not a database error) on a record missing what it needs."""
    for name in _REQUIRED[item["type"]]:
        value = item.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"a {item['type']} record needs a non-empty string {name!r}")
    owners = [item.get(k) for k in ("user_id", "agent_id", "session_id")]
    typed = all(o is None or isinstance(o, str) for o in owners)
    if item["type"] in ("episode", "note") and not (any(owners) and typed):
        raise InvalidInput(f"{item['type']} {item['id']!r} needs a string owner id")


def from_mem0(item: dict[str, Any], user_id: str | None) -> list[dict[str, Any]]:
    """A mem0 memory as an episode + note pair (ids derived from mem0's, so re-runs skip)."""
    if not isinstance(item.get("memory"), str) or not item["memory"].strip():
        raise InvalidInput("a record has neither a known 'type' nor a mem0 'memory' text")
    source = str(item.get("id") or item["memory"])
    owner = {
        "user_id": item.get("user_id") or user_id,
        "agent_id": item.get("agent_id"),
        "session_id": item.get("run_id") or item.get("session_id"),
    }
    when = item.get("created_at") or datetime.now(UTC).isoformat()
    episode_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mem0-episode:{source}"))
    try:
        note_id = str(uuid.UUID(source))
    except ValueError:
        note_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mem0-note:{source}"))
    meta = dict(item.get("metadata") or {})
    if item.get("categories"):
        meta["categories"] = item["categories"]
    common = {**owner, "content": item["memory"], "event_time": when, "metadata": meta}
    episode = {"type": "episode", "id": episode_id, "role": "user", **common}
    note = {"type": "note", "id": note_id, "kind": "fact", "role": "user", **common}
    note |= {"episode_ids": [episode_id], "mem0": True}
    return [episode, note]


def read_file(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a file: JSON Lines, or one (pretty-printed) JSON document such as a mem0
    export; the first line tells which."""
    with path.open(encoding="utf-8") as fh:
        first = next((line for line in fh if line.strip()), "")
        try:
            json.loads(first)
        except json.JSONDecodeError:
            fh.seek(0)
            yield from parse_lines([json.dumps(json.load(fh))])
            return
        fh.seek(0)
        yield from parse_lines(fh)
