"""Full-text matches from the database's own index: SQLite FTS5 ranked by `bm25()`, or
PostgreSQL full-text search ranked by `ts_rank_cd`. Both index `notes.search_text` and are
maintained by the database (triggers / a generated column, migrations 0005 and later).
Both stem with Porter, as `memsvc.text.tokenize.stem` does: on SQLite that function itself,
the terms tagged with their partition (`memsvc.db.fulltext_terms`, migration 0013), and on
PostgreSQL the ``memsvc_porter`` configuration (migration 0011), `TS_CONFIG`.

Written by hand because the ORM has no expression for either: an FTS5 virtual table with its
MATCH syntax and auxiliary `bm25()` function, a tsquery with `@@` and `ts_rank_cd`. Terms
come in already reduced to [0-9a-z] (`services.lexical.query_terms`), which is safe in both
query syntaxes; they are OR-ed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from memsvc.db import fulltext_terms

# The PostgreSQL text search configuration of `notes.search_tsv` (migration 0011): a query
# must stem as the indexed documents were.
TS_CONFIG = "memsvc_porter"

# A partition's notes holding any of the query's terms (its own tokens: revision 0013), best
# first by FTS5's bm25, with their indexed terms: the candidates `_sqlite_matches` ranks. The
# terms are read for the candidates only, after the LIMIT: selected beside bm25 they went
# into the sorter with every match (thousands at 100k notes): 8 % of the stage's median at
# 100k on a quiet machine, a quarter under load (bench/README.md, "2026-12-07 (second)").
_FTS5 = text(
    "SELECT f.rowid, f.terms FROM (SELECT rowid AS r FROM notes_fts WHERE notes_fts MATCH :m "
    "ORDER BY bm25(notes_fts) LIMIT :n) AS best JOIN notes_fts AS f ON f.rowid = best.r"
)
# The same ranked by FTS5 alone, for a store that holds one partition (see `_sqlite_matches`).
_FTS5_RANKED = text(
    "SELECT rowid, bm25(notes_fts) AS s FROM notes_fts WHERE notes_fts MATCH :m "
    "ORDER BY s, rowid LIMIT :n"
)
# Whether any note lies outside a partition: two seeks on an index that starts with the
# partition (microseconds, whatever the table's size).
_OTHERS = text(
    "SELECT EXISTS(SELECT 1 FROM notes WHERE partition < :p) "
    "OR EXISTS(SELECT 1 FROM notes WHERE partition > :p)"
)
_PARTITION_ROWS = text("SELECT count(*) FROM notes WHERE partition = :p")
# FTS5's "averages" record (fts5_index.c, FTS5_AVERAGES_ROWID): the table's row count and
# its column's token count, as SQLite varints.
_AVERAGES = text("SELECT block FROM notes_fts_data WHERE id = 1")
# BM25's parameters, FTS5's own.
_K1, _B = 1.2, 0.75
# Common terms stop proposing full-text candidates in partitions this large (`_proposing`;
# SQLite: PostgreSQL's `ts_rank_cd` stage ranks every match as before).
PRUNE_MIN_NOTES = 20_000
PRUNE_SHARE = 0.01
# Candidates ranked per partition, per hit asked for: FTS5 picks them with its table-wide
# row count in the idf, which orders a partition's notes almost as its own count does.
_CANDIDATES_PER_HIT = 4
_TSQUERY = text(
    "SELECT pk, ts_rank_cd(search_tsv, q, 1) AS s "
    f"FROM notes, to_tsquery('{TS_CONFIG}', :q) AS q "
    "WHERE partition = :p AND search_tsv @@ q ORDER BY s DESC, pk LIMIT :n"
)


def matches(
    session: Session,
    *,
    partition: str,
    terms: Sequence[str],
    limit: int,
    notes: int | None = None,
) -> list[tuple[int, float]]:
    """(note pk, score) of `partition`'s notes that hold any of `terms`, best first; higher
    is better on both backends. Nothing on other backends, for no terms or `limit <= 0`.
    `notes`: the partition's note count where the caller has it at hand (recall: its key
    index's size), else SQLite counts it (a statistic of the ranking, never a filter)."""
    if not terms or limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return _sqlite_matches(session, partition, terms, limit, notes)
    if dialect == "postgresql":
        rows = session.execute(_TSQUERY, {"q": " | ".join(terms), "p": partition, "n": limit}).all()
        return [(int(pk), float(s)) for pk, s in rows]
    return []


@lru_cache(maxsize=64)
def _holding(terms: int) -> TextClause:
    """How many notes hold each of `terms` tokens (`:m0`, `:m1`, ...), in one statement: one
    round trip instead of one a term (0.64 -> 0.45 ms p50 for a question's ~7 terms at 100k
    notes, measured under load)."""
    counts = ", ".join(
        f"(SELECT count(*) FROM notes_fts WHERE notes_fts MATCH :m{i})" for i in range(terms)
    )
    return text(f"SELECT {counts}")


def _idf(rows: int, hits: int) -> float:
    """FTS5's idf (fts5_aux.c): log((N - n + 0.5) / (n + 0.5)), at least 1e-6."""
    idf = math.log((rows - hits + 0.5) / (hits + 0.5)) if rows > 0 else 0.0
    return idf if idf > 0 else 1e-6


