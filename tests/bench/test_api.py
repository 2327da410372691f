"""bench/api.py: the corpus and query builder and the statistics (fast), one tiny run (slow)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import api

TURNS, QUESTIONS = api.load(sorted(api.DATA.glob("*.json")))


def test_parse_date() -> None:
    assert api.parse_date("2023/05/20 (Sat) 02:21") == datetime(2023, 5, 20, 2, 21, tzinfo=UTC)
    with pytest.raises(ValueError):
        api.parse_date("yesterday")


def test_sentences_keep_prose_only() -> None:
    text = "Sure!\n- I moved to Berlin last week with my two cats. Is that far from Paris, really?"
    assert api.sentences(text) == [
        "I moved to Berlin last week with my two cats.",
        "Is that far from Paris, really?",
    ]


@pytest.mark.parametrize(("n", "unit"), [(500, "turn"), (5000, "sentence")])
def test_build_distinct_ordered_and_held_out(n: int, unit: str) -> None:
    msgs, queries, info = api.build(TURNS, QUESTIONS, n, 40)
    assert info["unit"] == unit and not info["cycled"] and len(msgs) == n
    texts = [m["content"].lower() for m in msgs]
    assert len(set(texts)) == n
    assert len(queries) == len(set(queries)) == 40 + api.WARMUP
    assert not {q.lower() for q in queries} & set(texts)
    assert {m["role"] for m in msgs} == {"user", "assistant"}
    stamps = [datetime.fromisoformat(m["timestamp"]) for m in msgs]
    assert all(a < b for a, b in itertools.pairwise(stamps))
    assert api.build(TURNS, QUESTIONS, n, 40) == (msgs, queries, info)  # deterministic


def test_build_cycles_when_short() -> None:
    msgs, _, info = api.build(TURNS[:10], QUESTIONS, 1000, 5)
    assert info["unit"] == "sentence" and info["cycled"] and len(msgs) == 1000


def test_stats() -> None:
    s = api.stats([float(x) for x in range(1, 101)])
    assert s["p50"] == pytest.approx(50.5) and s["mean"] == pytest.approx(50.5)
    assert s["p95"] == pytest.approx(95.05) and s["p99"] == pytest.approx(99.01)
    assert api.stats([]) == {}


@pytest.mark.slow
def test_tiny_end_to_end_run(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    result = api.main(["--n", "30", "--queries", "5", "--batch", "10", "--out", str(out)])
    assert json.loads(out.read_text())["ingest"]["turns"] == 30
    assert result["ingest"]["posts"] == 3 and result["cold_start"]["readyz_s"] > 0
    assert result["search"]["ok"] + sum(result["search"]["errors"].values()) == 5
    assert set(result["ratios"]) == {
        "ingest_vs_embedder",
        "search_p50_vs_query_encode",
        "search_p50_vs_query_embed_query",
        "search_p50_vs_faiss_flat",
    }
