"""`memsvc decay` sweeps once by default and `memsvc reindex` rebuilds the indexes from the
database; neither loads the embedding model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from memsvc import Memory
from memsvc.embed import CachedEmbedder
from tests.conftest import make_settings

# The CLI in a fresh interpreter, reporting afterwards whether the model code was imported.
SCRIPT = """
import sys
from memsvc.cli import main
rc = main(sys.argv[1:])
print("LOADED", "sentence_transformers" in sys.modules or "torch" in sys.modules)
sys.exit(rc)
"""


def _cli(*args: str, data_dir: Path) -> tuple[str, bool]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMSVC_")}
    env |= {"HF_HUB_OFFLINE": "1", "MEMSVC_DATA_DIR": str(data_dir)}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    *lines, loaded = out.stdout.strip().splitlines()
    return "\n".join(lines), loaded == "LOADED True"


def test_decay_runs_once_without_the_model(tmp_path: Path, embedder: CachedEmbedder) -> None:
    with Memory(make_settings(tmp_path), embedder=embedder) as m:
        old = m.add("I used to play the violin.", user_id="u", timestamp="2024-01-01T00:00:00Z")
        m.add("I started learning the cello.", user_id="u", timestamp="2025-06-01T00:00:00Z")
    out, loaded = _cli("decay", data_dir=tmp_path)
    assert out == "decay sweep: 2 memories checked, 1 forgotten"
    assert not loaded
    with Memory(make_settings(tmp_path), embedder=embedder) as m:
        assert m.get(old.results[0].id or "", user_id="u").status == "forgotten"
        assert [h.event for h in m.history(old.results[0].id or "", user_id="u")][-1] == "FORGET"
    out, _ = _cli("decay", "--once", data_dir=tmp_path)  # the old spelling still works
    assert out == "decay sweep: 1 memories checked, 0 forgotten"


def test_reindex_rebuilds_from_the_database(tmp_path: Path, embedder: CachedEmbedder) -> None:
    settings = make_settings(tmp_path)
    with Memory(settings, embedder=embedder) as m:
        for i, text in enumerate(["I live in Lisbon.", "My cat is called Tom.", "I like jazz."]):
            m.add(text, user_id="u", timestamp=f"2024-0{i + 1}-01T00:00:00Z")
        m.add("Bob likes tea.", user_id="bob")
        expected = m.search("what is my pet's name?", user_id="u", reinforce=False).results
    shutil.rmtree(settings.index_path)
    out, loaded = _cli("reindex", "-q", data_dir=tmp_path)
    assert out == "reindexed 2 partitions, 4 memories" and not loaded
    states = [json.loads(p.read_text()) for p in settings.index_path.rglob("state.json")]
    keys = {s["partition"]: s["count"] for s in states if "\x00" not in s["partition"]}
    assert keys == {"default/u/bob": 1, "default/u/u": 3}
    out, _ = _cli("reindex", "-q", "--user-id", "bob", data_dir=tmp_path)
    assert out == "reindexed 1 partitions, 1 memories"
    with Memory(settings, embedder=embedder) as m:
        got = m.search("what is my pet's name?", user_id="u", reinforce=False).results
    assert [(h.id, round(h.score, 5)) for h in got] == [(h.id, round(h.score, 5)) for h in expected]
