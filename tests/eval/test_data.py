"""Loader: the real LongMemEval files, malformed input, and streaming behaviour."""

from __future__ import annotations

import json
import tracemalloc
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from memsvc_eval.data import (
    RecordError,
    dump_records,
    iter_raw,
    iter_records,
    load_records,
    parse_date,
    parse_record,
)

from .conftest import make_record

SAMPLE = "longmemeval_oracle_sample97_seed42.json"
EXAMPLE2 = "longmemeval_oracle_example2.json"
S_FILE = "longmemeval_s_single_e47becba.json"


def test_parse_date_formats() -> None:
    assert parse_date("2023/05/20 (Sat) 02:21") == datetime(2023, 5, 20, 2, 21)
    assert parse_date("2023/5/2 (Tue) 9:05") == datetime(2023, 5, 2, 9, 5)
    assert parse_date("2023-05-20T02:21:00+00:00") == datetime(2023, 5, 20, 2, 21)
    with pytest.raises(ValueError, match="unrecognised date"):
        parse_date("yesterday")


def test_real_oracle_sample_matches_its_provenance(data_dir: Path) -> None:
    records = list(iter_records(data_dir / SAMPLE))
    # Counts stated in SOURCE.txt next to the file.
    assert len(records) == 97
    types = Counter(r.question_type for r in records)
    assert types == {
        "temporal-reasoning": 27,
        "knowledge-update": 21,
        "multi-session": 21,
        "single-session-user": 12,
        "single-session-preference": 10,
        "single-session-assistant": 6,
    }
    assert sum(r.is_abstention for r in records) == 2
    assert sum(len(r.sessions) for r in records) == 186
    assert sum(len(s.turns) for r in records for s in r.sessions) == 2176
    assert all(r.evidence_sessions for r in records)
    # Integer answers in the file become strings.
    assert all(isinstance(r.answer, str) for r in records)


def test_real_s_record_and_json_equivalence(data_dir: Path) -> None:
    (rec,) = load_records([data_dir / S_FILE])
    assert rec.question_id == "e47becba" and len(rec.sessions) == 53
    assert rec.evidence_sessions == {"answer_280352e9"}
    raw = json.loads((data_dir / S_FILE).read_text())[0]
    answer_turns = {
        (sid, i)
        for sid, sess in zip(raw["haystack_session_ids"], raw["haystack_sessions"], strict=True)
        if sid in raw["answer_session_ids"]
        for i, t in enumerate(sess)
        if t.get("has_answer")
    }
    assert rec.evidence_turns == answer_turns and answer_turns


def test_as_of_never_precedes_the_records_own_sessions(data_dir: Path) -> None:
    records = {r.question_id: r for r in iter_records(data_dir / SAMPLE)}
    # In the file this question is dated 09:14 but one evidence session 10:14 the same day.
    r = records["gpt4_78cf46a3"]
    late = next(s for s in r.sessions if s.session_id == "answer_5a78688d_2")
    assert r.question_date == datetime(2023, 5, 29, 9, 14)
    assert r.as_of == late.date + timedelta(seconds=len(late.turns) - 1)
    assert records["7e974930"].as_of == records["7e974930"].question_date
    assert sum(r.as_of > r.question_date for r in records.values()) == 11


@pytest.mark.parametrize("chunk", [1, 97, 4096])
def test_tiny_chunks_decode_the_same_records(data_dir: Path, chunk: int) -> None:
    path = data_dir / EXAMPLE2
    expected = json.loads(path.read_text())
    got = list(iter_records(path, chunk_size=chunk))
    assert [r.question_id for r in got] == [e["question_id"] for e in expected]
    assert [len(r.sessions) for r in got] == [len(e["haystack_sessions"]) for e in expected]


def test_jsonl_input(tmp_path: Path) -> None:
    recs = [make_record("q1"), make_record("q2")]
    path = tmp_path / "a.json"
    dump_records(recs, path)
    lines = tmp_path / "a.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in json.loads(path.read_text())) + "\n")
    assert [r.question_id for r in iter_records(lines)] == ["q1", "q2"]
    assert list(iter_records(path)) == list(iter_records(lines))


