"""Lexical candidates from the database's own full-text index: SQLite FTS5 (BM25) or
PostgreSQL full-text search (ts_rank_cd). Both index `notes.search_text` and are maintained
by the database (triggers / a generated column), so there is no second copy to drift.

Questions are natural language, so terms are OR-ed (an AND of every word of "what did I say
about my sister's wedding?" matches nothing); stopwords are dropped first."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from memsvc.text.tokenize import STOPWORDS, words

MAX_TERMS = 32
_SAFE = re.compile(r"[^0-9a-z]+")


_FTS5 = text(
    "SELECT rowid, bm25(notes_fts, 1.0, 0.0) AS s FROM notes_fts "
    "WHERE notes_fts MATCH :m ORDER BY s LIMIT :n"
)


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


def partition_token(partition: str) -> str:
    """The FTS5 token a partition is indexed under (see migration 0005)."""
    return "p" + partition.encode().hex().upper() + "0" * 64


def lexical_candidates(
    session: Session, partition: str, query: str, limit: int
) -> list[tuple[int, float]]:
    """(note pk, score) best first; higher is better on both backends."""
    return lexical_matches(session, partition, query_terms(query), limit)


def lexical_matches(
    session: Session, partition: str, terms: Sequence[str], limit: int
) -> list[tuple[int, float]]:
    """`lexical_candidates` for terms already taken from the query (`query_terms`)."""
    if not terms or limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # The partition is an indexed token (migration 0005), so FTS5 intersects doclists
        # and ranks only this partition's matches. No join to `notes` to re-check it: that
        # looked up every match's row (before ORDER BY/LIMIT); the candidate fetch
        # (`candidates.by_pk`) filters on the partition anyway.
        words_ = " OR ".join(f'"{t}"' for t in terms)
        match = f"ptoken : {partition_token(partition)} AND ({words_})"
        rows = session.execute(_FTS5, {"m": match, "n": limit}).all()
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


def spoken_by(session: Session, partition: str, pks: list[int], names: list[str]) -> set[int]:
    """Of the notes `pks`, those a named person said: their text starts "Name: " (how a named
    speaker's words are stored, `ingest.speaker_names`). One query, the notes looked up by
    primary key (the keys as one parameter, as `candidates.by_pk` passes them)."""
    if not pks or not names:
        return set()
    said = " OR ".join(f"search_text LIKE :n{i}" for i in range(len(names)))
    params: dict[str, object] = {f"n{i}": f"{n}: %" for i, n in enumerate(names)}
    params["p"] = partition
    if session.get_bind().dialect.name == "sqlite":
        keys, params["pks"] = "SELECT value FROM json_each(:pks)", json.dumps(pks)
        part = "+partition"  # by key, not by scanning the partition (see candidates)
    else:
        keys, params["pks"] = "SELECT unnest(CAST(:pks AS BIGINT[]))", pks
        part = "partition"
    stmt = text(f"SELECT pk FROM notes WHERE pk IN ({keys}) AND {part} = :p AND ({said})")
    return {int(pk) for pk in session.scalars(stmt, params)}
