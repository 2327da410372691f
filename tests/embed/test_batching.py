"""Micro-batching of document embeddings (memsvc.embed.batching) on the real model: concurrent
callers share passes and each gets exactly its own rows, in order; errors reach every caller
they concern and no other; queries never wait behind a document batch."""

from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from memsvc.embed import CachedEmbedder
from memsvc.embed.base import Vectors
from memsvc.embed.batching import MicroBatcher
from memsvc.embed.sentence import SentenceTransformerEmbedder

WORDS = ["cat", "wedding", "Berlin", "nurse", "coast", "hotel", "sister", "June"]
WORDS += ["speech", "garden", "piano", "train"]


def texts_for(i: int) -> list[str]:
    """1-4 texts of different lengths, distinct per caller."""
    return [
        f"Caller {i} text {j}: " + " ".join(WORDS[(i + k) % len(WORDS)] for k in range(3 + 5 * j))
        for j in range(1 + i % 3)
    ]


@pytest.fixture(scope="module")
def model(embedder: CachedEmbedder) -> SentenceTransformerEmbedder:
    inner = embedder.inner
    assert isinstance(inner, SentenceTransformerEmbedder)
    return inner


class GatedEncode:
    """The real encode, but the first pass waits until `expect` more requests are queued, so
    the test knows for sure that they will share the next pass; records each pass's size."""

    def __init__(self, model: SentenceTransformerEmbedder, expect: int, fail_on: str = "") -> None:
        self.model = model
        self.expect = expect
        self.fail_on = fail_on
        self.batcher: MicroBatcher | None = None
        self.sizes: list[int] = []

    def __call__(self, texts: list[str]) -> Vectors:
        if not self.sizes and self.batcher is not None:
            deadline = time.monotonic() + 30
            while self.batcher._queue.qsize() < self.expect and time.monotonic() < deadline:
                time.sleep(0.005)
        self.sizes.append(len(texts))
        if self.fail_on and any(self.fail_on in t for t in texts):
            raise ValueError(f"cannot embed text containing {self.fail_on!r}")
        return self.model.encode_now(texts)


def run_concurrently(batcher: MicroBatcher, calls: list[list[str]]) -> list[Vectors | Exception]:
    def one(texts: list[str]) -> Vectors | Exception:
        try:
            return batcher.embed(texts)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        # The first call starts alone (the gate holds it); the rest queue behind it.
        first = pool.submit(one, calls[0])
        while batcher.requests == 0 and not first.done():
            time.sleep(0.001)
        rest = [pool.submit(one, texts) for texts in calls[1:]]
        return [first.result(), *(f.result() for f in rest)]


def test_concurrent_callers_share_passes_and_get_their_own_rows(
    model: SentenceTransformerEmbedder,
) -> None:
    calls = [texts_for(i) for i in range(8)]
    gate = GatedEncode(model, expect=len(calls) - 1)
    batcher = MicroBatcher(gate, dim=model.dim, max_wait_s=0.002, max_batch=1000)
    gate.batcher = batcher
    try:
        results = run_concurrently(batcher, calls)
    finally:
        batcher.close()
    # Two passes served eight callers: the first alone, the other seven together.
    assert gate.sizes == [len(calls[0]), sum(len(c) for c in calls[1:])]
    assert batcher.batches == 2 and batcher.requests == len(calls)
    for texts, got in zip(calls, results, strict=True):
        assert isinstance(got, np.ndarray)
        alone = model.encode_now(texts)
        assert got.shape == alone.shape == (len(texts), model.dim) and got.dtype == np.float32
        # Same texts, other batch-mates: equal up to float noise from padding.
        assert np.allclose(got, alone, atol=1e-5)
    # Order kept: each caller's row j is its text j, not a neighbour's.
    sims = results[5] @ model.encode_now(calls[5]).T  # type: ignore[operator]
    assert (np.argmax(sims, axis=1) == np.arange(len(calls[5]))).all()


