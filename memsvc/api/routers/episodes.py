"""/v1/episodes: the raw messages memories were made from."""

from __future__ import annotations

from fastapi import APIRouter

from memsvc.api.deps import ReadSessionDep
from memsvc.api.routers.memories import OwnerDep
from memsvc.schemas.episode import EpisodeRead
from memsvc.services import episodes

router = APIRouter(prefix="/v1/episodes", tags=["episodes"])


@router.get("/{episode_id}", response_model=EpisodeRead, summary="Get one episode of a scope")
def get_episode(episode_id: str, session: ReadSessionDep, scope: OwnerDep) -> EpisodeRead:
    return episodes.get(session=session, scope=scope, episode_id=episode_id)
