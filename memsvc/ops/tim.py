"""Think-in-Memory operations decided without an LLM (Liu et al. 2023, plus *supersede*).

Given a new note and the existing notes that could matter (its nearest neighbours, notes with
the same content hash, notes holding the same slot), decide one of:

* ADD       - a new memory;
* MERGE     - the same memory again, adding nothing: one note remains and its strength adds
              up. Close vectors are not enough: a message whose numbers, codes, names,
              words or polarity differ from the note's is never merged into it (see
              `memsvc.ops.compare`), so a merge cannot make a detail unfindable;
* SUPERSEDE - a newer value of the same thing: a fixed slot (residence, employer, ...) or,
              for any subject, a short statement whose value, name or polarity changed
              (`compare.relation` says UPDATE); the old note gets `valid_to` and drops out of
              default recall, `as_of` before still finds it;
* NOOP      - nothing worth a memory (pure filler such as "ok thanks!"); the episode stays.

Pure functions over small dataclasses: no tables, no clocks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from memsvc.ops.compare import SAME, UPDATE, relation
from memsvc.text.slots import is_multi_valued

# Near-duplicate threshold on cosine similarity of the A-MEM keys, for notes whose text is
# unknown to the decision (legacy callers). MiniLM puts paraphrases of one sentence at
# 0.9-0.97 and different facts on one topic below ~0.9.
MERGE_SIMILARITY = 0.95
# A restatement (same words, values, names and polarity; `compare.SAME`) merges from here:
# the words already rule out a different fact, the vector rules out a different sentence.
RESTATE_SIMILARITY = 0.8
# An update (`compare.UPDATE`) of a note at least this close supersedes it. Low on purpose:
# "I drive a Honda Civic" / "I sold the Civic and bought a Tesla" sit at ~0.7, and the word
# rules are what keep different facts apart.
UPDATE_SIMILARITY = 0.5

_FILLER = re.compile(
    r"^(?:(?:ok(?:ay)?|k|sure|thanks?(?: you)?(?: so much| a lot)?|thx|ty|cool|great|nice|yes|"
    r"yeah|yep|no|nope|hmm+|hi|hello|hey|bye|good(?: ?bye| night| morning)?|lol|haha+|"
    r"alright|got it|sounds good|perfect|awesome|wow|right|indeed|of course)[\s,.!?:;)(-]*)+$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Existing:
    """An existing note as the decision sees it."""

    key: int
    content_hash: str
    similarity: float
    role: str | None
    kind: str
    slots: tuple[tuple[str, str], ...] = ()
    current: bool = True  # active and not superseded
    content: str | None = None  # None: only the similarity is known (no word rules)


@dataclass(frozen=True)
class Incoming:
    content: str
    content_hash: str
    role: str | None
    kind: str
    slots: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Decision:
    op: str
    target: int | None = None
    reason: str = ""
    superseded: tuple[int, ...] = field(default=())


def _norm(value: str) -> str:
    return re.sub(r"[\W_]+", "", value.lower())


def is_filler(text: str) -> bool:
    return bool(_FILLER.match(text.strip())) or not re.search(r"\w", text)


def decide(
    new: Incoming, existing: Sequence[Existing], *, merge_similarity: float = MERGE_SIMILARITY
) -> Decision:
    if is_filler(new.content):
        return Decision("NOOP", reason="filler without content worth remembering")
    current = [e for e in existing if e.current and e.kind == new.kind]
    for e in current:
        if e.content_hash == new.content_hash:
            return Decision("MERGE", e.key, reason="same text as an existing memory")
    # SUPERSEDE before near-duplicate MERGE: "I live in Berlin" and "I live in Paris" are
    # close in embedding space but different values of one slot.
    new_slots = dict(new.slots)
    # Several allergies or pets at once are no update of each other; "St. Mary's" and
    # "St Mary's" are one value.
    single = {n: _norm(v) for n, v in new.slots if not is_multi_valued(n)}
    replaced = tuple(
        sorted(
            {
                e.key
                for e in existing
                if e.current
                for name, value in e.slots
                if name in single and single[name] != _norm(value)
            }
        )
    )
    if replaced:
        names = sorted(
            {n for e in existing if e.key in replaced for n, _ in e.slots if n in new_slots}
        )
        return Decision(
            "SUPERSEDE",
            replaced[0],
            reason=f"new value for {', '.join(names)}",
            superseded=replaced,
        )
    # merge_similarity > 1 turns merging off; below it, a restatement merges from 0.8.
    merge_floor = min(RESTATE_SIMILARITY, merge_similarity) + (merge_similarity > 1)
    # Below both thresholds neither branch can fire: the text comparison is skipped (it was
    # a fifth of an add's CPU time, run against every earlier message of the same request).
    floor = min(merge_floor, UPDATE_SIMILARITY)
    for e in sorted(current, key=lambda e: -e.similarity):
        if e.role != new.role:
            continue
        if e.content is None:
            if e.similarity >= merge_similarity:
                return Decision("MERGE", e.key, reason=f"near-duplicate ({e.similarity:.3f})")
            # The same value of the same slot, said a little differently ("I live in Berlin" /
            # "Berlin is where I live now"): one memory, reinforced.
            same = [n for n, v in e.slots if new_slots.get(n) == v]
            if same and e.similarity >= RESTATE_SIMILARITY:
                return Decision("MERGE", e.key, reason=f"restates {', '.join(same)}")
            continue
        if e.similarity < floor:
            continue
        rel = relation(new.content, e.content)
        if rel == SAME and e.similarity >= merge_floor:
            return Decision("MERGE", e.key, reason=f"adds nothing (cosine {e.similarity:.3f})")
        if rel == UPDATE and e.similarity >= UPDATE_SIMILARITY:
            return Decision(
                "SUPERSEDE",
                e.key,
                reason=f"newer value of the same subject (cosine {e.similarity:.3f})",
                superseded=(e.key,),
            )
    return Decision("ADD", reason="new memory")
