"""Field types shared by the API schemas.

Every value a request carries is checked here, before any service sees it, against what the
databases can store: no NUL characters (PostgreSQL text and JSONB reject them), no unpaired
surrogates (not encodable as UTF-8), no NaN or infinities (not JSON; SQLite would store null),
no instant that overflows when converted to UTC. Each type states its rule in the JSON schema
too, so the OpenAPI document tells clients exactly what is accepted."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from typing_extensions import TypeAliasType

# A JSON-schema `pattern` is a search, not a full match: these are anchored on purpose.
NO_NUL_PATTERN = r"^[^\x00]*$"
# What `str.strip` removes, spelled out: `\s` differs between regex dialects (Python,
# ECMA-262, Rust), and the schema must agree with the check in every one of them.
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Not blank (a character `str.strip` would keep) and no NUL.
NOT_BLANK_PATTERN = rf"^[^\x00]*[^{_SPACE}\x00][^\x00]*$"
# Printable: no control characters, not blank.
ID_PATTERN = rf"^[^\x00-\x1f\x7f]*[^{_SPACE}\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
_CONTROL = frozenset(map(chr, [*range(0x20), 0x7F]))


def _as_utc(value: datetime) -> datetime:
    # Naive timestamps are taken as UTC, so replays of logs without offsets behave predictably.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00:00+01:00" is before year 1 in UTC
        raise ValueError("timestamp out of range once converted to UTC") from None


def _iso_time(value: Any) -> Any:
    # JSON numbers are not instants here: the schema says an ISO 8601 string.
    if isinstance(value, int | float):
        raise ValueError("a timestamp is an ISO 8601 string, e.g. 2024-05-02T18:30:00Z")
    return value


UTCTime = Annotated[datetime, BeforeValidator(_iso_time), AfterValidator(_as_utc)]


def _json_integer(value: Any) -> Any:
    # JSON Schema's integer: 128 and 128.0, but neither "128" nor true (pydantic takes both).
    if isinstance(value, str | bool):
        raise ValueError("must be an integer")
    return value


Integer = Annotated[int, BeforeValidator(_json_integer)]


def check_text(value: str) -> str:
    """Reject what no database can store: NUL characters and unpaired surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no unpaired surrogates)") from None
    return value


def _not_blank(value: str) -> str:
    check_text(value)
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _printable(value: str) -> str:
    _not_blank(value)
    if any(ch in _CONTROL for ch in value):
        raise ValueError("must not contain control characters")
    return value


# Free text that must say something: message content, memory text, search queries.
Content = Annotated[
    str,
    StringConstraints(min_length=1),
    AfterValidator(_not_blank),
    Field(json_schema_extra={"pattern": NOT_BLANK_PATTERN}),
]
# Short labels (a message's role): printable, not blank.
Label = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32),
    AfterValidator(_printable),
    Field(json_schema_extra={"pattern": ID_PATTERN}),
]
# Scope ids: printable, bounded (they end up in index folder names); outer spaces are dropped.
ScopeId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(_printable),
    Field(json_schema_extra={"pattern": ID_PATTERN}),
]
# Memory ids given by clients (a thought's sources): printable and bounded.
MemoryId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255),
    AfterValidator(_printable),
    Field(json_schema_extra={"pattern": ID_PATTERN}),
]


# Metadata: any JSON document whose strings (keys too) are storable and whose numbers are
# finite. The check runs first and reports one clear error; the recursive alias makes the
# JSON schema state the same rule at every depth.
def _check_json(value: Any, where: str) -> None:
    if isinstance(value, str):
        _check_at(value, where or "value")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(
            f"{where or 'value'}: {value} is not a JSON number (NaN and infinities are not)"
        )
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                _check_at(key, f"key {key!r}" + (f" in {where}" if where else ""))
            _check_json(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")


def _check_at(value: str, where: str) -> None:
    try:
        check_text(value)
    except ValueError as exc:
        raise ValueError(f"{where} {exc}") from None


def check_json(value: Any) -> Any:
    """One clear error for the first value a JSON document may not hold (before the union
    validation below would report one error per member type)."""
    if isinstance(value, dict):
        _check_json(value, "")
    return value


class ClosedKeys:
    """JSON schema: keys not matching `patternProperties` are invalid (a dict with NUL-free
    keys), where pydantic alone would leave them allowed."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["additionalProperties"] = False
        return schema


JsonText = Annotated[
    str, AfterValidator(check_text), Field(json_schema_extra={"pattern": NO_NUL_PATTERN})
]
JsonNumber = Annotated[float, Field(allow_inf_nan=False)]
if TYPE_CHECKING:  # what services see: a plain JSON object (mypy cannot follow the alias)
    MetadataDoc = dict[str, Any]
else:
    JsonValue = TypeAliasType(
        "JsonValue",
        # Union, not `|`: the alias refers to itself by name, which `|` cannot do at run time.
        Union[  # noqa: UP007
            JsonText,
            int,
            JsonNumber,
            bool,
            list["JsonValue"],
            Annotated[dict[JsonText, "JsonValue"], ClosedKeys()],
            None,
        ],
    )
    MetadataDoc = Annotated[dict[JsonText, JsonValue], BeforeValidator(check_json), ClosedKeys()]
Metadata = Annotated[
    MetadataDoc,
    Field(
        default_factory=dict,
        description="Any JSON object. Strings and keys must not contain NUL characters; "
        "numbers must be finite.",
    ),
]


def one_of_required(*fields: str, any_of: bool = True) -> dict[str, Any]:
    """JSON schema for "at least one (`any_of`) / exactly one of these fields is given and not
    null": what model validators check, stated where clients and schema-driven tests see it."""
    branches = [{"required": [f], "properties": {f: {"not": {"type": "null"}}}} for f in fields]
    return {"anyOf" if any_of else "oneOf": branches}


SCOPE_FIELDS = ("user_id", "agent_id", "session_id")
# A request names its scope: at least one of user_id, agent_id, session_id.
SCOPE_RULE = one_of_required(*SCOPE_FIELDS)
SCOPE_DESCRIPTION = (
    "Scope: at least one of `user_id`, `agent_id`, `session_id`. The owner is `user_id`, "
    "else `agent_id`, else `session_id`; the other ids narrow the scope down."
)


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. 'invalid_input'.")
    message: str = Field(description="What went wrong, for humans.")
    details: Any = Field(
        default=None, description="Structured context: offending fields, limits, ids."
    )


class ErrorResponse(BaseModel):
    """Every error the API answers, whatever its status."""

    error: ErrorBody
