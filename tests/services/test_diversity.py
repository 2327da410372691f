"""Session diversity in the top-k (memsvc.services.ranking.diversify)."""

from __future__ import annotations

from datetime import UTC, datetime

from memsvc.db.queries.notes import NoteRow
from memsvc.services.ranking import Candidate, diversify

T = datetime(2024, 1, 1, tzinfo=UTC)


def _row(pk: int, session: str | None) -> NoteRow:
    return NoteRow(
        pk, f"n{pk}", "p", "u", None, session, "turn", "active", T, None, T, T, 1.0, T, {}
    )


def _pool(spec: list[tuple[str | None, float]]) -> list[Candidate]:
    out = []
    for pk, (session, score) in enumerate(spec):
        c = Candidate(note=_row(pk, session), similarity=score)
        c.score = score
        out.append(c)
    return sorted(out, key=lambda c: -c.score)


def test_a_close_second_session_beats_a_third_round_of_the_first() -> None:
    pool = _pool([("a", 0.90), ("a", 0.89), ("a", 0.86), ("b", 0.78), ("c", 0.40)])
    top = diversify(pool, 3, 0.1)
    assert [c.note.session_id for c in top] == ["a", "a", "b"]  # 0.89*0.9 > 0.78 > 0.86*0.81
    assert top[1].parts["diversity"] == 0.9
    assert "diversity" not in top[2].parts


def test_a_weak_other_session_does_not_displace_strong_evidence() -> None:
    pool = _pool([("a", 0.90), ("a", 0.88), ("c", 0.40)])
    assert [c.note.pk for c in diversify(pool, 2, 0.1)] == [0, 1]


def test_off_or_without_sessions_it_is_the_plain_top_k() -> None:
    pool = _pool([("a", 0.9), ("a", 0.8), ("b", 0.5), (None, 0.85), (None, 0.84)])
    assert diversify(pool, 3, 0.0) == pool[:3]
    top = diversify(pool, 5, 0.5)
    assert len(top) == 5 and {c.note.pk for c in top} == {c.note.pk for c in pool}
    assert [c.note.pk for c in top][:3] == [0, 3, 4]  # notes without a session: never discounted


def test_a_discount_lowers_negative_scores_too() -> None:
    # Multiplying -0.10 by 0.9 would raise it; the discount must push it down instead.
    pool = _pool([("a", 0.50), ("a", -0.100), ("b", -0.105)])
    assert [c.note.session_id for c in diversify(pool, 2, 0.1)] == ["a", "b"]
