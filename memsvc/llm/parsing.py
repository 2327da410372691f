"""Getting one JSON value out of an LLM answer, and validating it with pydantic.

Models wrap JSON in code fences or chatty prose ("Sure! Here it is: {...} Hope it helps").
:func:`extract_json` accepts, in order: the whole answer as JSON; the body of a fenced code
block; the first ``{`` or ``[`` from which a complete JSON value decodes. Decoding uses
:meth:`json.JSONDecoder.raw_decode`, so braces inside JSON strings never confuse it.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["JSONExtractionError", "extract_json", "parse_json_as"]

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()


class JSONExtractionError(ValueError):
    """The answer holds no JSON object or array."""


def extract_json(text: str) -> Any:
    """The JSON object or array in ``text``; raises :class:`JSONExtractionError` if none."""
    stripped = text.strip()
    if not stripped:
        raise JSONExtractionError("empty answer")
    candidates = [stripped, *(m.group(1).strip() for m in _FENCE.finditer(text))]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict | list):
            return value
    # Prose around the JSON: try every opening bracket until one decodes to a full value.
    for match in re.finditer(r"[{\[]", text):
        try:
            value, _ = _DECODER.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) or (isinstance(value, list) and _looks_like_data(value)):
            return value
    raise JSONExtractionError(f"no JSON object or array in answer: {_preview(text)}")


def parse_json_as(text: str, schema: type[T]) -> T:
    """Extract JSON from ``text`` and validate it as ``schema`` (raises ``ValueError``)."""
    return schema.model_validate(extract_json(text))


def _looks_like_data(value: list[Any]) -> bool:
    # "[else]" or "[1]" in prose decodes as a list too; a real answer array is non-empty
    # and holds objects or arrays, which stray bracketed prose almost never does.
    return bool(value) and all(isinstance(item, dict | list) for item in value)


def _preview(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"
