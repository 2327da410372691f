"""`embed.documents_process`: documents embedded by a child process are the vectors the
parent would compute; a child that dies or never loads leaves adds working in process."""

from __future__ import annotations

import logging
import os
import signal

import numpy as np
import pytest

from memsvc.config import EmbedSettings
from memsvc.embed.process import ChildEncodeError, DocumentProcess
from memsvc.embed.sentence import SentenceTransformerEmbedder
from tests.text._data import longmemeval_turns


def _embedder(**overrides: object) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(
        EmbedSettings(query_engine="torch", micro_batch=False, **overrides)  # type: ignore[arg-type]
    )


def test_the_child_gives_the_parents_vectors_and_stops_on_close() -> None:
    texts = [t["content"] for t in longmemeval_turns()[:60]]
    local = _embedder()
    remote = _embedder(documents_process="on")
    try:
        assert remote._process is not None and local._process is None
        got = remote.encode_now(texts)
        assert remote._process._ready  # answered by the child, not the fallback
        want = local.encode_now(texts)
        assert got.dtype == np.float32 and got.shape == want.shape
        assert float(np.abs(got - want).max()) < 1e-6
        proc = remote._process._proc
    finally:
        remote.close()
        local.close()
    assert not proc.is_alive()
    # After close the parent embeds itself, still correctly.
    assert float(np.abs(remote.encode_now(texts[:3]) - want[:3]).max()) < 1e-6


def test_a_killed_child_falls_back_to_the_parent(caplog: pytest.LogCaptureFixture) -> None:
    emb = _embedder(documents_process="on")
    try:
        assert emb._process is not None
        first = emb.encode_now(["I adopted a grey kitten last week."])
        pid = emb._process.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        emb._process._proc.join(timeout=10)
        with caplog.at_level(logging.ERROR, logger="memsvc.embed.process"):
            again = emb.encode_now(["I adopted a grey kitten last week."])
        assert float(np.abs(first - again).max()) < 1e-6
        assert any("embedding process stopped" in r.message for r in caplog.records)
    finally:
        emb.close()


def _broken_factory(settings: EmbedSettings) -> SentenceTransformerEmbedder:
    raise RuntimeError("no model here")


def test_a_child_that_cannot_load_means_in_process() -> None:
    proc = DocumentProcess(EmbedSettings(), _broken_factory)  # type: ignore[arg-type]
    try:
        assert proc.encode(["hello"]) is None
        assert proc.encode(["hello again"]) is None  # stays off, no second start
    finally:
        proc.close()


class _Failing:
    """An encoder whose model breaks on one text (a child-side error, not a dead child)."""

    def __init__(self, settings: EmbedSettings) -> None:
        self.dim = 3

    def encode_now(self, texts: list[str]) -> np.ndarray:
        if "boom" in texts:
            raise ValueError("the model broke on this text")
        return np.ones((len(texts), 3), dtype=np.float32)


def test_an_error_on_a_text_reaches_the_caller_and_the_child_lives_on() -> None:
    proc = DocumentProcess(EmbedSettings(), _Failing)  # type: ignore[arg-type]
    try:
        with pytest.raises(ChildEncodeError, match="broke on this text"):
            proc.encode(["fine", "boom"])
        out = proc.encode(["fine", "also fine"])
        assert out is not None and out.shape == (2, 3)
    finally:
        proc.close()


def test_auto_leaves_documents_in_process_on_a_cpu() -> None:
    """The default (`auto`) starts a child only with a GPU: on a CPU the cores are the limit
    either way, and a child would only hold a second copy of the model."""
    emb = _embedder()
    try:
        assert EmbedSettings().documents_process == "auto"
        assert emb._process is None
    finally:
        emb.close()
