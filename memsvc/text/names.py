"""People a question names: capitalised words that are not sentence-initial, not a
stopword and not an all-caps acronym ("What did Caroline research?" → ["Caroline"];
"What did I buy?" → []). Possessives are reduced ("Melanie's" → "Melanie")."""

from __future__ import annotations

import re

from memsvc.text.stopwords import STOPWORDS

_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s?$")
_SENTENCE_END = re.compile(r"[.!?]\s*$")
MAX_NAMES = 4


def named_people(text: str) -> list[str]:
    """Distinct capitalised names in `text`, in order, at most MAX_NAMES."""
    out: list[str] = []
    for m in _WORD.finditer(text):
        word = _POSSESSIVE.sub("", m.group())
        before = text[: m.start()]
        if not before.strip() or _SENTENCE_END.search(before):
            continue  # a sentence's first word is capitalised anyway
        if len(word) < 2 or not word[0].isupper() or word.isupper():
            continue
        if word.lower() in STOPWORDS or word in out:
            continue
        out.append(word)
    return out[:MAX_NAMES]