def _write_many(path: Path, n: int, *, truncate_at: int | None = None) -> int:
    rows = json.loads(_one_record_file(path.parent))
    text = json.dumps([{**rows[0], "question_id": f"q{i}"} for i in range(n)], indent=1)
    if truncate_at is not None:
        text = text[:truncate_at]
    path.write_text(text)
    return len(text)


def _one_record_file(folder: Path) -> str:
    p = folder / "one.json"
    dump_records([make_record("q0")], p)
    return p.read_text()


def test_truncated_file_yields_earlier_records_then_names_the_broken_one(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    size = _write_many(path, 3000)
    _write_many(path, 3000, truncate_at=int(size * 0.6))
    it = iter_records(path, chunk_size=1 << 14)
    got = []
    with pytest.raises(RecordError) as exc:
        for r in it:
            got.append(r.question_id)
    # Streaming: everything before the cut came out before the error was found.
    assert len(got) > 1500
    assert got == [f"q{i}" for i in range(len(got))]
    msg = str(exc.value)
    assert f"record {len(got)}" in msg and "cut.json" in msg
    assert "truncated" in msg and f"q{len(got)}" in msg


def test_streaming_peak_memory_is_a_small_fraction_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    size = _write_many(path, 8000)
    tracemalloc.start()
    try:
        n = sum(1 for _ in iter_records(path, chunk_size=1 << 16))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 8000
    assert size > 3_000_000
    assert peak < size / 10, (peak, size)


def _raw() -> dict[str, object]:
    with_dir = make_record("qx")
    from memsvc_eval.data import to_raw

    return to_raw(with_dir)


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda r: r.pop("question"), "missing field(s) question"),
        (lambda r: r.pop("haystack_dates"), "missing field(s) haystack_dates"),
        (lambda r: r["haystack_dates"].pop(), "haystack lengths differ"),
        (lambda r: r.__setitem__("question_date", "soon"), "unrecognised date 'soon'"),
        (lambda r: r["haystack_sessions"][0].append("hi"), "turn 2: turn is str"),
        (lambda r: r.__setitem__("answer_session_ids", "x"), "answer_session_ids must be a list"),
        (lambda r: r.__setitem__("question_id", 5), "field 'question_id' must be a string"),
    ],
)
def test_malformed_record_errors_name_the_record(mutate: object, expect: str) -> None:
    raw = _raw()
    assert callable(mutate)
    mutate(raw)
    with pytest.raises(RecordError) as exc:
        parse_record(raw, "f.json: record 7")
    assert "f.json: record 7" in str(exc.value)
    assert expect in str(exc.value)
    if isinstance(raw.get("question_id"), str):
        assert "question_id='qx'" in str(exc.value)


def test_missing_field_in_a_file_names_index_and_id(tmp_path: Path) -> None:
    rows = [_raw(), _raw()]
    rows[1]["question_id"] = "second"
    del rows[1]["haystack_sessions"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(rows))
    with pytest.raises(RecordError, match=r"bad.json: record 1 \(question_id='second'\): missing"):
        list(iter_records(path))


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("", "empty file"),
        ("[", r"truncated after 0 record\(s\)"),
        ('[{"question_id": "a"} {"b": 1}]', "expected ',' or ']'"),
        ("[1, 2] trailing", "trailing data"),
        ('[{"question_id": "zz", "x": tru}]', "invalid JSON"),
    ],
)
def test_malformed_json(tmp_path: Path, text: str, expect: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(RecordError, match=expect):
        list(iter_raw(path))


def test_non_object_record(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[42]")
    with pytest.raises(RecordError, match=r"x.json: record 0: is int, expected an object"):
        list(iter_records(path))


def test_duplicate_question_ids_across_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    dump_records([make_record("same")], a)
    dump_records([make_record("same")], b)
    with pytest.raises(RecordError, match="duplicate question_id 'same'"):
        load_records([a, b])


def test_dump_and_load_round_trip(tmp_path: Path) -> None:
    rec = make_record("rt", qtype="multi-session")
    path = tmp_path / "rt.json"
    dump_records([rec], path)
    (back,) = load_records([path])
    assert back == rec
    assert back.haystack_hash() == rec.haystack_hash()
