"""JSON extraction from chatty answers and the output schemas (the eval's answer/verdict
parsing is tested in tests/eval/test_judge.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from memsvc.llm.parsing import JSONExtractionError, extract_json, parse_json_as
from memsvc.llm.schemas import MAX_KEYWORDS, MemorizeOutput, NoteDecision, ThoughtDraft


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("  [1, 2]\n", [1, 2]),
        ('```json\n{"a": [1, {"b": 2}]}\n```', {"a": [1, {"b": 2}]}),
        ('```\n{"a": 1}\n```\nDone.', {"a": 1}),
        ('Sure! Here it is: {"a": "x"} hope it helps', {"a": "x"}),
        ('Note [see below] {"s": "a } tricky { string", "n": {"m": []}} end', None),
        ('Result:\n[{"index": 0}, {"index": 1}]\nThanks [1]', [{"index": 0}, {"index": 1}]),
        ('I said {not json} then {"ok": true}', {"ok": True}),
    ],
)
def test_extract_json(text: str, expected: object) -> None:
    if expected is None:  # braces inside strings must not end the object early
        expected = {"s": "a } tricky { string", "n": {"m": []}}
    assert extract_json(text) == expected


@pytest.mark.parametrize(
    "text", ["", "no json here", "{broken: json", "[1] is a footnote", '"str"']
)
def test_extract_json_rejects(text: str) -> None:
    with pytest.raises(JSONExtractionError):
        extract_json(text)


def test_note_decision_normalises() -> None:
    decision = NoteDecision.model_validate(
        {
            "index": 0,
            "keywords": "Berlin, berlin ,  Move,  " + ", ".join(f"k{i}" for i in range(20)),
            "tags": ["Travel", "#travel", " CITY "],
            "context": "  The user\n moved.  ",
            "facts": ["a", "a", "", 3, "b"],
            "operation": "supersede",
            "links": ["m1", {"target": " m2 ", "reason": None}],
            "evolve": [{"target": "m1", "tags": "A, b"}],
        }
    )
    assert decision.keywords[:2] == ["Berlin", "Move"]
    assert len(decision.keywords) == MAX_KEYWORDS
    assert decision.tags == ["travel", "city"]
    assert decision.context == "The user moved."
    assert decision.facts == ["a", "b"]
    assert decision.operation.op == "SUPERSEDE"
    assert [link.target for link in decision.links] == ["m1", "m2"]
    assert decision.evolve[0].tags == ["a", "b"] and decision.evolve[0].context is None


def test_note_decision_rejects_unknown_operation() -> None:
    with pytest.raises(ValidationError):
        NoteDecision.model_validate({"index": 0, "operation": {"op": "DELETE"}})
    with pytest.raises(ValidationError):
        NoteDecision.model_validate({"keywords": ["no index"]})


def test_memorize_output_accepts_bare_array_and_single_note() -> None:
    assert len(parse_json_as('[{"index": 0}, {"index": 1}]', MemorizeOutput).notes) == 2
    assert parse_json_as('{"index": 3}', MemorizeOutput).notes[0].index == 3
    with pytest.raises(ValidationError):
        parse_json_as('{"something": "else"}', MemorizeOutput)


def test_thought_without_statement_is_not_kept() -> None:
    assert ThoughtDraft.model_validate({"statement": "  "}).keep is False
    draft = ThoughtDraft.model_validate({"statement": "The user lives in Berlin.", "keywords": []})
    assert draft.keep is True
