"""Recall's query: everything a search's stages read, built once per search.

The text is parsed here and only here (time range, "latest" intent, named people, full-text
terms), and the request's filters and the settings the stages read travel with it, so each
stage of `memsvc.services.recall` takes one `Query` instead of seven loose values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from memsvc.config import Settings
from memsvc.db.queries import conversations
from memsvc.db.queries.notes import NoteRow
from memsvc.embed import Embedder
from memsvc.schemas import SearchRequest
from memsvc.services.lexical import query_terms
from memsvc.services.scope import Scope
from memsvc.stores import clock
from memsvc.text.names import named_people, without_names
from memsvc.text.timeexpr import TimeRange, parse_time_range, wants_latest


@dataclass(frozen=True)
class Query:
    text: str
    # What the dense stages embedded: the text without the names of people who speak in the
    # partition (`recall.speaker_free_query`), else the text itself.
    dense_text: str
    vector: np.ndarray
    scope: Scope
    # One time base (memsvc.stores.clock): without the request's `as_of`, the partition's
    # own clock.
    as_of: datetime
    top_k: int
    filters: Mapping[str, Any]
    known_at: datetime | None
    kinds: tuple[str, ...]
    include_forgotten: bool
    thoughts_first: bool
    explain: bool
    reinforce: bool
    include_episodes: bool
    span: TimeRange | None  # the time range the text names, when time awareness is on
    latest: bool  # a "current value" question, when time awareness is on
    names: tuple[str, ...]  # people the text names, when the speaker boost is on
    terms: tuple[str, ...]  # full-text terms, when lexical candidates are on
    settings: Settings

    # `passes` runs for every candidate row (hundreds a search): what it reads of the scope
    # is worked out once per query, not once per row.
    @cached_property
    def partition(self) -> str:
        return self.scope.partition

    @cached_property
    def _narrows(self) -> tuple[tuple[str, str], ...]:
        return tuple(self.scope.narrows().items())

    def passes(self, note: NoteRow) -> bool:
        """True when `note` is visible to this query (everything but the similarity)."""
        if note.partition != self.partition:
            return False  # belt and braces: `by_pk` already filters on the partition
        if not self.include_forgotten and note.status != "active":
            return False
        as_of = self.as_of
        if note.valid_from > as_of or (note.valid_to is not None and note.valid_to <= as_of):
            return False
        if self.known_at is not None and note.created_at > self.known_at:
            return False
        for column, value in self._narrows:
            if getattr(note, column) != value:
                return False
        if self.kinds and note.kind not in self.kinds:
            return False
        if not self.filters:
            return True
        meta = note.meta or {}
        return all(meta.get(key) == value for key, value in self.filters.items())


def lexical_terms(settings: Settings, text: str) -> tuple[str, ...]:
    """The full-text terms of a query (none with the lexical stage off)."""
    return tuple(query_terms(text)) if settings.recall.lexical else ()


def build(
    *,
    session: Session,
    settings: Settings,
    embedder: Embedder,
    scope: Scope,
    req: SearchRequest,
    terms: tuple[str, ...] | None = None,
) -> Query:
    """The query of `req`: its time base, its embedding and its parsed text; `terms`: its
    `lexical_terms` when the caller already took them (recall starts the full-text stage
    with them before the query is embedded)."""
    cfg = settings.recall
    as_of = req.as_of or clock.now(session, scope.partition)
    text = req.query
    people = named_people(text) if cfg.speaker_boost > 0 or cfg.speaker_free_query else []
    dense_text = (
        speaker_free(session, scope.partition, text, people) if cfg.speaker_free_query else text
    )
    return Query(
        text=text,
        dense_text=dense_text,
        vector=embedder.embed_query(dense_text),
        scope=scope,
        as_of=as_of,
        top_k=req.top_k,
        filters=dict(req.filters),
        known_at=req.known_at,
        kinds=tuple(req.kinds or ()),
        include_forgotten=req.include_forgotten,
        thoughts_first=req.thoughts_first,
        explain=req.explain,
        reinforce=req.reinforce,
        include_episodes=req.include_episodes,
        span=parse_time_range(text, as_of) if cfg.time_aware else None,
        latest=cfg.time_aware and wants_latest(text),
        names=tuple(people) if cfg.speaker_boost > 0 else (),
        terms=lexical_terms(settings, text) if terms is None else terms,
        settings=settings,
    )


def speaker_free(session: Session, partition: str, text: str, names: Sequence[str]) -> str:
    """`text` without those of `names` (the people it names) who speak in the partition. A
    speaker's short turns ("Melanie: I love it!") sit close to any question that names her,
    so with the name in the query vector they crowd out what she said about the thing asked;
    who said it is left to the speaker boost and the full-text terms, which keep the name."""
    said = conversations.speakers(session, partition=partition, names=names)
    return without_names(text, [n for n in names if n in said]) if said else text
