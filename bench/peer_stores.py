"""The two systems of bench/peers.py as it builds and searches them: memsvc in process
(`memsvc_store`, `ingest_memsvc`) and mem0 open source on its local Qdrant (`mem0_store`,
`ingest_mem0`), both on the same sentence-transformers folder, no LLM."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from bench.corpus import default_model_path

USER = "bench-user"
BATCH = 50


def memsvc_store(
    data_dir: Path,
    model: str | None = None,
    device: str = "cpu",
    threads: int | None = None,
    granularity: str = "round",
) -> Any:
    from memsvc import Memory
    from memsvc.config import Settings

    embed: dict[str, Any] = {"device": device}
    if model:
        embed["model"] = model
    if threads:
        embed["torch_threads"] = threads
    if device != "cpu":  # building: documents only, no ONNX export for queries
        embed.update({"query_engine": "torch", "batch_size": 256})
    ingest = {"granularity": granularity}
    # Nothing is forgotten: the benchmark searches all n messages, as mem0 does. The filler is
    # dated before LongMemEval, so MemoryBank's sweep would soft-forget most of it (it did:
    # 74,456 of 100,000 notes in the first 100k build). Retention still weighs the ranking.
    decay = {"threshold": 0.0}
    return Memory(
        Settings(data_dir=data_dir, llm={"model": "none"}, embed=embed, ingest=ingest, decay=decay)
    )


def note_count(data_dir: Path) -> int:
    """Active notes in a closed memsvc store (the 'notes' of '100k notes')."""
    with closing(sqlite3.connect(data_dir / "memsvc.db")) as db:
        return int(db.execute("SELECT count(*) FROM notes WHERE status = 'active'").fetchone()[0])


def mem0_store(data_dir: Path, model: str | None = None, device: str = "cpu") -> Any:
    os.environ.setdefault("MEM0_TELEMETRY", "False")
    os.environ.setdefault("MEM0_DIR", str(data_dir / "mem0-home"))
    os.environ.setdefault("OPENAI_API_KEY", "unused")  # infer=False: the LLM is never called
    from mem0 import Memory as Mem0

    config = {
        "vector_store": {
            "provider": "qdrant",
            "config": {
                "collection_name": "bench",
                "path": str(data_dir / "qdrant"),
                "embedding_model_dims": 384,
                "on_disk": True,
            },
        },
        "embedder": {
            "provider": "huggingface",
            "config": {
                "model": model or default_model_path(),
                "embedding_dims": 384,
                "model_kwargs": {"device": device},
            },
        },
        "history_db_path": str(data_dir / "mem0-history.db"),
    }
    return Mem0.from_config(config)


def ingest_memsvc(
    mem: Any, msgs: list[dict[str, str]], batch: int = BATCH
) -> tuple[dict[str, int], float]:
    """Episode id -> message index, and the seconds it took."""
    where: dict[str, int] = {}
    t0 = time.perf_counter()
    last = t0
    for s in range(0, len(msgs), batch):
        res = mem.add(messages=msgs[s : s + batch], user_id=USER, wait=True)
        if time.perf_counter() - last > 30:
            last = time.perf_counter()
            rate = (s + batch) / (last - t0)
            print(f"memsvc: {s + batch} messages, {rate:.0f}/s", flush=True)
        where.update({e: s + j for j, e in enumerate(res.episode_ids)})
    return where, time.perf_counter() - t0


def mem0_table(m0: Any, texts: list[str]) -> tuple[dict[str, list[float]], float]:
    """The texts' vectors from mem0's own model, encoded in batches, and the seconds it took."""
    emb = m0.embedding_model
    t0 = time.perf_counter()
    on_gpu = str(emb.model.device) != "cpu"
    vecs = emb.model.encode(texts, batch_size=256 if on_gpu else 64, convert_to_numpy=True)
    table = {t: v.tolist() for t, v in zip(texts, vecs, strict=True)}
    return table, time.perf_counter() - t0


def ingest_mem0(
    m0: Any,
    msgs: list[dict[str, str]],
    batch: int = BATCH,
    *,
    user: str = USER,
    table: dict[str, list[float]] | None = None,
) -> tuple[dict[str, int], float, float]:
    """Memory id -> message index, seconds adding, seconds of the batch pre-encoding (0 when
    `table` is given: vectors already encoded for these texts)."""
    emb = m0.embedding_model
    encode_s = 0.0
    if table is None:
        table, encode_s = mem0_table(m0, [m["content"] for m in msgs])
    real = emb.embed
    emb.embed = lambda text, action=None: table[text] if text in table else real(text, action)
    where: dict[str, int] = {}
    t0 = time.perf_counter()
    try:
        for s in range(0, len(msgs), batch):
            chunk = [{"role": m["role"], "content": m["content"]} for m in msgs[s : s + batch]]
            res = m0.add(chunk, user_id=user, infer=False)
            out = res["results"] if isinstance(res, dict) else res
            if len(out) != len(chunk):
                raise RuntimeError(f"mem0 stored {len(out)} of {len(chunk)} messages")
            where.update({r["id"]: s + j for j, r in enumerate(out)})
    finally:
        emb.embed = real
    return where, time.perf_counter() - t0, encode_s