def _varints(blob: bytes) -> list[int]:
    """SQLite's varints in order (big-endian, 7 bits a byte; counts never reach the
    nine-byte form, whose last byte holds 8)."""
    out, value, i = [], 0, 0
    while i < len(blob):
        byte = blob[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            out.append(value)
            value = 0
    return out


def _mean_length(session: Session) -> float:
    """The table's mean note length in tokens (bm25's avgdl), from FTS5's own totals."""
    blob = session.execute(_AVERAGES).scalar()
    numbers = _varints(bytes(blob)) if blob else []
    return numbers[1] / numbers[0] if len(numbers) >= 2 and numbers[0] > 0 else 1.0


def _sqlite_matches(
    session: Session, partition: str, terms: Sequence[str], limit: int, notes: int | None
) -> list[tuple[int, float]]:
    """BM25 over one partition's notes (FTS5's k1 1.2 and b 0.75): each term's document
    frequency and the number of notes are the partition's own, so nothing another partition
    holds moves a score, except through the store's size: its mean note length (the length
    normalisation) and, for a match ranked past the candidates below, its row count.

    A partition's terms are tokens of their own (`fulltext_terms`, revision 0013), so the
    match reads this partition's doclists only. In a store of many partitions FTS5 ranks the
    matches with the whole table's row count in its idf, so it only proposes candidates
    (`_CANDIDATES_PER_HIT` a hit asked for, with their indexed terms); they are scored here
    from their terms and the partition's counts. No join to `notes` to re-check the
    partition: the candidate fetch (`notes.rows_by_pk`) filters on it anyway (a collision of
    two partitions' 64-bit tags could only mix their statistics, never their rows).

    In a partition of `PRUNE_MIN_NOTES` notes or more, terms held by more than
    `PRUNE_SHARE` of its notes do not propose candidates (see `_proposing`); they still
    count in the candidates' scores."""
    tokens = fulltext_terms.query_tokens(partition, terms)
    alone = not session.execute(_OTHERS, {"p": partition}).scalar()
    holding: dict[str, int] | None = None
    proposing = tokens
    if notes is not None and notes >= PRUNE_MIN_NOTES and len(tokens) > 1:
        holding = _counts(session, tokens)
        proposing = _proposing(tokens, holding, notes)
    if alone and len(proposing) == len(tokens):
        # The store holds this partition alone (one user's embedded store): FTS5's table-wide
        # counts are the partition's, so its own bm25 is the ranking below, without fetching
        # candidates' terms or counting anything (the 100k-note store of bench/README.md).
        # A note of another partition written meanwhile can only take a slot: the candidate
        # rows are read with the partition condition.
        match = " OR ".join(f'"{t}"' for t in tokens)
        ranked = session.execute(_FTS5_RANKED, {"m": match, "n": limit}).all()
        return [(int(pk), -float(s)) for pk, s in ranked]  # FTS5 bm25(): lower is better
    match = " OR ".join(f'"{t}"' for t in proposing)
    found = session.execute(_FTS5, {"m": match, "n": limit * _CANDIDATES_PER_HIT}).all()
    if not found:
        return []
    if notes is None:  # a count over the partition's index entries: ~6 ms at 100k notes
        notes = int(session.execute(_PARTITION_ROWS, {"p": partition}).scalar_one())
    if holding is None:
        holding = _counts(session, tokens)
    idf = {t: _idf(notes, n) for t, n in holding.items() if n}
    avgdl = _mean_length(session)
    scored = []
    for pk, indexed in found:
        words = str(indexed).split()
        tf: dict[str, int] = {}
        for w in words:
            if w in idf:
                tf[w] = tf.get(w, 0) + 1
        norm = _K1 * (1 - _B + _B * len(words) / avgdl)
        score = sum(idf[t] * f * (_K1 + 1) / (f + norm) for t, f in tf.items())
        scored.append((int(pk), score))
    scored.sort(key=lambda kv: (-kv[1], kv[0]))
    return scored[:limit]


def _counts(session: Session, tokens: Sequence[str]) -> dict[str, int]:
    """How many notes hold each token (one statement, `_holding`)."""
    each = {f"m{i}": f'"{t}"' for i, t in enumerate(tokens)}
    counts = session.execute(_holding(len(tokens)), each)
    return dict(zip(tokens, (int(n) for n in counts.one()), strict=True))


def _proposing(tokens: Sequence[str], holding: dict[str, int], notes: int) -> list[str]:
    """The tokens whose matches are ranked: all but those held by more than `PRUNE_SHARE` of
    the partition's `notes` (the rarest token stays if every one is that common).

    Why: FTS5 computes bm25 for every note that holds any query term before it keeps the
    best, so a question with one common word ("use" in a fifth of a 100k-note scope) ranks
    tens of thousands of notes: 10-15 ms p50 and 33-47 ms p95 a question at 100k, the
    largest stage of a search (bench/README.md, "2026-12-07 (fifth)"). A term that common
    has an idf under log(99) ~ 4.6, a third or less of a rare term's, so a note holding only
    such terms would rank low among those holding a rarer one; the candidates the rarer terms
    propose are scored with every term. Elasticsearch's "common terms" query did the same with
    its cutoff frequency: common terms only score what the others found.

    Measured at 100k notes (100 questions, seven alternating pairs of runs): the stage's p95
    45-72 % lower, its p50 from unchanged to 43 % lower; recall@10 0.76 as before, the top 10
    the same for 66 of 100.
    Partitions under `PRUNE_MIN_NOTES` (both dev suites' scopes) are ranked as before."""
    common = [t for t in tokens if holding.get(t, 0) > PRUNE_SHARE * notes]
    if not common:
        return list(tokens)
    kept = [t for t in tokens if t not in common and holding.get(t, 0) > 0]
    return kept or [min(common, key=lambda t: holding[t])]
