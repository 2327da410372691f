"""An episode: one ingested message, verbatim, as it was received."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from memsvc.schemas.common import UTCTime


class EpisodeRead(BaseModel):
    id: str
    role: str
    name: str | None = Field(
        default=None, description="The speaker's name, if the message had one."
    )
    content: str = Field(description="The message exactly as it was sent.")
    event_time: UTCTime
    seq: int = Field(description="Position of the message in the add call that sent it.")
    user_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: UTCTime
