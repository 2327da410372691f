"""PostgreSQL's full-text index stems with Porter, as `tokenize.stem` and SQLite's FTS5 do
(migration 0011, issue 18 item 5): the ``memsvc_porter`` configuration's lexemes are Python's
stems, a search through memsvc matches by them on the query and the document side, and the
migration goes down to ``english`` and up again. Real PostgreSQL (and SQLite for the no-op)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from memsvc import Memory
from memsvc.config import DatabaseSettings
from memsvc.db.engine import make_engine
from memsvc.db.migrate import current, downgrade, upgrade
from memsvc.db.queries.fulltext import TS_CONFIG
from memsvc.embed import CachedEmbedder
from memsvc.text.tokenize import stem
from tests.conftest import make_settings

# Inflections where Porter (Python, FTS5, memsvc_porter) and Porter2 (`english`) part:
# -ly ("quickli" / "quick"), -us and -ss endings ("menu" / "menus", "new" / "news"), y after a
# consonant and -ying ("ski" / "sky", "ly" / "lie"), the longer suffix lists (-ous, -al, -ic,
# -ate: "gener" / "generous", "commun" / "communiti", "organ"); then the three rules where
# Snowball's porter departs from FTS5's C code (-bli, -logi, undoubling of kk: memsvc_porter
# is Snowball, so it follows Python there), and ordinary inflections both agree on.
_WORDS = """
quickly fairly friendly gently hopefully generously cleanly happily easily
menus news bus status statues
skies skiing dying lying tying dyeing
generous general generally generation communication community communities organization
canning earrings outing
possibly responsibly technology technologies trekking
running hiked studies families cities replied agreed celebrated exercising adopted
"""
WORDS = _WORDS.split()

# "menus" is indexed as "menu" by Porter and as "menus" by english: a query "menu" finds
# the note only when both sides stem with Porter.
NOTE = "We compared the menus of three restaurants near the harbour."
OTHERS = ["I adore hiking in the Alps.", "My sister's wedding is in June."]


@pytest.fixture
def engine(pg_schema: str) -> Iterator[sa.Engine]:
    eng = make_engine(DatabaseSettings(url=pg_schema))
    yield eng
    eng.dispose()


def _lexemes(conn: sa.Connection, config: str, words: list[str]) -> dict[str, list[str]]:
    rows = conn.execute(
        sa.text(
            "SELECT w, tsvector_to_array(to_tsvector(CAST(:c AS regconfig), w)) "
            "FROM unnest(CAST(:v AS text[])) w"
        ),
        {"c": config, "v": words},
    ).all()
    return {w: list(lex) for w, lex in rows}


def _column_expression(conn: sa.Connection) -> str:
    return str(
        conn.execute(
            sa.text(
                "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d "
                "JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
                "WHERE d.adrelid = CAST('notes' AS regclass) AND a.attname = 'search_tsv'"
            )
        ).scalar_one()
    )


def _objects(conn: sa.Connection) -> tuple[int, int, int]:
    """This schema's (dictionaries, configurations) named memsvc_porter and GIN indexes on
    search_tsv (other tests' schemas in the same database hold theirs)."""
    here = "current_schema()::regnamespace"
    dicts = f"SELECT count(*) FROM pg_ts_dict WHERE dictname = :n AND dictnamespace = {here}"
    configs = f"SELECT count(*) FROM pg_ts_config WHERE cfgname = :n AND cfgnamespace = {here}"
    gin = (
        "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = 'notes' AND indexname = 'ix_notes_search_tsv' "
        "AND indexdef LIKE '%gin (search_tsv)%'"
    )
    return (
        conn.execute(sa.text(dicts), {"n": TS_CONFIG}).scalar_one(),
        conn.execute(sa.text(configs), {"n": TS_CONFIG}).scalar_one(),
        conn.execute(sa.text(gin)).scalar_one(),
    )


@pytest.mark.postgres
def test_memsvc_porter_lexemes_are_python_stems(engine: sa.Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        porter = _lexemes(conn, TS_CONFIG, WORDS)
        english = _lexemes(conn, "english", WORDS)
    assert {w: lex for w, lex in porter.items() if lex != [stem(w)]} == {}
    # The list is worth its name: english stems most of these words otherwise.
    assert sum(english[w] != porter[w] for w in WORDS) >= 25
    assert (porter["menus"], english["menus"]) == (["menu"], ["menus"])


@pytest.mark.postgres
def test_memsvc_porter_maps_what_english_stems(engine: sa.Engine) -> None:
    """The configuration is `english` with `english_stem` replaced by the porter dictionary:
    numbers, URLs, e-mails and the like go through `simple` as before."""
    upgrade(engine)
    mapping = (
        "SELECT t.alias, m.mapseqno, d.dictname FROM pg_ts_config_map m "
        "JOIN pg_ts_dict d ON d.oid = m.mapdict "
        "JOIN ts_token_type('default') t ON t.tokid = m.maptokentype "
        "WHERE m.mapcfg = CAST(:c AS regconfig) ORDER BY 1, 2"
    )
    with engine.connect() as conn:
        ours = conn.execute(sa.text(mapping), {"c": TS_CONFIG}).all()
        english = conn.execute(sa.text(mapping), {"c": "english"}).all()
    swap = {"english_stem": TS_CONFIG}
    assert [tuple(r) for r in ours] == [(a, n, swap.get(d, d)) for a, n, d in english]
    assert {a for a, _, d in ours if d == TS_CONFIG} == {
        "asciiword",
        "asciihword",
        "hword_asciipart",
        "word",
        "hword",
        "hword_part",
    }


@pytest.mark.postgres
def test_search_finds_a_note_by_its_porter_stem(
    pg_schema: str, tmp_path: Path, embedder: CachedEmbedder
) -> None:
    settings = make_settings(tmp_path, pg_schema, recall={"lexical_weight": 50.0})
    with Memory(settings, embedder=embedder) as mem:
        # Apart: a note's key holds its neighbours' words ("After: ...") within a session.
        mem.add(NOTE, user_id="u", session_id="s1", infer=False)
        mem.add(OTHERS, user_id="u", session_id="s2", infer=False)
        hits = mem.search("menu", user_id="u", top_k=3, explain=True).results
        assert hits[0].memory == NOTE
        assert (hits[0].explain or {}).get("lexical")
        assert not any((h.explain or {}).get("lexical") for h in hits[1:])
        with mem._rt.db.read() as s:
            conn = s.connection()
            doc = conn.execute(
                sa.text("SELECT tsvector_to_array(search_tsv) FROM notes WHERE content = :c"),
                {"c": NOTE},
            ).scalar_one()
            query = conn.execute(
                sa.text("SELECT querytree(to_tsquery(CAST(:c AS regconfig), 'menu'))"),
                {"c": TS_CONFIG},
            ).scalar_one()
            english_match = conn.execute(
                sa.text(
                    "SELECT to_tsvector('english', search_text) @@ to_tsquery('english', 'menu') "
                    "FROM notes WHERE content = :c"
                ),
                {"c": NOTE},
            ).scalar_one()
    # Document and query side both hold Python's stem; `english` would have missed the note.
    assert stem("menus") == stem("menu") == "menu"
    assert "menu" in doc and "menus" not in doc
    assert query == "'menu'"
    assert english_match is False


@pytest.mark.postgres
def test_upgrade_downgrade_upgrade(engine: sa.Engine) -> None:
    upgrade(engine, "0010")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO notes (id, namespace, partition, kind, content, content_hash, "
                "keywords, tags, context, facts, slots, metadata, episode_ids, event_time, "
                "valid_from, status, enrichment, strength, last_recalled_at, recall_count, "
                "created_at, updated_at, search_text) VALUES ('n1', 'ns', 'ns/u', 'turn', "
                ":t, 'h', '[]', '[]', '', '[]', '[]', '{}', '[]', now(), now(), 'active', "
                "'offline', 1, now(), 0, now(), now(), :t)"
            ),
            {"t": NOTE},
        )

    def indexed() -> list[str]:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT search_tsv FROM notes")).scalar_one().split())

    assert "'menus':4" in indexed()
    upgrade(engine)
    with engine.connect() as conn:
        assert TS_CONFIG in _column_expression(conn)
        assert _objects(conn) == (1, 1, 1)
    assert "'menu':4" in indexed()  # the existing note is recomputed

    downgrade(engine, "0010")
    with engine.connect() as conn:
        assert "'english'" in _column_expression(conn)
        assert _objects(conn) == (0, 0, 1)
        # Left behind by hand (an earlier, interrupted attempt): the upgrade takes it as is.
        conn.execute(
            sa.text(
                f"CREATE TEXT SEARCH DICTIONARY {TS_CONFIG} "
                "(TEMPLATE = snowball, Language = porter, StopWords = english)"
            )
        )
        conn.commit()
    assert "'menus':4" in indexed()

    upgrade(engine, "0011")
    assert current(engine) == "0011"
    with engine.connect() as conn:
        assert TS_CONFIG in _column_expression(conn)
        assert _objects(conn) == (1, 1, 1)
    assert "'menu':4" in indexed()


@pytest.mark.postgres
def test_the_length_rule_is_python_and_fts5s_only(engine: sa.Engine) -> None:
    """Python leaves words under 3 or over 64 characters whole, as FTS5 does; PostgreSQL's
    Snowball porter stems any word up to 1,000 bytes. Of the LongMemEval sample's 15,815
    words that are no stop words, the 8 two-letter words ending in s ("us", "os", "vs") are
    all it changes (none is over 64); query and document go through PostgreSQL alike, so its
    searches are unaffected."""
    upgrade(engine)
    long_word = "walking" * 10
    with engine.connect() as conn:
        lex = _lexemes(conn, TS_CONFIG, ["us", "os", "vs", "ad", long_word])
    assert [stem(w) for w in ("us", "os", "vs", "ad")] == ["us", "os", "vs", "ad"]
    assert [lex[w] for w in ("us", "os", "vs", "ad")] == [["u"], ["o"], ["v"], ["ad"]]
    assert stem(long_word) == long_word and lex[long_word] == [long_word[:-3]]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_is_left_alone(db_url: str) -> None:
    """Revision 0011 does nothing on SQLite: its FTS5 index already stems with porter."""
    eng = make_engine(DatabaseSettings(url=db_url))
    schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
    try:
        upgrade(eng, "0010")
        with eng.connect() as conn:
            before = conn.execute(sa.text(schema)).all()
        upgrade(eng, "0011")
        with eng.connect() as conn:
            assert conn.execute(sa.text(schema)).all() == before
        downgrade(eng, "0010")
        upgrade(eng, "0011")
        assert current(eng) == "0011"
    finally:
        eng.dispose()
