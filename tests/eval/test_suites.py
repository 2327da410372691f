"""Suite builder: determinism, honest distractor dates, exclusions, the dev suite."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from memsvc_eval.data import Record, load_records
from memsvc_eval.suites import (
    FALLBACK_WINDOW,
    build_suite,
    dev_suite,
    distractor_window,
    file_suite,
)

from .conftest import make_record, make_session


def _own(r: Record, original: dict[str, Record]) -> set[str]:
    return {s.session_id for s in original[r.question_id].sessions}


@pytest.fixture(scope="module")
def dev(data_dir: Path) -> tuple[list[Record], dict[str, Record]]:
    suite = dev_suite(data_dir, seed=0)
    originals = {
        r.question_id: r for r in load_records(sorted(data_dir.glob("longmemeval_*.json")))
    }
    return suite.records, originals


def test_dev_suite_shape(dev: tuple[list[Record], dict[str, Record]]) -> None:
    records, originals = dev
    assert len(records) == 100
    s_record = next(r for r in records if r.question_id == "e47becba")
    assert s_record == originals["e47becba"]  # the S record is kept as-is
    for r in records:
        if r.question_id == "e47becba":
            continue
        assert len(r.sessions) == 50
        ids = [s.session_id for s in r.sessions]
        assert len(set(ids)) == 50
        # Every original session is there with its real date and content.
        for s in originals[r.question_id].sessions:
            assert s in r.sessions
        assert r.evidence_sessions == originals[r.question_id].evidence_sessions
        assert r.evidence_turns == originals[r.question_id].evidence_turns
        assert [s.date for s in r.sessions] == sorted(s.date for s in r.sessions)


def test_no_distractor_at_or_after_the_question(
    dev: tuple[list[Record], dict[str, Record]],
) -> None:
    records, originals = dev
    for r in records:
        own = _own(r, originals)
        lo, hi = distractor_window(originals[r.question_id])
        for s in r.sessions:
            if s.session_id in own:
                continue
            assert s.end < r.question_date, (r.question_id, s.session_id)
            assert lo <= s.date < hi
            assert s.session_id not in r.answer_session_ids
            assert s.session_id not in originals[r.question_id].answer_session_ids


def test_one_session_records_get_the_six_month_window(
    dev: tuple[list[Record], dict[str, Record]],
) -> None:
    records, originals = dev
    singles = [r for r in records if len(originals[r.question_id].sessions) == 1]
    assert singles
    for r in singles:
        lo, hi = distractor_window(originals[r.question_id])
        assert hi == r.question_date and hi - lo == FALLBACK_WINDOW
        dates = [s.date for s in r.sessions if s.session_id not in _own(r, originals)]
        assert min(dates) >= lo
        # Spread over the window, not bunched next to the question.
        assert max(dates) - min(dates) > timedelta(days=60)


def test_multi_session_window_is_the_records_own_span() -> None:
    q = datetime(2023, 6, 1)
    rec = make_record(
        "span",
        question_date=q,
        sessions=[
            make_session("e1", datetime(2023, 3, 1), ["a", "b"], (0,)),
            make_session("e2", datetime(2023, 5, 1), ["c", "d"], (0,)),
        ],
        evidence=("e1", "e2"),
    )
    assert distractor_window(rec) == (datetime(2023, 3, 1), q)


def test_same_seed_same_suite_other_seed_other_suite(data_dir: Path) -> None:
    a = dev_suite(data_dir, seed=7)
    b = dev_suite(data_dir, seed=7)
    c = dev_suite(data_dir, seed=8)
    assert [r.haystack_hash() for r in a.records] == [r.haystack_hash() for r in b.records]
    differ = sum(
        x.haystack_hash() != y.haystack_hash() for x, y in zip(a.records, c.records, strict=True)
    )
    assert differ >= 95  # all but the S record (kept as-is) change


def test_a_question_does_not_depend_on_record_order() -> None:
    recs = [make_record(f"q{i}") for i in range(12)]
    fwd = build_suite("s", recs, target=8, seed=3).records
    rev = build_suite("s", list(reversed(recs)), target=8, seed=3).records
    assert {r.question_id: r.haystack_hash() for r in fwd} == {
        r.question_id: r.haystack_hash() for r in rev
    }


def test_records_sharing_evidence_never_lend_distractors() -> None:
    d = datetime(2023, 5, 1)
    shared = make_session("shared_ev", d, ["my bike is red", "ok"], (0,))
    a = make_record(
        "a", sessions=[shared, make_session("a_x", d, ["x", "y"])], evidence=("shared_ev",)
    )
    b = make_record(
        "b", sessions=[shared, make_session("b_y", d, ["z", "w"])], evidence=("shared_ev",)
    )
    others = [make_record(f"o{i}") for i in range(10)]
    suite = build_suite("s", [a, b, *others], target=12, seed=0)
    got = {r.question_id: {s.session_id for s in r.sessions} for r in suite.records}
    assert "b_y" not in got["a"] and "a_x" not in got["b"]
    assert len(got["a"]) == 12
    # Same content under another id is not a distractor either.
    twin = make_session("twin", d, ["my bike is red", "ok"], (0,))
    c = make_record("c", sessions=[twin, make_session("c_z", d, ["q", "r"])], evidence=("twin",))
    suite = build_suite("s", [a, c, *others], target=30, seed=0)
    a_ids = {s.session_id for s in suite.records[0].sessions}
    assert "twin" not in a_ids and "c_z" in a_ids


def test_small_pool_gives_short_haystacks_and_says_so() -> None:
    recs = [make_record(f"q{i}") for i in range(3)]
    suite = build_suite("m-like", recs, target=500, seed=0)
    assert suite.short == 3
    assert all(len(r.sessions) == 6 for r in suite.records)  # 2 own + 4 from the others
    assert suite.describe()["short_haystacks"] == 3


def test_file_suite_kinds(tmp_path: Path, data_dir: Path) -> None:
    path = data_dir / "longmemeval_oracle_example2.json"
    as_is = file_suite([path], kind="as-is", seed=0)
    assert as_is.target_sessions is None
    assert [len(r.sessions) for r in as_is.records] == [
        len(r.sessions) for r in load_records([path])
    ]
    s_like = file_suite([path], kind="s-like", seed=0, target=5)
    assert s_like.target_sessions == 5
    assert all(len(r.sessions) >= 4 for r in s_like.records)
