"""The readiness probe's database check: the cheapest statement every backend answers, so
`/readyz` measures that the database is reachable and serving, nothing else."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_PING = text("SELECT 1")


def ping(*, session: Session) -> None:
    """Raises when the database does not answer a trivial query on this session."""
    session.execute(_PING)
