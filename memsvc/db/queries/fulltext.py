"""Full-text matches from the database's own index: SQLite FTS5 ranked by `bm25()`, or
PostgreSQL full-text search ranked by `ts_rank_cd`. Both index `notes.search_text` and are
maintained by the database (triggers / a generated column, migrations 0005 and later).
Both stem with Porter, as `memsvc.text.tokenize.stem` does: FTS5's ``porter`` tokenizer, and
on PostgreSQL the ``memsvc_porter`` configuration (migration 0011), `TS_CONFIG`.

Written by hand because the ORM has no expression for either: an FTS5 virtual table with its
MATCH syntax and auxiliary `bm25()` function, a tsquery with `@@` and `ts_rank_cd`. Terms
come in already reduced to [0-9a-z] (`services.lexical.query_terms`), which is safe in both
query syntaxes; they are OR-ed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

# The PostgreSQL text search configuration of `notes.search_tsv` (migration 0011): a query
# must stem as the indexed documents were.
TS_CONFIG = "memsvc_porter"

_FTS5 = text(
    "SELECT rowid, bm25(notes_fts, 1.0, 0.0) AS s FROM notes_fts "
    "WHERE notes_fts MATCH :m ORDER BY s LIMIT :n"
)
# Whether any note lies outside a partition: two seeks on an index that starts with the
# partition (microseconds, whatever the table's size).
_OTHERS = text(
    "SELECT EXISTS(SELECT 1 FROM notes WHERE partition < :p) "
    "OR EXISTS(SELECT 1 FROM notes WHERE partition > :p)"
)
_TSQUERY = text(
    "SELECT pk, ts_rank_cd(search_tsv, q, 1) AS s "
    f"FROM notes, to_tsquery('{TS_CONFIG}', :q) AS q "
    "WHERE partition = :p AND search_tsv @@ q ORDER BY s DESC, pk LIMIT :n"
)


def partition_token(partition: str) -> str:
    """The FTS5 token a partition is indexed under (see migration 0005)."""
    return "p" + partition.encode().hex().upper() + "0" * 64


def matches(
    session: Session, *, partition: str, terms: Sequence[str], limit: int
) -> list[tuple[int, float]]:
    """(note pk, score) of `partition`'s notes that hold any of `terms`, best first; higher
    is better on both backends. Nothing on other backends, for no terms or `limit <= 0`."""
    if not terms or limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # The partition is an indexed token (migration 0005), so FTS5 intersects doclists
        # and ranks only this partition's matches. No join to `notes` to re-check it: that
        # looked up every match's row (before ORDER BY/LIMIT); the candidate fetch
        # (`notes.rows_by_pk`) filters on the partition anyway.
        words_ = " OR ".join(f'"{t}"' for t in terms)
        match = f"ptoken : {partition_token(partition)} AND ({words_})"
        if not session.execute(_OTHERS, {"p": partition}).scalar():
            # The store holds this partition alone (one user's embedded store): every match
            # is this partition's, and intersecting with the token's doclist, which lists
            # every note, cost half the statement at 100k notes (9.9 -> 5.4 ms p50, the same
            # hits; bench/README.md). bm25's statistics span the table either way. A note of
            # another partition written meanwhile can only take a slot: the candidate rows
            # are read with the partition condition (`notes.rows_by_pk`).
            match = words_
        rows = session.execute(_FTS5, {"m": match, "n": limit}).all()
        return [(int(pk), -float(s)) for pk, s in rows]  # FTS5 bm25(): lower is better
    if dialect == "postgresql":
        rows = session.execute(_TSQUERY, {"q": " | ".join(terms), "p": partition, "n": limit}).all()
        return [(int(pk), float(s)) for pk, s in rows]
    return []
