"""``tokenize.stem`` against the stemmers of the databases' full-text indexes.

SQLite: the stems FTS5's ``porter`` tokenizer writes (read back through an ``fts5vocab`` table
over a table tokenized like the lexical index, see memsvc/migrations). PostgreSQL: the Snowball
``porter`` dictionary its lexical index stems with (``memsvc_porter``, migration 0011).
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache

import pytest
import sqlalchemy as sa

from memsvc.config import DatabaseSettings
from memsvc.db.engine import make_engine
from memsvc.db.migrate import upgrade
from memsvc.db.queries.fulltext import TS_CONFIG
from memsvc.text.tags import _LEXICON
from memsvc.text.tokenize import stem, words
from tests.text._data import ORACLE, longmemeval_turns

# The tokenizer of the notes' FTS5 index (memsvc/migrations/versions/*lexical*).
FTS5_TOKENIZE = "porter unicode61 remove_diacritics 2"

_BASES = """
run hike bike movie study city class box stop paint speed walk talk play watch cook bake
travel fly visit plan book drive ride swim read write sing dance shop buy sell pay save spend
work job meet call text email love like hate enjoy prefer need want try start finish move
live stay leave arrive return change switch sell adopt feed groom train vet dog cat puppy
kitten family child parent sister brother friend partner wedding marry date celebrate party
birthday gift doctor appoint medicate exercise sleep relax stress worry happy sad angry
tired busy quick slow easy hard generous possible responsible incredible technology
biology psychology ideology analogy apology assemble trek picnic panic mimic traffic
agree feed need succeed proceed die lie tie dye fry cry try reply supply deny apply
nation relate condition operate formal sensitive hope use rate allow rely organ fit
control refer occur prefer admit commit plan ship trip chat jog hop drop fix mix tax wax
"""
_SUFFIXES = (
    "",
    "s",
    "es",
    "ed",
    "d",
    "ing",
    "er",
    "ers",
    "ly",
    "ness",
    "ful",
    "ment",
    "ation",
    "ations",
    "ies",
    "ied",
    "ier",
    "iest",
    "ity",
    "ive",
    "ize",
    "izing",
    "able",
    "ably",
    "ism",
    "ist",
    "ists",
    "al",
    "ally",
    "ous",
    "ously",
    "ence",
)


def _vocabulary() -> list[str]:
    """Some hundreds of English words, each with endings (real words or not, Porter stems both),
    plus the topic lexicon."""
    vocab = {b + s for b in _BASES.split() for s in _SUFFIXES}
    vocab |= {w for line in _LEXICON.values() for w in line.split()}
    return sorted(vocab)


def _real_vocabulary() -> list[str]:
    """The lowercase ASCII words of the LongMemEval sample's turns (about 16,000)."""
    vocab: set[str] = set()
    for turn in longmemeval_turns():
        for tok in words(turn["content"]):
            vocab.update(p for p in tok.split("-") if p.isascii() and p.isalpha())
    return sorted(vocab)


def fts5_stems(vocab: list[str]) -> dict[str, str]:
    """What FTS5's porter tokenizer indexes for each word (one one-word row per word)."""
    con = sqlite3.connect(":memory:")
    try:
        con.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{FTS5_TOKENIZE}')")
        con.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        con.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(vocab, 1))
        rows = con.execute("SELECT doc, term FROM v").fetchall()
    finally:
        con.close()
    assert len(rows) == len(vocab)  # one token per word
    return {vocab[doc - 1]: term for doc, term in rows}


# Where Snowball's porter (the published algorithm) and FTS5's porter (Porter's C reference
# implementation) part: step 2's -bli → -ble and -logi → -log (Snowball keeps the stem ending
# in "bli"/"logi"), and step 1b's undoubling of a double consonant Snowball does not list (it
# lists bb dd ff gg mm nn pp rr tt; the stem keeps "kk" of "trekking").
_UNLISTED_DOUBLE = re.compile(r"([bcdfghjkmnpqrtvwx])\1$")


def _departure(py_stem: str) -> bool:
    m = _UNLISTED_DOUBLE.search(py_stem)
    return py_stem.endswith(("bli", "logi")) or (m is not None and m.group(1) not in "bdfgmnprt")


@cache
def _disagreements(vocab: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    fts = fts5_stems(list(vocab))
    return {w: (stem(w), fts[w]) for w in vocab if stem(w) != fts[w]}


def test_stem_agrees_with_fts5_porter() -> None:
    vocab = tuple(_vocabulary())
    assert len(vocab) > 5000
    diff = _disagreements(vocab)
    assert {w: d for w, d in diff.items() if not _departure(d[0])} == {}
    assert len(diff) < len(vocab) / 100  # 20 of 5,320


@pytest.mark.skipif(not ORACLE.exists(), reason="LongMemEval sample not available")
def test_stem_agrees_with_fts5_porter_on_real_chat_words() -> None:
    vocab = tuple(_real_vocabulary())
    assert len(vocab) > 10_000
    diff = _disagreements(vocab)
    assert {w: d for w, d in diff.items() if not _departure(d[0])} == {}
    assert len(diff) <= len(vocab) / 500  # 23 of 15,937


def test_the_departures_from_fts5() -> None:
    """The three rules where FTS5 (Porter's C code) and Snowball's porter part, by example."""
    vocab = ["possibly", "responsibly", "technology", "technologies", "trekking", "running"]
    fts = fts5_stems(vocab)
    assert [(stem(w), fts[w]) for w in vocab] == [
        ("possibli", "possibl"),
        ("responsibli", "respons"),
        ("technologi", "technolog"),
        ("technologi", "technolog"),
        ("trekk", "trek"),
        ("run", "run"),
    ]


def test_stem_keeps_what_fts5_keeps_whole() -> None:
    """Tokens FTS5's porter passes through (under 3 or over 64 bytes) stay whole here too."""
    vocab = ["is", "as", "us", "a" * 61 + "ing", "b" * 62 + "ing", "ran", "bus"]
    fts = fts5_stems(vocab)
    assert [stem(w) for w in vocab] == [fts[w] for w in vocab]


_PG_LEXIZE = "SELECT w, ts_lexize(:d, w) FROM unnest(CAST(:v AS text[])) w"


def _pg_disagreements(conn: sa.Connection, vocab: list[str]) -> dict[str, tuple[str, str]]:
    """Words the lexical index's dictionary stems other than ``stem`` (stop words left out:
    PostgreSQL indexes none of them)."""
    rows = conn.execute(sa.text(_PG_LEXIZE), {"d": TS_CONFIG, "v": vocab}).all()
    return {w: (stem(w), lex[0]) for w, lex in rows if lex and lex != [stem(w)]}


@pytest.mark.postgres
def test_stem_is_postgresql_snowball_porter(pg_schema: str) -> None:
    """The dictionary PostgreSQL's lexical index stems with (``memsvc_porter``, a Snowball
    ``porter`` created by migration 0011) stems exactly like ``tokenize.stem``; on real chat
    words, bar the length rule Python shares with FTS5 (2 letters: "us" stays "us", PostgreSQL
    makes "u"; 8 of the sample's 15,815 words that are no stop words)."""
    engine = make_engine(DatabaseSettings(url=pg_schema))
    try:
        upgrade(engine)
        with engine.connect() as conn:
            assert _pg_disagreements(conn, _vocabulary()) == {}
            real = _pg_disagreements(conn, _real_vocabulary()) if ORACLE.exists() else {}
    finally:
        engine.dispose()
    assert {w: d for w, d in real.items() if len(w) >= 3} == {}
    assert len(real) <= 8
