"""bench/spann_garbage.py on a small store that ingest left with garbage: it finds the SPANN
index, compacts a copy (the store's own folder untouched) and reports the same answers."""

from __future__ import annotations

import json
from pathlib import Path

from bench import spann_garbage
from memsvc.embed import CachedEmbedder
from tests.index.test_spann_garbage import TEXTS, _spann_memory, _spann_of


def test_reports_garbage_and_compacts_a_copy(tmp_path: Path, embedder: CachedEmbedder) -> None:
    store = tmp_path / "store"
    with _spann_memory(store, embedder, compact_garbage=1.0) as mem:
        mem.add(TEXTS[:80], user_id="u", infer=False)
        _spann_of(mem, "u")
        for s in range(80, 180, 5):
            mem.add(TEXTS[s : s + 5], user_id="u", infer=False)
        mem.sync()
        gen = _spann_of(mem, "u").stats()["generation"]
    out = tmp_path / "out.json"
    spann_garbage.main(
        [
            "--store",
            str(store),
            "--work",
            str(tmp_path / "copy"),
            "--queries",
            "60",
            "--rounds",
            "1",
            "--inserts",
            "100",
            "--out",
            str(out),
        ]
    )
    got = json.loads(out.read_text())
    assert got["before"]["garbage"] > 0.3 and got["after"]["garbage"] == 0.0
    assert got["after"]["generation"] == got["before"]["generation"] + 1
    assert got["before"]["count"] == got["after"]["count"] == 180
    assert got["same_top10"] == got["queries"] == 60
    ins = got["inserts"]
    assert ins["n"] == 100 and ins["as_built"]["ms_per_vector_p50"] > 0
    assert ins["compacted"]["garbage_after"] <= ins["as_built"]["garbage_after"]
    manifest = next((store / "index").glob("*/spann-*/manifest.json"))
    assert json.loads(manifest.read_text())["gen"] == gen  # the store's index as it was
