"""The README's examples run as printed (against a live server on a free port)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from memsvc.api import create_app
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings

README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT_URL = "http://127.0.0.1:8420"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_names_the_two_setup_commands() -> None:
    setup = blocks("bash")[0]
    assert "make serve" in setup and "make test" in setup
    ci = (README.parent / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci  # CI runs exactly the README's test command


def test_curl_and_python_examples(tmp_path: Path, embedder: CachedEmbedder) -> None:
    curl_block = next(b for b in blocks("bash") if "curl" in b)
    python_block = blocks("python")[0]
    with LiveServer(create_app(make_settings(tmp_path / "srv"), embedder=embedder)) as srv:
        script = curl_block.replace(DEFAULT_URL, srv.url)
        out = subprocess.run(
            ["bash", "-ec", script], capture_output=True, text=True, check=True
        ).stdout
        added, found = (json.loads(part) for part in _json_documents(out))
        assert [r["event"] for r in added["results"]] == ["ADD"]  # one round: user + reply
        assert len(added["episode_ids"]) == 2
        assert "Kreuzberg" in found["results"][0]["memory"]

        work = tmp_path / "py"
        work.mkdir()
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        env = {k: v for k, v in env.items() if not k.startswith("MEMSVC_")}
        code = python_block.replace(DEFAULT_URL, srv.url)
        run = subprocess.run(
            [sys.executable, "-c", code], cwd=work, capture_output=True, text=True, env=env
        )
        assert run.returncode == 0, run.stderr
        lines = run.stdout.strip().splitlines()
        assert lines[0] == "I'm allergic to peanuts."
        assert "Kreuzberg" in lines[1]
        assert (work / "memsvc-local" / "memsvc.db").exists()  # Memory()'s own default
        assert not (work / "data").exists()  # not the server's folder


def _json_documents(text: str) -> list[str]:
    decoder = json.JSONDecoder()
    docs, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        _, end = decoder.raw_decode(text, i)
        docs.append(text[i:end])
        i = end
    return docs
