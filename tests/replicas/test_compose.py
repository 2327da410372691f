"""The docker-compose `replicas` profile (docker cannot run here: its shape is checked)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_replicas_profile_three_replicas_behind_a_proxy() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    replicas = [f"replica-{i}" for i in (1, 2, 3)]
    volumes: set[str] = set()
    for name in replicas:
        svc = services[name]
        assert svc["profiles"] == ["replicas"]
        assert svc["environment"]["MEMSVC_DATABASE__AUTO_MIGRATE"] == "false"
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        volumes.update(v.split(":")[0] for v in svc["volumes"])
    assert len(volumes) == 3  # each replica its own index folder
    proxy = services["proxy"]
    assert proxy["profiles"] == ["replicas"] and set(proxy["depends_on"]) == set(replicas)
    conf = compose["configs"][proxy["configs"][0]["source"]]["content"]
    assert all(f"server {name}:8420" in conf for name in replicas)
    assert "profiles" not in services["memsvc"]  # the default `up` is unchanged
