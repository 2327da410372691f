"""Recall's freshness stage: among the first hits, a newer note that updates an older one
ranked above it moves just above it.

Ingest supersedes a changed value when a short statement says it (`memsvc.ops.compare`);
long turns ("...I've had Luna for about 9 months now, and I've been trying to...") carry the
update in one of many sentences and stay two current notes. Here, where a question has
already brought both up, a sentence of the newer note that `compare.relation` reads as an
UPDATE of a sentence of the older one puts the newer first. Nothing is hidden or dropped:
both stay in the hits, only their order changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from memsvc.db.models import Note
from memsvc.ops.compare import UPDATE, relation, speaker
from memsvc.services.ranking import Candidate
from memsvc.text.tokenize import sentences

# Only the first hits are compared: the ones an answer is read from.
WINDOW = 5
# Sentences per note compared (pairs grow with the square).
MAX_SENTENCES = 12


# Clauses joined by a conjunction state separate facts ("I've had Luna for 9 months now,
# and I've been trying to ..."): each is compared on its own.
_CLAUSE = re.compile(r",?\s+(?:and|but|so|while|although|though)\s+(?=I\b|I'|we\b|my\b)|;\s+", re.I)


@lru_cache(maxsize=2048)
def _sentences(text: str) -> tuple[str, ...]:
    clauses = (c.strip() for s in sentences(text) for c in _CLAUSE.split(s))
    return tuple(c for c in clauses if len(c.split()) >= 3)[:MAX_SENTENCES]


@lru_cache(maxsize=8192)
def updates(new_text: str, old_text: str) -> bool:
    """Whether a sentence of `new_text` gives a newer value of a sentence of `old_text`.
    Cached by the pair: the same notes come up for related questions, and the pairwise
    sentence comparison was a quarter of a search's CPU time (cProfile, 300 searches)."""
    olds = _sentences(old_text)
    return any(relation(n, o) == UPDATE for n in _sentences(new_text) for o in olds)


def newer_first(
    top: list[Candidate], rows: Mapping[int, Note], window: int = WINDOW
) -> list[Candidate]:
    """`top` reordered: each of the first `window` hits that updates an older, higher-ranked
    hit of the same speaker moves just above the highest such hit."""
    order = list(top)
    for j in range(1, min(window, len(order))):
        new = rows[order[j].note.pk]
        for i in range(j):
            old = rows[order[i].note.pk]
            if (
                new.role == old.role
                and speaker(new.content)[0] == speaker(old.content)[0]
                and new.event_time > old.event_time
                and updates(new.content, old.content)
            ):
                order.insert(i, order.pop(j))
                break
    return order
