"""Reading episodes (the raw messages memories were made from), owner-checked like memories."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from memsvc.db.models import Episode
from memsvc.errors import NotFound
from memsvc.schemas.episode import EpisodeRead
from memsvc.services.scope import Scope


def to_read(ep: Episode) -> EpisodeRead:
    return EpisodeRead(
        id=ep.id,
        role=ep.role,
        name=ep.name,
        content=ep.content,
        event_time=ep.event_time,
        seq=ep.seq,
        user_id=ep.user_id,
        agent_id=ep.agent_id,
        session_id=ep.session_id,
        metadata=ep.meta or {},
        created_at=ep.created_at,
    )


def get(*, session: Session, scope: Scope, episode_id: str) -> EpisodeRead:
    """The episode if it belongs to `scope`; another owner's id is a 404 like an unknown one."""
    stmt = select(Episode).where(Episode.id == episode_id, Episode.partition == scope.partition)
    for column, value in scope.narrows().items():
        stmt = stmt.where(getattr(Episode, column) == value)
    ep = session.scalars(stmt).one_or_none()
    if ep is None:
        raise NotFound(
            f"episode {episode_id!r} not found in this scope", details={"id": episode_id}
        )
    return to_read(ep)


def by_ids(session: Session, partition: str, ids: Iterable[str]) -> dict[str, EpisodeRead]:
    """Episodes of one partition by id, in one statement (search hits inline theirs)."""
    keys = list(dict.fromkeys(ids))
    if not keys:
        return {}
    rows = session.scalars(
        select(Episode).where(Episode.id.in_(keys), Episode.partition == partition)
    )
    return {ep.id: to_read(ep) for ep in rows}
