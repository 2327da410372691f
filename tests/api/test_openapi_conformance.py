"""The OpenAPI document tells the truth: schemathesis runs every check against the app over
real HTTP and finds nothing.

Every check is on (`--checks all`): no 5xx, every status and header documented, responses
matching their schemas, schema-valid requests accepted and schema-invalid ones rejected,
deleted resources gone, created ones reachable through the document's links, `Allow` on 405.
The run is bounded and repeatable: `--generation-deterministic` (no random seed) and a fixed
`--max-examples`. The rules no parameter schema can carry are stated in
`tests/api/schemathesis_hooks.py`, and in the document's words.

The deployment under test has small content limits, which the document states (see
`memsvc.api.openapi`): boundary cases are then 300 characters and 5 messages, not 100,000
characters and 1,000 messages, and the run stays short.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from memsvc.api import create_app
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings

ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).parent / "st"


@pytest.fixture
def server(db_url: str, tmp_path: Path, embedder: CachedEmbedder) -> Iterator[LiveServer]:
    settings = make_settings(
        tmp_path, db_url, api={"max_content_chars": 300, "max_messages": 5, "page_size": 5}
    )
    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        yield srv


def run_schemathesis(url: str, tmp_path: Path, *options: str) -> None:
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [
        str(ST),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--generation-deterministic",
        "--no-color",
        "--max-failures",
        "50",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "st-report"),
        *options,
    ]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-5_000:]
    generated = re.search(r"(\d+) generated", done.stdout)
    assert generated and int(generated.group(1)) > 100, done.stdout[-5_000:]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_openapi_conformance_lean(server: LiveServer, tmp_path: Path) -> None:
    """The default suite: the coverage phase, i.e. deterministic boundary and negative
    cases for every operation and parameter (most of what a longer run finds)."""
    run_schemathesis(server.url, tmp_path, "--phases", "coverage", "--max-examples", "5")


@pytest.mark.slow
def test_openapi_conformance_full(server: LiveServer, tmp_path: Path) -> None:
    """Every phase (examples, coverage, fuzzing, stateful sequences over the document's
    links), more examples, on SQLite and PostgreSQL."""
    run_schemathesis(server.url, tmp_path, "--max-examples", "40")
