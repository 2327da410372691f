"""`ingest.parts_min_words`: a short unit gets no sentence-level parts (its key holds each of
its few sentences already), a long one keeps them; the threshold only removes parts, never
changes the ones a unit keeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from memsvc import Memory
from memsvc.config import IngestSettings
from memsvc.services.planning import parts_of
from memsvc.text.parts import key_parts
from memsvc.text.tokenize import words

T0 = datetime(2023, 5, 8, 13, 0, tzinfo=UTC)
SHORT = "We adopted a kitten last week. She sleeps on the piano all day."  # 13 words
LONG = (
    "My brother finally repainted his whole kitchen in a deep green this month. "
    "It took him three weekends and far more paint than he planned. "
    "Meanwhile we adopted a tiny grey kitten from the shelter near the station. "
    "She sleeps on the piano all day and chases the vacuum cleaner at night."
)


@given(
    text=st.text(alphabet=st.sampled_from("ab cd. ef! gh? "), max_size=300),
    threshold=st.integers(min_value=0, max_value=60),
    kind=st.sampled_from(["turn", "round", "summary", "fact"]),
)
def test_the_threshold_only_removes_parts(text: str, threshold: int, kind: str) -> None:
    cfg = IngestSettings(parts_min_words=threshold)
    got = parts_of(cfg, text, text, kind)
    full = parts_of(IngestSettings(parts_min_words=0), text, text, kind)
    assert got in ([], full)
    short = kind != "summary" and threshold > 0 and len(words(text)) < threshold
    assert got == ([] if short else full)
    if kind != "summary":
        assert full == key_parts(text, max_parts=IngestSettings().max_parts, whole=text)


def _explain(mem: Memory, query: str, user: str) -> dict[str, dict[str, Any]]:
    hits = mem.search(query, user_id=user, top_k=5, explain=True).results
    return {h.memory.split(": ", 1)[-1]: h.explain or {} for h in hits}


def test_short_units_are_stored_without_parts(
    memory_factory: Callable[..., Memory], db_url: str
) -> None:
    for threshold, user in ((0, "all-parts"), (30, "long-only")):
        mem = memory_factory(db_url, ingest={"parts_min_words": threshold})
        mem.add(
            [
                {
                    "role": "user",
                    "name": who,
                    "content": text,
                    "timestamp": T0 + timedelta(minutes=i),
                }
                for i, (who, text) in enumerate([("Ann", SHORT), ("Bob", LONG)])
            ],
            user_id=user,
            session_id=f"{user}-s1",
            infer=False,
        )
        got = _explain(mem, "Who sleeps on the piano all day?", user)
        assert {SHORT, LONG} <= got.keys(), list(got)
        assert "part" in got[LONG]  # over the threshold: parts as before
        if threshold:
            assert "part" not in got[SHORT]
        else:
            assert "part" in got[SHORT]
