"""Fusion of dense and lexical evidence (memsvc.services.ranking.fuse), contextual keys."""

from __future__ import annotations

from datetime import UTC, datetime

from memsvc.config import Settings
from memsvc.db.queries.notes import NoteRow
from memsvc.services.planning import Unit, add_context
from memsvc.services.ranking import Candidate, fuse

T = datetime(2024, 1, 1, tzinfo=UTC)


def _row(pk: int) -> NoteRow:
    return NoteRow(pk, f"n{pk}", "p", "u", None, "s", "turn", "active", T, None, T, T, 1.0, T, {})


def _pool(spec: list[tuple[float, float | None]]) -> list[Candidate]:
    return [
        Candidate(note=_row(pk), similarity=sim, lexical=lex) for pk, (sim, lex) in enumerate(spec)
    ]


def _order(settings: Settings, pool: list[Candidate]) -> list[int]:
    fuse(settings, pool)
    return [c.note.pk for c in sorted(pool, key=lambda c: -c.parts["relevance"])]


def test_minmax_fusion_weighs_both_signals_on_one_scale() -> None:
    spec: list[tuple[float, float | None]] = [(0.60, None), (0.30, 9.0), (0.25, 3.0), (0.20, None)]
    pool = _pool(spec)
    fuse(Settings(recall={"fusion": "minmax", "lexical_weight": 0.5}), pool)
    rel = {c.note.pk: c.parts["relevance"] for c in pool}
    expect = {0: 1.0 / 1.5, 1: (0.25 + 0.5) / 1.5, 2: (0.125 + 0.5 / 3) / 1.5, 3: 0.0}
    for pk, v in expect.items():
        assert abs(rel[pk] - v) < 1e-9, (pk, rel[pk], v)
    # Invariant to the band the cosines sit in: a model whose cosines are squeezed into a
    # tenth of the range and shifted gets the very same relevance (linear fusion does not).
    for fusion, same in (("minmax", True), ("linear", False)):
        cfg = Settings(recall={"fusion": fusion, "lexical_weight": 0.5})
        wide, squeezed = _pool(spec), _pool([(0.1 + s / 10, lex) for s, lex in spec])
        fuse(cfg, wide)
        fuse(cfg, squeezed)
        diffs = [
            abs(a.parts["relevance"] - b.parts["relevance"])
            for a, b in zip(wide, squeezed, strict=True)
        ]
        assert (max(diffs) < 1e-9) is same, fusion


def test_minmax_with_a_single_candidate() -> None:
    pool = _pool([(0.2, None)])
    fuse(Settings(recall={"fusion": "minmax"}), pool)
    assert pool[0].parts["relevance"] == 1.0 / 1.3


def test_contextual_keys_take_the_message_before() -> None:
    units = [
        Unit(0, "Ada: Where did you go last summer?", "user", "turn", T, ["e0"], "h0"),
        Unit(
            1,
            "Ben: Lisbon, with my sister.",
            "user",
            "turn",
            T,
            ["e1"],
            "h1",
            previous="Ada: Where did you go last summer?",
        ),
        Unit(
            2, "x", "assistant", "turn", T, ["e2"], "h2", previous="y" * 500, context="Reply to: y"
        ),
    ]
    add_context(units)
    assert units[0].context == ""  # nothing before it
    assert units[1].context == "After: Ada: Where did you go last summer?"
    assert "After: Ada: Where did you go last summer?" in units[1].key()
    assert units[2].context == "Reply to: y"  # a context of its own is kept


def test_contextual_keys_only_for_short_units_when_bounded() -> None:
    question = "Ada: What did you think of the exhibition at the Tate on Sunday?"
    short = "Ben: Loved it, especially the Turner room."
    long_ = "Ben: " + " ".join(["it was a long day and we walked around the whole city"] * 3)
    units = [
        Unit(i, text, "user", "turn", T, [f"e{i}"], f"h{i}", previous=question)
        for i, text in enumerate([short, long_])
    ]
    add_context(units, max_words=12)
    assert units[0].context == "After: " + question  # 7 words: findable by what it answers
    assert units[1].context == ""  # 34 words: says what it is about on its own
    # Unbounded, both get it (the bound changes nothing but the long units).
    units = [
        Unit(i, text, "user", "turn", T, [f"e{i}"], f"h{i}", previous=question)
        for i, text in enumerate([short, long_])
    ]
    add_context(units)
    assert all(u.context == "After: " + question for u in units)
