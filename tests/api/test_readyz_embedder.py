"""Readiness tells the truth about the document model, which loads after startup when a
checked ONNX export serves queries (embed.document_load) and documents go through PyTorch
(`embed.documents_engine="encode"`; on the export itself there is no model to load). Here
its weights are really broken (same size and mtime, so the cached export still matches and
the server starts): the load fails on its thread, /readyz answers 503 naming it, an add is a
503 that stores nothing, and searches keep working."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from memsvc.api import create_app
from memsvc.config import EmbedSettings
from memsvc.db.models import Episode
from memsvc.embed import load_embedder
from memsvc.embed.sentence import SentenceTransformerEmbedder, resolve_model_path
from tests.conftest import LiveServer, make_settings


def _break_weights(model: Path) -> None:
    """Zero the weights file in place, keeping its size and mtime (what the export key reads)."""
    weights = model / "model.safetensors"
    st = weights.stat()
    weights.write_bytes(b"\0" * st.st_size)
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_a_document_model_that_fails_to_load_makes_the_server_unready(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(resolve_model_path("all-MiniLM-L6-v2"), model)
    embed = {"model": str(model), "onnx_dir": str(tmp_path / "onnx"), "documents_engine": "encode"}
    SentenceTransformerEmbedder(EmbedSettings(**embed, document_load="startup")).close()
    _break_weights(model)  # the next start finds a checked export and loads PyTorch later

    settings = make_settings(tmp_path / "data", embed={**embed, "document_load": "background"})
    embedder = load_embedder(settings.embed)
    app = create_app(settings, embedder=embedder)
    try:
        with LiveServer(app) as srv, httpx.Client(base_url=srv.url, timeout=60) as http:
            embedder.preload()  # what the server's start does with background work on
            deadline = time.monotonic() + 60
            ready = http.get("/readyz")
            while ready.status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.1)
                ready = http.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["documents"].startswith("error: ")
            assert ready.json()["database"] == "ok"
            add = http.post("/v1/memories", json={"text": "I like tea.", "user_id": "u"})
            assert add.status_code == 503 and add.json()["error"]["code"] == "embedder_unavailable"
            assert add.headers["retry-after"] == "5"
            spec = http.get("/openapi.json").json()
            assert "503" in spec["paths"]["/v1/memories"]["post"]["responses"]
            search = http.post("/v1/memories/search", json={"query": "tea?", "user_id": "u"})
            assert search.status_code == 200 and search.json()["results"] == []
            with app.state.runtime.db.read() as session:
                assert session.scalar(select(func.count()).select_from(Episode)) == 0
    finally:
        embedder.close()
