"""Common terms in a large partition (`fulltext.PRUNE_MIN_NOTES`, `PRUNE_SHARE`): they stop
proposing full-text candidates, and still count in the scores of the candidates the rarer
terms propose. Checked against BM25 written out over the partition's notes (the tenants
test's `_bm25`), alone in a store and beside another partition, with the thresholds lowered
so that small drawn corpora are "large"."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from memsvc.db.queries import fulltext
from tests.db.test_fulltext_tenants import OTHER, VOCAB, _add, _bm25, store, template

__all__ = ["store", "template"]  # the fixtures, used by name

# Most drawn notes hold "garden" (the common word); the rest of VOCAB is drawn rarely.
_note = st.tuples(
    st.booleans() | st.just(True),
    st.lists(st.sampled_from(VOCAB[1:]), min_size=0, max_size=3),
).map(lambda t: (["garden"] if t[0] else []) + t[1] or ["zeus"])


def _matches(engine: Any, terms: list[str], notes: int) -> list[tuple[int, float]]:
    with Session(engine) as session:
        return fulltext.matches(session, partition="ns/u/a", terms=terms, limit=1000, notes=notes)


@pytest.mark.parametrize("beside", [False, True])
@settings_(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mine=st.lists(_note, min_size=2, max_size=12),
    asked=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=4, unique=True),
    share=st.sampled_from([0.0, 0.3, 0.6]),
)
def test_common_terms_only_score(
    store: Any,
    monkeypatch: pytest.MonkeyPatch,
    beside: bool,
    mine: list[list[str]],
    asked: list[str],
    share: float,
) -> None:
    monkeypatch.setattr(fulltext, "PRUNE_MIN_NOTES", 1)
    monkeypatch.setattr(fulltext, "PRUNE_SHARE", share)
    engine = store()
    theirs = [[OTHER[0], OTHER[1]]] * 3 if beside else []
    with engine.begin() as conn:
        for i, words in enumerate(mine):
            _add(conn, f"a{i}", "ns/u/a", " ".join(words))
        for i, words in enumerate(theirs):
            _add(conn, f"b{i}", "ns/u/b", " ".join(words))
    got = _matches(engine, asked, notes=len(mine))

    held = {t: sum(t in d for d in mine) for t in asked}
    proposing = [t for t in asked if 0 < held[t] <= share * len(mine)]
    if not proposing and any(held.values()):
        proposing = [min((t for t in asked if held[t]), key=lambda t: held[t])]
    everything = _bm25(mine, asked, mean_length=sum(map(len, mine + theirs)) / len(mine + theirs))
    want = [(pk, s) for pk, s in everything if set(mine[pk - 1]) & set(proposing or asked)]
    assert [pk for pk, _ in got] == [pk for pk, _ in want]
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert math.isclose(a, b, rel_tol=1e-9)


def test_small_partitions_are_never_pruned(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under PRUNE_MIN_NOTES every note holding a word asked is a match, however common."""
    monkeypatch.setattr(fulltext, "PRUNE_SHARE", 0.0)
    engine = store()
    mine = [["garden", "zeus"], ["garden"], ["garden", "violin"], ["launch"]]
    with engine.begin() as conn:
        for i, words in enumerate(mine):
            _add(conn, f"a{i}", "ns/u/a", " ".join(words))
    asked = ["garden", "zeus"]
    small = _matches(engine, asked, notes=len(mine))
    assert {pk for pk, _ in small} == {1, 2, 3}
    monkeypatch.setattr(fulltext, "PRUNE_MIN_NOTES", len(mine))
    large = _matches(engine, asked, notes=len(mine))
    assert [pk for pk, _ in large] == [1]  # only "zeus" proposes; "garden" still scores it
    assert math.isclose(large[0][1], dict(small)[1], rel_tol=1e-9)
