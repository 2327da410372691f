"""Field types shared by the API schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints


def _as_utc(value: datetime) -> datetime:
    # Naive timestamps are taken as UTC, so replays of logs without offsets behave predictably.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UTCTime = Annotated[datetime, AfterValidator(_as_utc)]

# Scope ids: printable, no control characters, bounded (they end up in index folder names).
ScopeId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
MetadataValue = str | int | float | bool | None
Metadata = Annotated[dict[str, Any], Field(default_factory=dict)]
