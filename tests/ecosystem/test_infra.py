"""Settings, migrations, CLI, docker-compose, and the start-up checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
import yaml

from memsvc.config import Settings, get_settings
from memsvc.db.engine import make_engine
from memsvc.db.migrate import current, downgrade, upgrade
from memsvc.embed import CachedEmbedder
from memsvc.errors import ConfigurationError
from memsvc.runtime import Runtime
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"episodes", "notes", "note_history", "note_links", "partitions", "jobs", "meta"}


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MEMSVC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MEMSVC_INDEX__KIND", "flat")
    monkeypatch.setenv("MEMSVC_LLM__MODEL", "openai/gpt-4o-mini")
    monkeypatch.setenv("MEMSVC_API__MAX_BODY_BYTES", "1234")
    s = get_settings()
    assert s.index.kind == "flat" and s.llm.enabled and s.api.max_body_bytes == 1234
    assert s.database.url == f"sqlite:///{(tmp_path / 'memsvc.db').as_posix()}"
    assert s.index_path == tmp_path / "index"


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("MEMSVC_"):
            monkeypatch.delenv(key)
    s = Settings()
    assert s.database.url.startswith("sqlite:///") and s.database.url.endswith("data/memsvc.db")
    assert not s.llm.enabled and s.index.kind == "auto"


def test_importing_memsvc_reads_nothing_and_loads_no_model() -> None:
    code = "import sys, memsvc, memsvc.config, memsvc.client; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_migrations_up_and_down(db_url: str) -> None:
    engine = make_engine(make_settings(Path("."), db_url).database)
    try:
        upgrade(engine)
        assert current(engine) is not None
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
        downgrade(engine, "base")
        assert current(engine) is None
        assert not TABLES & set(sa.inspect(engine).get_table_names())
        upgrade(engine)  # and up again: the downgrade left nothing behind
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_cli_help_and_migrate(tmp_path: Path) -> None:
    env = {**os.environ, "MEMSVC_DATA_DIR": str(tmp_path)}
    exe = str(Path(sys.executable).parent / "memsvc")  # the installed console script
    helptext = subprocess.run(
        [exe, "--help"], capture_output=True, text=True, check=True, env=env
    ).stdout
    for word in ("serve", "migrate", "decay", "eval", "MEMSVC_"):
        assert word in helptext
    out = subprocess.run(
        [exe, "migrate"], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert "database at revision" in out
    assert (tmp_path / "memsvc.db").exists()


def test_docker_compose_names_what_the_service_needs() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "memsvc", "migrate"} <= set(services)
    app = services["memsvc"]
    assert app["environment"]["MEMSVC_DATABASE__URL"].startswith("postgresql+psycopg://")
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["memsvc", "migrate"]
    assert any(v.endswith(":/var/lib/memsvc") for v in app["volumes"])
    assert "healthcheck" in app and "healthcheck" in services["postgres"]
    assert (ROOT / "Dockerfile").exists()


class _OtherModel:
    """A genuinely different embedder (random projection of the real one to 128-d)."""

    def __init__(self, inner: CachedEmbedder) -> None:
        self.inner = inner
        self.proj = np.random.default_rng(0).standard_normal((inner.dim, 128)).astype(np.float32)

    model_name = "other-model"
    dim = 128

    def embed(self, texts: list[str]) -> np.ndarray:
        v = self.inner.embed(texts) @ self.proj
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def test_embedding_dimension_mismatch_fails_at_start(
    tmp_path: Path, embedder: CachedEmbedder
) -> None:
    settings = make_settings(tmp_path)
    Runtime(settings, embedder=embedder).close()
    with pytest.raises(ConfigurationError, match="384-d embeddings from model 'all-MiniLM-L6-v2'"):
        Runtime(settings, embedder=_OtherModel(embedder))  # type: ignore[arg-type]
