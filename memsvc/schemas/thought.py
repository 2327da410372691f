"""Think-in-Memory post-thinking: after answering, the agent keeps what it concluded."""

from __future__ import annotations

from pydantic import Field, StrictBool

from memsvc.schemas.common import Content, MemoryId, Metadata, UTCTime
from memsvc.schemas.memory import _Scoped


class ReflectRequest(_Scoped):
    """A question, the answer the agent gave and the memories it recalled for it. With an
    LLM, the conclusion is distilled into one standalone statement (or nothing, when the
    answer adds nothing); with no LLM, the answer itself is kept. The thought is stored
    linked to `source_ids`."""

    question: Content = Field(max_length=8000)
    answer: Content
    source_ids: list[MemoryId] = Field(default_factory=list, max_length=100)
    metadata: Metadata
    timestamp: UTCTime | None = None
    wait: StrictBool = True
