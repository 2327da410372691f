"""Writers to one SQLite file take turns on the write gate (`memsvc.db.write_gate`).

What must hold: with SQLite's own busy wait switched off (busy_timeout 0), concurrent write
transactions from threads and from other processes never meet SQLite's lock (each waits at
the gate instead) and every row lands; the gate is free again after a commit, a rollback, an
error inside the transaction and a session closed without either; read transactions never
take it; the setting turns it off."""

from __future__ import annotations

import multiprocessing as mp
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from memsvc.config import DatabaseSettings
from memsvc.db.engine import Database
from memsvc.db.write_gate import GatedConnection

THREADS, PROCESSES, WRITES = 4, 2, 25


def _database(path: Path, *, gate: bool = True) -> Database:
    db = Database(DatabaseSettings(url=f"sqlite:///{path}", sqlite_write_gate=gate))

    @event.listens_for(db.engine, "connect")
    def _no_busy_wait(dbapi_conn: Any, _record: Any) -> None:
        # After memsvc's own connect listener: SQLite gives up at once if its lock is taken.
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    with db.write() as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS t (who TEXT, n INTEGER, filler TEXT)"))
    return db


def _write(db: Database, who: str) -> None:
    for n in range(WRITES):
        with db.write() as s:
            # A read then writes inside the transaction, so it holds the lock a while.
            s.execute(text("SELECT count(*) FROM t")).scalar_one()
            for _ in range(5):
                s.execute(
                    text("INSERT INTO t VALUES (:w, :n, :f)"), {"w": who, "n": n, "f": "x" * 500}
                )


def _process(path: str, who: str) -> None:
    db = _database(Path(path))
    try:
        _write(db, who)
    finally:
        db.dispose()


def test_concurrent_writers_never_meet_sqlites_lock(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    db = _database(path)
    errors: list[BaseException] = []

    def thread(who: str) -> None:
        try:
            _write(db, who)
        except BaseException as exc:  # reported below: "database is locked" means a miss
            errors.append(exc)

    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_process, args=(str(path), f"p{i}")) for i in range(PROCESSES)]
    threads = [threading.Thread(target=thread, args=(f"t{i}",)) for i in range(THREADS)]
    for p in procs:
        p.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(timeout=120)
    assert errors == []
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    with db.read() as s:
        rows = s.execute(text("SELECT count(*) FROM t")).scalar_one()
    assert rows == (THREADS + PROCESSES) * WRITES * 5
    db.dispose()


def _gate_free(db: Database) -> bool:
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, GatedConnection) and raw.gate is not None
        gate = raw.gate
    return not gate._threads.locked()


def test_gate_free_after_every_ending(tmp_path: Path) -> None:
    db = _database(tmp_path / "gate.db")
    with db.write() as s:
        s.execute(text("INSERT INTO t VALUES ('a', 1, '')"))
    assert _gate_free(db)
    with pytest.raises(RuntimeError), db.write() as s:
        s.execute(text("INSERT INTO t VALUES ('a', 2, '')"))
        raise RuntimeError("inside the transaction")
    assert _gate_free(db)
    s = db.session()
    s.execute(text("INSERT INTO t VALUES ('a', 3, '')"))
    s.rollback()
    assert _gate_free(db)
    s.execute(text("INSERT INTO t VALUES ('a', 4, '')"))
    s.close()  # neither commit nor rollback
    assert _gate_free(db)
    with db.read() as r:
        r.execute(select(func.count()).select_from(text("t"))).scalar_one()
        assert _gate_free(db), "a read transaction took the gate"
    with db.read() as r:
        assert r.execute(text("SELECT n FROM t")).scalars().all() == [1]
    db.dispose()


def test_setting_turns_it_off(tmp_path: Path) -> None:
    db = _database(tmp_path / "plain.db", gate=False)
    with db.engine.connect() as conn:
        assert not isinstance(conn.connection.dbapi_connection, GatedConnection)
    assert not (tmp_path / "plain.db-write.lock").exists()
    db.dispose()
