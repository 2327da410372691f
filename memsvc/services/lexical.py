"""Lexical candidates from the database's own full-text index: SQLite FTS5 (BM25) or
PostgreSQL full-text search (ts_rank_cd). Both index `notes.search_text` and are maintained
by the database (triggers / a generated column), so there is no second copy to drift. The
statements are `memsvc.db.queries.fulltext` (matches) and `memsvc.db.queries.notes`
(`said_by`, the speaker filter).

Questions are natural language, so terms are OR-ed (an AND of every word of "what did I say
about my sister's wedding?" matches nothing); stopwords are dropped first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from memsvc.db.queries import fulltext, notes
from memsvc.text.tokenize import lexical_parts

MAX_TERMS = 32


def query_terms(query: str) -> list[str]:
    """Distinct content words of the query, reduced to [0-9a-z] (safe in both query syntaxes)."""
    return list(dict.fromkeys(lexical_parts(query)))[:MAX_TERMS]


def lexical_candidates(
    session: Session, partition: str, query: str, limit: int
) -> list[tuple[int, float]]:
    """(note pk, score) best first; higher is better on both backends."""
    return lexical_matches(session, partition, query_terms(query), limit)


def lexical_matches(
    session: Session, partition: str, terms: Sequence[str], limit: int
) -> list[tuple[int, float]]:
    """`lexical_candidates` for terms already taken from the query (`query_terms`)."""
    return fulltext.matches(session, partition=partition, terms=terms, limit=limit)


def spoken_by(session: Session, partition: str, pks: list[int], names: list[str]) -> set[int]:
    """Of the notes `pks`, those a named person said: their text starts "Name: " (how a named
    speaker's words are stored, `ingest.speaker_names`). One query, the notes looked up by
    primary key (the keys as one parameter, as `notes.rows_by_pk` passes them)."""
    return notes.said_by(session, partition=partition, pks=pks, names=names)
