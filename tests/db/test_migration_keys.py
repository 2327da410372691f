"""Migration 0007 on a populated SQLite store: notes never reuse a pk afterwards, and the
rebuild keeps links, slots, the full-text index and its triggers (0008 fills each scope's
clock from the data)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from memsvc.config import DatabaseSettings
from memsvc.db import fulltext_terms
from memsvc.db.engine import make_engine
from memsvc.db.migrate import upgrade

COLUMNS = (
    "id, namespace, partition, kind, content, content_hash, keywords, tags, context, facts, "
    "search_text, slots, metadata, episode_ids, event_time, valid_from, status, enrichment, "
    "strength, last_recalled_at, recall_count, created_at, updated_at"
)
VALUES = (
    ":id, 'ns', 'ns/u/a', 'turn', 'c', 'h', '[]', '[]', '', '[]', :text, '[]', '{}', '[]', "
    "'2024-01-01 00:00:00', '2024-01-01 00:00:00', 'active', 'offline', 1, "
    "'2024-01-0%s 00:00:00', 0, '2024-01-01 00:00:00', '2024-01-01 00:00:00'"
)


def _add(conn: sa.Connection, note_id: str, text: str, day: int = 1) -> None:
    conn.execute(
        sa.text(f"INSERT INTO notes ({COLUMNS}) VALUES ({VALUES % day})"),
        {"id": note_id, "text": text},
    )


def _fts(conn: sa.Connection, word: str) -> list[int]:
    (token,) = fulltext_terms.query_tokens("ns/u/a", [word])  # as revision 0013 indexes it
    rows = conn.execute(
        sa.text("SELECT rowid FROM notes_fts WHERE notes_fts MATCH :w"), {"w": f'"{token}"'}
    )
    return sorted(int(r[0]) for r in rows)


def test_upgrade_keeps_data_and_stops_pk_reuse(tmp_path: Path) -> None:
    engine = make_engine(DatabaseSettings(url=f"sqlite:///{tmp_path / 'm.db'}"))
    upgrade(engine, "0006")
    with engine.begin() as conn:
        for i in (1, 2, 3):
            _add(conn, f"n{i}", f"zanzibar word{i}", day=i)
        conn.execute(
            sa.text(
                "INSERT INTO note_links (partition, source_pk, target_pk, kind, reason, weight, "
                "created_at) VALUES ('ns/u/a', 1, 2, 'related', '', 1, '2024-01-01 00:00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO note_slots (partition, name, value, note_pk) "
                "VALUES ('ns/u/a', 'residence', 'berlin', 2)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO partitions (key, namespace, version, updated_at) VALUES "
                "('ns/u/a', 'ns', 3, '2024-01-01 00:00:00')"
            )
        )
        indexes_before = conn.execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='notes'")
        ).all()
    upgrade(engine)
    with engine.begin() as conn:
        assert (
            "AUTOINCREMENT"
            in conn.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE name='notes'")
            ).scalar_one()
        )
        assert conn.execute(sa.text("SELECT count(*) FROM note_links")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM note_slots")).scalar_one() == 1
        indexes_after = conn.execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='notes'")
        ).all()
        later = {"ix_notes_partition_session", "ix_notes_partition_event_time"}  # by 0010
        assert {name for name, _ in indexes_after} - {n for n, _ in indexes_before} == later
        assert sorted(i for i in indexes_after if i[0] not in later) == sorted(indexes_before)
        assert _fts(conn, "zanzibar") == [1, 2, 3]
        clock = conn.execute(sa.text("SELECT clock FROM partitions")).scalar_one()
        assert str(clock).startswith("2024-01-03")  # the latest recall time in the data
        conn.execute(sa.text("DELETE FROM notes WHERE pk = 3"))  # the newest note
        _add(conn, "n9", "zanzibar again")
        new_pk = conn.execute(sa.text("SELECT pk FROM notes WHERE id = 'n9'")).scalar_one()
        assert new_pk == 4  # before 0007, SQLite handed out 3 again
        assert _fts(conn, "zanzibar") == [1, 2, 4]  # triggers follow the new table
        conn.execute(sa.text("DELETE FROM notes WHERE pk = 1"))
        assert conn.execute(sa.text("SELECT count(*) FROM note_links")).scalar_one() == 0
    engine.dispose()
