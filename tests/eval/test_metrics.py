"""Retrieval metrics on hand-made rankings (values worked out by hand in the comments)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from memsvc_eval.metrics import (
    Level,
    accuracy,
    aggregate,
    latency_summary,
    percentile,
    question_metrics,
)


def hits_of(*sessions: str) -> list[list[tuple[str, int]]]:
    """One single-turn hit per session name (turn 0)."""
    return [[(s, 0)] for s in sessions]


def test_single_evidence_at_rank_one() -> None:
    m = question_metrics(hits_of("A", "X"), {"A"}, "session")
    assert m is not None
    assert m["recall_any@1"] == m["recall_all@1"] == m["ndcg_any@1"] == 1.0
    assert m["ndcg_any@10"] == 1.0


def test_evidence_at_rank_three() -> None:
    m = question_metrics(hits_of("X", "Y", "A", "Z"), {"A"}, "session")
    assert m is not None
    assert m["recall_any@1"] == 0.0 and m["ndcg_any@1"] == 0.0
    assert m["recall_any@3"] == 1.0
    # LongMemEval's discount: rank 3 weighs 1/log2(3); the ideal puts A at rank 1.
    assert m["ndcg_any@3"] == pytest.approx(1 / math.log2(3))
    assert m["ndcg_any@5"] == pytest.approx(1 / math.log2(3))


def test_rank_two_weighs_like_rank_one_in_longmemeval_dcg() -> None:
    m = question_metrics(hits_of("X", "A"), {"A"}, "session")
    assert m is not None
    assert m["ndcg_any@3"] == pytest.approx(1.0)  # 1/log2(2) = 1


def test_multi_evidence_any_versus_all() -> None:
    m = question_metrics(hits_of("A", "X", "B"), {"A", "B"}, "session")
    assert m is not None
    assert (m["recall_any@1"], m["recall_all@1"]) == (1.0, 0.0)
    assert (m["recall_any@3"], m["recall_all@3"]) == (1.0, 1.0)
    # DCG = 1 + 1/log2(3); ideal (two relevant at ranks 1, 2) = 1 + 1.
    assert m["ndcg_any@3"] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    # Only one relevant fits in k=1: ideal 1, DCG 1.
    assert m["ndcg_any@1"] == 1.0


def test_duplicates_earn_nothing_twice() -> None:
    m = question_metrics(hits_of("A", "A", "A"), {"A", "B"}, "session")
    assert m is not None
    assert m["recall_all@3"] == 0.0 and m["recall_any@3"] == 1.0
    assert m["ndcg_any@3"] == pytest.approx(1 / 2)  # DCG 1, ideal 1 + 1


def test_empty_results_score_zero() -> None:
    m = question_metrics([], {"A"}, "session")
    assert m is not None
    assert set(m.values()) == {0.0}
    assert len(m) == 12  # 3 metrics x 4 cut-offs


def test_k_larger_than_results() -> None:
    m = question_metrics(hits_of("X", "Y", "A"), {"A", "B"}, "session", ks=(10,))
    assert m is not None
    assert m == {
        "recall_any@10": 1.0,
        "recall_all@10": 0.0,
        "ndcg_any@10": pytest.approx((1 / math.log2(3)) / 2),
    }


def test_no_evidence_is_left_out() -> None:
    assert question_metrics(hits_of("A"), set(), "turn") is None


def test_one_hit_from_several_sessions_covers_them_all() -> None:
    hits = [[("A", 0), ("B", 3)], [("X", 0)]]
    s = question_metrics(hits, {"A", "B"}, "session")
    assert s is not None
    assert s["recall_all@1"] == 1.0
    # One gain at rank 1; the ideal places two gains in the first two ranks.
    assert s["ndcg_any@3"] == pytest.approx(1 / 2)
    t = question_metrics(hits, {("B", 3)}, "turn")
    assert t is not None and t["recall_all@1"] == 1.0 and t["ndcg_any@1"] == 1.0


def test_turn_level_needs_the_exact_turn() -> None:
    hits = [[("A", 1)], [("A", 2)]]
    m = question_metrics(hits, {("A", 2), ("A", 5)}, "turn")
    assert m is not None
    assert (m["recall_any@1"], m["recall_any@3"], m["recall_all@10"]) == (0.0, 1.0, 0.0)
    assert m["ndcg_any@3"] == pytest.approx(1 / 2)  # rank 2 weighs 1; ideal 1 + 1


def test_aggregate_excludes_abstention_and_groups_by_type() -> None:
    full = question_metrics(hits_of("A"), {"A"}, "session")
    miss = question_metrics(hits_of("X"), {"A"}, "session")
    turn = question_metrics([[("A", 0)]], {("A", 0)}, "turn")
    rows: list[tuple[str, bool, dict[Level, dict[str, float] | None]]] = [
        ("multi-session", False, {"session": full, "turn": turn}),
        ("multi-session", False, {"session": miss, "turn": None}),
        ("temporal-reasoning", False, {"session": full, "turn": None}),
        ("temporal-reasoning", True, {"session": miss, "turn": None}),  # abstention: ignored
    ]
    agg = aggregate(rows)
    overall = agg["overall"]
    assert isinstance(overall, dict)
    assert overall["session"]["n"] == 3
    assert overall["session"]["recall_any@1"] == pytest.approx(2 / 3)
    assert overall["turn"] == {"n": 1, **(turn or {})}
    by_type = agg["by_type"]
    assert isinstance(by_type, dict)
    assert by_type["multi-session"]["session"]["recall_all@5"] == pytest.approx(0.5)
    assert by_type["temporal-reasoning"]["session"]["n"] == 1
    assert by_type["temporal-reasoning"]["turn"] == {"n": 0}


def test_percentiles_and_latency_summary() -> None:
    vals = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(vals, 50) == pytest.approx(50.5)
    assert percentile(vals, 95) == pytest.approx(95.05)
    assert percentile([], 50) is None
    s = latency_summary([3.0, 1.0, 2.0])
    assert (s["n"], s["p50_ms"], s["max_ms"]) == (3, 2.0, 3.0)


def test_accuracy_counts_missing_verdicts_apart() -> None:
    assert accuracy([True, False, None, True]) == {"n": 4, "judged": 3, "accuracy": 2 / 3}
    assert accuracy([None])["accuracy"] is None


def test_sign_test_by_hand() -> None:
    from memsvc_eval.metrics import sign_test

    assert sign_test(0, 0) == 1.0
    assert sign_test(2, 0) == 0.5  # 2 * (1/4)
    assert sign_test(3, 3) == 1.0
    assert sign_test(0, 5) == pytest.approx(2 / 32)
    assert sign_test(1, 9) == pytest.approx(2 * 11 / 1024)  # P(X <= 1), X ~ B(10, 1/2)
    with pytest.raises(ValueError):
        sign_test(-1, 2)


@given(st.integers(0, 60), st.integers(0, 60))
def test_sign_test_is_a_symmetric_probability(gained: int, lost: int) -> None:
    from memsvc_eval.metrics import sign_test

    p = sign_test(gained, lost)
    assert 0.0 < p <= 1.0
    assert p == sign_test(lost, gained)
    if gained + lost:  # one more question on the winning side never makes it less certain
        assert sign_test(max(gained, lost) + 1, min(gained, lost)) <= p
