"""Queries (ONNX Runtime) and documents (ONNX Runtime's own session, or PyTorch) embedded at
the same time from many threads, as a server does under concurrent searches and adds: no call
fails and each gets exactly the vector it gets alone. Sharing one fast tokenizer between the
two paths broke this ("Unable to create tensor ...": a query's truncation state leaking into a
batch's padding)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from memsvc.config import EmbedSettings
from memsvc.embed.sentence import SentenceTransformerEmbedder


@pytest.mark.parametrize("documents", ["onnx", "encode"])
def test_queries_and_documents_from_many_threads(tmp_path: Path, documents: str) -> None:
    settings = EmbedSettings(
        onnx_dir=tmp_path,
        query_engine="onnx",
        documents_engine=documents,  # type: ignore[arg-type]
    )
    enc = SentenceTransformerEmbedder(settings)
    assert enc.documents_engine == documents
    try:
        rng = random.Random(5)
        words = [
            "the",
            "nurse",
            "night",
            "shift",
            "Berlin",
            "hospital",
            "garden",
            "tomato",
            "recipe",
            "flight",
            "Lisbon",
        ]
        queries = [f"what did I say about {rng.choice(words)} on day {i}?" for i in range(48)]
        # Mixed lengths in one call: batches are padded, the path that broke.
        docs = [
            [" ".join(rng.choices(words, k=rng.randint(2, 180))) for _ in range(6)]
            for _ in range(12)
        ]
        q_alone = [enc.embed_query(q) for q in queries]
        d_alone = [enc.encode_now(d) for d in docs]
        jobs: list[tuple[str, int]] = [("q", i) for i in range(len(queries))]
        jobs += [("d", i) for i in range(len(docs))] * 2
        rng.shuffle(jobs)

        def run(job: tuple[str, int]) -> tuple[tuple[str, int], np.ndarray]:
            kind, i = job
            if kind == "q":
                return job, enc.embed_query(queries[i])
            return job, enc.embed(docs[i])  # through the micro-batcher's thread

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(run, jobs))
        for (kind, i), vec in results:
            want = q_alone[i] if kind == "q" else d_alone[i]
            assert np.abs(vec - want).max() < 1e-5, (kind, i)
    finally:
        enc.close()
