"""LoCoMo read natively: a synthetic LoCoMo-shaped file written here (so CI always runs the
loader), and the real dev file when it is present (CC BY-NC: read from ../shared, never
copied into the repository)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from memsvc_eval.baselines import Haystack
from memsvc_eval.cli import main
from memsvc_eval.data import dump_records, load_records
from memsvc_eval.locomo import CATEGORIES, default_file, is_locomo, load_locomo, parse_date
from memsvc_eval.results import load_results
from memsvc_eval.suites import locomo_suite


def _turn(speaker: str, dia: str, text: str, caption: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"speaker": speaker, "dia_id": dia, "text": text}
    if caption:
        out["img_url"] = ["https://example.invalid/x.jpg"]
        out["blip_caption"] = caption
    return out


def synthetic_locomo() -> list[dict[str, Any]]:
    """Two short conversations in LoCoMo's exact layout, with its quirks (a malformed
    evidence id, an id naming no turn, an adversarial question, sessions out of order)."""
    conv_a = {
        "speaker_a": "Ada",
        "speaker_b": "Ben",
        "session_2_date_time": "10:00 am on 3 June, 2023",
        "session_2": [
            _turn("Ben", "D2:1", "I finally adopted a dog named Biscuit!"),
            _turn("Ada", "D2:2", "Congrats! Look at my garden.", "a photo of red tulips"),
        ],
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            _turn("Ada", "D1:1", "I started researching pottery classes yesterday."),
            _turn("Ben", "D1:2", "Nice, I am training for a marathon in July."),
            _turn("Ada", "D1:3", "Good luck with the marathon."),
        ],
    }
    qa_a = [
        {
            "question": "What did Ada research?",
            "answer": "pottery",
            "evidence": ["D1:1"],
            "category": 4,
        },
        {
            "question": "When did Ben adopt Biscuit?",
            "answer": "June 2023",
            "evidence": ["D2:1"],
            "category": 2,
        },
        {
            "question": "What do Ada and Ben care about?",
            "answer": "pottery and a dog",
            "evidence": ["D1:1; D2:1", "D:1:2"],
            "category": 1,
        },
        {
            "question": "What flowers did Ben grow?",
            "adversarial_answer": "tulips",
            "evidence": ["D2:2"],
            "category": 5,
        },
        {
            "question": "Would Ada enjoy ceramics?",
            "answer": "likely yes",
            "evidence": ["D9:9"],
            "category": 3,
        },
    ]
    conv_b = {
        "speaker_a": "Cy",
        "speaker_b": "Di",
        "session_1_date_time": "7:05 pm on 1 January, 2024",
        "session_1": [
            _turn("Cy", "D1:1", "My sister moved to Lisbon."),
            _turn("Di", "D1:2", "", "a photo of a sailing boat"),
        ],
    }
    qa_b = [
        {
            "question": "Where did Cy's sister move?",
            "answer": "Lisbon",
            "evidence": ["D1:1"],
            "category": 4,
        },
    ]
    return [
        {"sample_id": "s-a", "conversation": conv_a, "qa": qa_a, "event_summary": {}},
        {"sample_id": "s-b", "conversation": conv_b, "qa": qa_b, "session_summary": {}},
    ]


@pytest.fixture
def locomo_file(tmp_path: Path) -> Path:
    path = tmp_path / "locomo_synthetic.json"
    path.write_text(json.dumps(synthetic_locomo()))
    return path


def test_parse_date() -> None:
    assert parse_date("1:56 pm on 8 May, 2023") == datetime(2023, 5, 8, 13, 56)
    assert parse_date("12:09 am on 13 September, 2023") == datetime(2023, 9, 13, 0, 9)
    with pytest.raises(ValueError, match="unrecognised"):
        parse_date("2023/05/08 (Mon) 13:56")


def test_loader_keeps_names_photos_dates_and_evidence(locomo_file: Path) -> None:
    records, stats = load_locomo(locomo_file)
    assert stats == {"conversations": 2, "unknown_evidence_ids": 1}  # "D9:9"
    assert len(records) == 6
    by_q = {r.question: r for r in records}
    first = by_q["What did Ada research?"]
    # Sessions in date order whatever their order in the file, dated from date_time.
    assert [s.session_id for s in first.sessions] == ["s-a/session_1", "s-a/session_2"]
    assert first.sessions[0].date == datetime(2023, 5, 8, 13, 56)
    assert first.sessions[1].turns[0].name == "Ben"
    assert {t.role for s in first.sessions for t in s.turns} == {"user"}  # nobody assists
    assert first.sessions[1].turns[1].content == (
        "Congrats! Look at my garden. [shares a photo: a photo of red tulips]"
    )
    assert first.question_type == "single-hop" and not first.is_abstention
    assert first.evidence_sessions == {"s-a/session_1"}
    assert first.evidence_turns == {("s-a/session_1", 0)}
    assert first.as_of > first.sessions[-1].end  # asked after the whole conversation
    multi = by_q["What do Ada and Ben care about?"]
    # "D1:1; D2:1" and "D:1:2" are read as three turns over two sessions.
    assert multi.evidence_turns == {
        ("s-a/session_1", 0),
        ("s-a/session_2", 0),
        ("s-a/session_1", 1),
    }
    assert multi.evidence_sessions == {"s-a/session_1", "s-a/session_2"}
    adversarial = by_q["What flowers did Ben grow?"]
    assert adversarial.is_abstention and adversarial.question_type == "adversarial"
    assert adversarial.answer == "tulips"
    assert not by_q["Would Ada enjoy ceramics?"].evidence_turns  # left out of the metrics
    photo_only = by_q["Where did Cy's sister move?"].sessions[0].turns[1]
    assert photo_only.content == "[shares a photo: a photo of a sailing boat]"
    # One haystack per conversation: its questions share one ingested scope.
    assert len({r.haystack_hash() for r in records}) == 2
    assert set(CATEGORIES.values()) >= {r.question_type for r in records}


def test_baseline_documents_name_the_speaker(locomo_file: Path) -> None:
    records, _ = load_locomo(locomo_file)
    hay = Haystack.of(records[0])
    assert hay.texts[0] == "Ada: I started researching pottery classes yesterday."


def test_detection_and_longmemeval_layout_round_trip(locomo_file: Path, tmp_path: Path) -> None:
    assert is_locomo(locomo_file)
    records, _ = load_locomo(locomo_file)
    lme = tmp_path / "as_lme.json"
    dump_records(records, lme)
    assert not is_locomo(lme)
    back = {r.question_id: r for r in load_records([lme])}
    for r in records:
        # Names and turn evidence survive the LongMemEval layout (has_answer flags).
        assert back[r.question_id].evidence_turns == r.evidence_turns
        assert back[r.question_id].sessions[0].turns[0].name == r.sessions[0].turns[0].name


@pytest.mark.parametrize("command", ["locomo", "longmemeval"])
def test_cli_runs_locomo_with_baselines(
    locomo_file: Path, tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = [command, "--data", str(locomo_file), "--out", str(out), "--no-memsvc"]
    assert main([*argv, "--baselines", "bm25", "--no-progress", "--no-plots"]) == 0
    summary = capsys.readouterr().out
    assert summary.startswith("# LoCoMo — suite `locomo:locomo_synthetic`")
    assert "Per category" in summary and "| single-hop |" in summary
    results = {r.question_id: r for r in load_results(out)}
    assert len(results) == 6
    hit = results["s-a/q000"]
    # BM25 finds Ada's pottery turn first; its session and turn are the evidence.
    assert hit.hits[0] == [("s-a/session_1", 0)]
    assert results["s-a/q003_abs"].abstention
    run = json.loads((out / "run.json").read_text())
    assert run["suite"]["dataset"] == "locomo" and run["suite"]["unknown_evidence_ids"] == 1


def test_cli_refuses_padding_a_locomo_file(locomo_file: Path, tmp_path: Path) -> None:
    argv = ["longmemeval", "--data", str(locomo_file), "--suite", "s-like"]
    assert main([*argv, "--out", str(tmp_path / "x"), "--no-memsvc"]) == 2


def test_real_locomo_dev_file() -> None:
    path = default_file()
    if not path.exists():
        pytest.skip(f"LoCoMo data not found at {path}")
    suite = locomo_suite(path)
    assert suite.describe()["conversations"] == 5
    counts = Counter(r.question_type for r in suite.records)
    assert counts == {
        "single-hop": 418,
        "adversarial": 237,
        "temporal": 156,
        "multi-hop": 142,
        "open-domain": 46,
    }
    for r in suite.records:
        assert r.is_abstention == (r.question_type == "adversarial")

    # The category mapping, checked against the data: temporal questions ask "when",
    # single-hop ones rest on one turn, multi-hop ones mostly on several.
    def share(kind: str, test: Any) -> float:
        rows = [r for r in suite.records if r.question_type == kind]
        return sum(1 for r in rows if test(r)) / len(rows)

    assert share("temporal", lambda r: "when" in r.question.lower()) > 0.8
    assert share("single-hop", lambda r: len(r.evidence_turns) == 1) > 0.9
    assert share("multi-hop", lambda r: len(r.evidence_turns) > 1) > 0.9
    scored = [r for r in suite.records if not r.is_abstention]
    # All but a handful of questions name evidence turns that exist.
    assert sum(1 for r in scored if r.evidence_turns) >= len(scored) - 3
    speakers = {t.name for r in suite.records for s in r.sessions for t in s.turns}
    assert "Caroline" in speakers and None not in speakers
