"""Lexical candidates from the database's own full-text index: SQLite FTS5 (BM25) or
PostgreSQL full-text search (ts_rank_cd). Both index `notes.search_text` and are maintained
by the database (triggers / a generated column), so there is no second copy to drift.

Questions are natural language, so terms are OR-ed (an AND of every word of "what did I say
about my sister's wedding?" matches nothing); stopwords are dropped first."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from memsvc.text.tokenize import STOPWORDS, words

MAX_TERMS = 32
_SAFE = re.compile(r"[^0-9a-z]+")


def query_terms(query: str) -> list[str]:
    """Distinct content words of the query, reduced to [0-9a-z] (safe in both query syntaxes)."""
    out: list[str] = []
    for w in words(query):
        if w in STOPWORDS:
            continue
        for part in _SAFE.split(w.lower()):
            if len(part) > 1 and part not in STOPWORDS and part not in out:
                out.append(part)
    return out[:MAX_TERMS]


def lexical_candidates(
    session: Session, partition: str, query: str, limit: int
) -> list[tuple[int, float]]:
    """(note pk, score) best first; higher is better on both backends."""
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        match = " OR ".join(f'"{t}"' for t in terms)
        rows = session.execute(
            text(
                "SELECT rowid, bm25(notes_fts) AS s FROM notes_fts "
                "WHERE notes_fts MATCH :m AND partition = :p ORDER BY s LIMIT :n"
            ),
            {"m": match, "p": partition, "n": limit},
        ).all()
        return [(int(pk), -float(s)) for pk, s in rows]  # FTS5 bm25(): lower is better
    if dialect == "postgresql":
        rows = session.execute(
            text(
                "SELECT pk, ts_rank_cd(search_tsv, q, 1) AS s "
                "FROM notes, to_tsquery('english', :q) AS q "
                "WHERE partition = :p AND search_tsv @@ q ORDER BY s DESC, pk LIMIT :n"
            ),
            {"q": " | ".join(terms), "p": partition, "n": limit},
        ).all()
        return [(int(pk), float(s)) for pk, s in rows]
    return []
