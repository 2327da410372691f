"""Set-up: `Memory()` keeps its own default store, and the Docker image runs unprivileged with
its ONNX cache on the compose volume."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from memsvc.config import LOCAL_DATA_DIR, get_local_settings, get_settings

ROOT = Path(__file__).resolve().parents[2]


def test_memory_default_store_is_not_the_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("MEMSVC_DATA_DIR", "MEMSVC_DATABASE__URL"):
        monkeypatch.delenv(key, raising=False)
    server, local = get_settings(), get_local_settings()
    assert local.data_dir == LOCAL_DATA_DIR != server.data_dir
    assert local.database.url != server.database.url
    assert local.index_path != server.index_path
    monkeypatch.setenv("MEMSVC_DATA_DIR", "/srv/shared")  # asked for explicitly: shared
    assert get_local_settings().data_dir == get_settings().data_dir == Path("/srv/shared")


def test_docker_image_runs_unprivileged_with_the_onnx_cache_on_the_volume() -> None:
    lines = [x.strip() for x in (ROOT / "Dockerfile").read_text().splitlines()]
    users = [x.split()[1] for x in lines if x.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    env = " ".join(x for x in lines if x.startswith("ENV "))
    assert "MEMSVC_EMBED__ONNX_DIR=/var/lib/memsvc/" in env
    assert "pip install -e" not in " ".join(lines)  # the wheel, not the source tree
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["memsvc"]["volumes"]
    assert any(v.endswith(":/var/lib/memsvc") for v in volumes)
    assert compose["services"]["memsvc"]["environment"]["MEMSVC_DATA_DIR"] == "/var/lib/memsvc"
