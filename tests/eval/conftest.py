"""Eval harness tests: hand-made records, the shared data folder, the fixture LLM server."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from memsvc_eval.data import Record, Session, Turn
from memsvc_eval.suites import default_data_dir

from tests.support.llm_fixtures import llm_server

__all__ = ["llm_server", "make_record", "make_session"]


def make_session(
    sid: str, date: datetime, texts: list[str], answer_turns: tuple[int, ...] = ()
) -> Session:
    turns = tuple(
        Turn("user" if i % 2 == 0 else "assistant", text, i in answer_turns)
        for i, text in enumerate(texts)
    )
    return Session.make(sid, date, turns)


def make_record(
    qid: str,
    *,
    qtype: str = "single-session-user",
    question: str = "What colour is my bike?",
    answer: str = "red",
    question_date: datetime = datetime(2023, 5, 30, 12, 0),
    sessions: list[Session] | None = None,
    evidence: tuple[str, ...] | None = None,
) -> Record:
    if sessions is None:
        d = question_date - timedelta(days=3)
        sessions = [
            make_session(f"{qid}_ev", d, [f"I bought a red bike ({qid}).", "Nice."], (0,)),
            make_session(f"{qid}_other", d - timedelta(days=5), [f"I like soup ({qid}).", "Ok."]),
        ]
    if evidence is None:
        evidence = (sessions[0].session_id,)
    return Record(qid, qtype, question, answer, question_date, tuple(sessions), evidence)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = default_data_dir()
    if not (d / "longmemeval_oracle_sample97_seed42.json").exists():
        pytest.skip(f"LongMemEval data not found under {d}")
    return d
