"""Shared fixtures: the real embedding model (loaded once), fresh stores on SQLite and on the
real PostgreSQL, in-process `Memory`s over them, apps over ASGI and over real HTTP (uvicorn on
127.0.0.1)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from memsvc.config import Settings
from memsvc.embed import CachedEmbedder, load_embedder

if TYPE_CHECKING:
    from memsvc import Memory

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest_plugins = ["tests.support.llm_fixtures"]

PG_URL = os.environ.get(
    "MEMSVC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_up() -> bool:
    try:
        engine = sa.create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


_PG_AVAILABLE: bool | None = None


def postgres_available() -> bool:
    global _PG_AVAILABLE
    if _PG_AVAILABLE is None:
        _PG_AVAILABLE = _postgres_up()
    return _PG_AVAILABLE


@pytest.fixture(scope="session")
def embedder() -> Iterator[CachedEmbedder]:
    """The real all-MiniLM-L6-v2, loaded once for the whole run."""
    emb = load_embedder(Settings().embed)
    yield emb
    emb.close()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A private schema in the test database, dropped afterwards; returns a URL that uses it."""
    if not postgres_available():
        if os.environ.get("MEMSVC_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'memsvc.db'}"
    url: str = request.getfixturevalue("pg_schema")
    return url


def make_settings(tmp_path: Path, db_url: str | None = None, **overrides: Any) -> Settings:
    data: dict[str, Any] = {"data_dir": tmp_path, "background": False}
    if db_url:
        data["database"] = {"url": db_url}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Settings(**data)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path, db_url)


@pytest.fixture
def memory_factory(tmp_path: Path, embedder: CachedEmbedder) -> Iterator[Callable[..., Memory]]:
    """Open `Memory`s over one store in `tmp_path`: `memory_factory(db_url=None, **overrides)`
    with the settings of `make_settings` and the shared embedder. Several calls are views of
    the same store with other settings; every one is closed at teardown."""
    from memsvc import Memory  # here: runs that open no Memory never load memsvc.local

    opened: list[Memory] = []

    def open_(db_url: str | None = None, **overrides: Any) -> Memory:
        mem = Memory(make_settings(tmp_path, db_url, **overrides), embedder=embedder)
        opened.append(mem)
        return mem

    yield open_
    for mem in opened:
        mem.close()


@pytest.fixture
def mem(settings: Settings, embedder: CachedEmbedder) -> Iterator[Memory]:
    """A `Memory` over the `settings` store (SQLite and PostgreSQL), closed afterwards."""
    from memsvc import Memory

    with Memory(settings, embedder=embedder) as m:
        yield m


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a thread: real sockets, real HTTP."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
