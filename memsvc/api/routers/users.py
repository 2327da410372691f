"""/v1/users: erase everything stored for a user."""

from __future__ import annotations

from fastapi import APIRouter, Path

from memsvc.api.deps import IndexesDep, NamespaceDep, SessionDep
from memsvc.schemas import DeleteResult
from memsvc.schemas.common import ID_PATTERN
from memsvc.services import memories

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.delete("/{user_id}", response_model=DeleteResult, summary="Erase a user entirely")
def erase_user(
    session: SessionDep,
    indexes: IndexesDep,
    ns: NamespaceDep,
    user_id: str = Path(min_length=1, max_length=255, pattern=ID_PATTERN),
) -> DeleteResult:
    return memories.erase_user(session=session, indexes=indexes, namespace=ns, user_id=user_id)
