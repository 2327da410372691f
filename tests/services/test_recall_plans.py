"""No statement a search runs walks a whole table of notes: on SQLite, every statement recall
executes (dense rows by key, full text, the time range a query names, the neighbour stage's
conversations and questions, links, the hits) is explained with EXPLAIN QUERY PLAN and must
neither scan notes, episodes or parts nor read a whole partition of them: either costs time
in proportion to the store (issue 16: search at 100k notes)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from memsvc import Memory
from memsvc.embed import CachedEmbedder
from tests.conftest import make_settings

T0 = datetime(2023, 5, 8, 13, 0, tzinfo=UTC)
TABLES = ("notes", "episodes", "note_parts")
# "SEARCH notes USING INDEX ix (partition=?)" seeks the partition and then reads all of it.
_PARTITION_WALK = re.compile(
    rf"^SEARCH ({'|'.join(TABLES)}) USING (COVERING )?INDEX \w+ \(partition=\?\)$"
)


def _walks(detail: str) -> bool:
    """Whether a plan step reads a whole table or a whole partition: "SCAN notes" walks the
    table ("SCAN notes_fts VIRTUAL TABLE" is the full-text index answering MATCH), a search
    constrained by the partition alone walks the partition."""
    return detail.split()[:2] in [["SCAN", t] for t in TABLES] or bool(
        _PARTITION_WALK.match(detail)
    )


def _fill(mem: Memory, user: str) -> None:
    for day in range(6):
        mem.add(
            [
                {
                    "role": "user",
                    "name": who,
                    "content": f"{who} talked about {topic} on day {day}.",
                    "timestamp": T0 + timedelta(days=7 * day, minutes=i),
                }
                for i, (who, topic) in enumerate(
                    [("Caroline", "hiking"), ("Melanie", "pottery"), ("Caroline", "adoption")]
                )
            ],
            user_id=user,
            session_id=f"{user}-s{day}",
            infer=False,
        )


def test_search_statements_use_indexes(tmp_path: Path, embedder: CachedEmbedder) -> None:
    settings = make_settings(tmp_path, recall={"neighbour_weight": 0.1})
    with Memory(settings, embedder=embedder) as mem:
        for user in ("u", "v", "w"):
            _fill(mem, user)
        engine = mem.runtime.db.engine
        seen: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                seen.append((statement, params))

        event.listen(engine, "before_cursor_execute", record)
        try:
            for query in (
                "What did Caroline say about hiking last month?",  # a time range
                "pottery",
                "What did Melanie talk about two weeks ago?",
            ):
                hits = mem.search(query, user_id="u", top_k=5, explain=True).results
                assert hits and all(h.user_id == "u" for h in hits)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert any("event_time >=" in s for s, _ in seen)  # the time stage ran
        assert any("WITH seeds" in s for s, _ in seen)  # the neighbour stage ran
        assert any("notes.content LIKE" in s for s, _ in seen)  # and which of its seeds ask
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            for statement, params in seen:
                plan = raw.execute(f"EXPLAIN QUERY PLAN {statement}", params or ()).fetchall()
                scans = [row[-1] for row in plan if _walks(str(row[-1]))]
                assert not scans, (statement, scans)