def test_max_batch_splits_the_queue(model: SentenceTransformerEmbedder) -> None:
    calls = [[f"short text number {i}"] for i in range(9)]
    gate = GatedEncode(model, expect=8)
    batcher = MicroBatcher(gate, dim=model.dim, max_wait_s=0.0, max_batch=3)
    gate.batcher = batcher
    try:
        results = run_concurrently(batcher, calls)
    finally:
        batcher.close()
    assert gate.sizes == [1, 3, 3, 2]
    for texts, got in zip(calls, results, strict=True):
        assert np.allclose(got, model.encode_now(texts), atol=1e-5)  # type: ignore[arg-type]


def test_an_error_reaches_its_callers_only(model: SentenceTransformerEmbedder) -> None:
    calls = [texts_for(i) for i in range(8)]
    calls[3] = [*calls[3], "this one says BOOM"]
    calls[6] = ["BOOM again"]
    gate = GatedEncode(model, expect=len(calls) - 1, fail_on="BOOM")
    batcher = MicroBatcher(gate, dim=model.dim, max_batch=1000)
    gate.batcher = batcher
    try:
        results = run_concurrently(batcher, calls)
    finally:
        batcher.close()
    for i, (texts, got) in enumerate(zip(calls, results, strict=True)):
        if i in (3, 6):
            assert isinstance(got, ValueError) and "BOOM" in str(got)
        else:
            assert isinstance(got, np.ndarray)
            assert np.allclose(got, model.encode_now(texts), atol=1e-5)


def test_empty_close_and_after_close(model: SentenceTransformerEmbedder) -> None:
    batcher = MicroBatcher(model.encode_now, dim=model.dim)
    assert batcher.embed([]).shape == (0, model.dim)
    one = batcher.embed(["hello there"])
    batcher.close()
    batcher.close()  # idempotent
    again = batcher.embed(["hello there"])  # inline on this thread now
    assert np.allclose(one, again, atol=1e-6)
    with pytest.raises(ValueError):
        MicroBatcher(model.encode_now, dim=model.dim, max_batch=0)


def test_the_embedder_batches_documents(embedder: CachedEmbedder) -> None:
    model = embedder.inner
    assert isinstance(model, SentenceTransformerEmbedder) and model.batcher is not None
    before = model.batcher.requests
    texts = ["I adopted a cat named Luna.", "My sister's wedding is in June."]
    got = embedder.embed(texts)
    assert model.batcher.requests == before + 1
    assert np.allclose(got, model.encode_now(texts), atol=1e-5)


def test_a_query_does_not_wait_for_a_document_batch(model: SentenceTransformerEmbedder) -> None:
    if model.query_engine != "onnx":
        pytest.skip("the PyTorch query path shares the model lock (it waits for one chunk)")
    docs = [" ".join(WORDS * 8) + f" {i}" for i in range(64)]  # long texts: a second or more
    started, finished = threading.Event(), threading.Event()

    def documents() -> None:
        started.set()
        model.embed(docs)
        finished.set()

    thread = threading.Thread(target=documents)
    t0 = time.perf_counter()
    thread.start()
    started.wait()
    time.sleep(0.05)  # the batch is under way
    vec = model.embed_query("Where does my sister get married?")
    query_done = time.perf_counter() - t0
    assert not finished.is_set(), "the document batch was too short to prove anything"
    thread.join()
    docs_done = time.perf_counter() - t0
    assert vec.shape == (model.dim,)
    assert query_done < docs_done / 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_nice_lowers_the_worker_thread_only() -> None:
    seen: list[int] = []

    def encode(texts: list[str]) -> Vectors:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return np.zeros((len(texts), 4), dtype=np.float32)

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    batcher = MicroBatcher(encode, dim=4, nice=5)
    try:
        assert batcher.embed(["a", "b"]).shape == (2, 4)
    finally:
        batcher.close()
    assert seen == [min(19, mine + 5)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine  # caller untouched
    assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == mine  # and the main thread
