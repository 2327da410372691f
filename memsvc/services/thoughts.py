"""Think-in-Memory post-thinking (Liu et al. 2023): after an answer, store its conclusion as a
`thought` linked to the memories it was drawn from, so the next question can recall the
conclusion instead of re-deriving it.

With an LLM, `prompts/thought.md` distils the exchange into one standalone statement or
decides there is nothing worth keeping ("I don't know"). Without one, or when the call fails,
the answer itself is the thought: it is what the agent concluded, and nothing is lost.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from memsvc.db.models import Note
from memsvc.deps import IngestDeps
from memsvc.errors import InvalidInput
from memsvc.llm import LLMUsage, distill_thought
from memsvc.schemas import AddResult, LLMUsageRead, MemoryEvent, ThoughtCreate
from memsvc.schemas.thought import ReflectRequest
from memsvc.services import ingest
from memsvc.services.scope import Scope


def reflect(*, session: Session, deps: IngestDeps, scope: Scope, req: ReflectRequest) -> AddResult:
    """`deps`: its own read session and the LLM here, and everything `ingest.add_thought`
    uses to store the thought."""
    # Read the sources in a read session: the LLM call below must not hold SQLite's write lock.
    with deps.db.read() as reader:
        rows = reader.execute(
            select(Note.id, Note.content).where(
                Note.id.in_(req.source_ids), Note.partition == scope.partition
            )
        ).all()
    found = {str(i): str(content) for i, content in rows}
    missing = sorted(set(req.source_ids) - set(found))
    if missing:
        raise InvalidInput("source_ids not found in this scope", details={"missing": missing})
    usage = LLMUsage()
    statement, actor = req.answer.strip(), "offline"
    if deps.llm.enabled:
        draft = distill_thought(
            deps.llm,
            question=req.question,
            answer=req.answer,
            memories=[found[i] for i in req.source_ids],
            usage=usage,
        )
        if draft is not None and not draft.keep:
            return AddResult(
                results=[MemoryEvent(id=None, event="NOOP", memory=draft.statement or statement)],
                episode_ids=[],
                llm=LLMUsageRead(**usage.model_dump(exclude={"total_tokens"})),
            )
        if draft is not None and draft.statement.strip():
            statement, actor = draft.statement.strip(), "llm"
    thought = ThoughtCreate(
        user_id=req.user_id,
        agent_id=req.agent_id,
        session_id=req.session_id,
        text=statement,
        source_ids=req.source_ids,
        metadata={**req.metadata, "question": req.question, "distilled_by": actor},
        timestamp=req.timestamp,
        wait=req.wait,
    )
    result = ingest.add_thought(session=session, deps=deps, scope=scope, req=thought)
    result.llm = LLMUsageRead(
        **{
            k: getattr(result.llm, k) + v
            for k, v in usage.model_dump(exclude={"total_tokens"}).items()
        }
    )
    return result
