"""People a question names: capitalised words that are not sentence-initial, not a
stopword and not an all-caps acronym ("What did Caroline research?" → ["Caroline"];
"What did I buy?" → []). Possessives are reduced ("Melanie's" → "Melanie")."""

from __future__ import annotations

import re
from collections.abc import Iterable

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


def without_names(text: str, names: Iterable[str]) -> str:
    """`text` with each of `names` (and its possessive) taken out, spaces tidied; `text`
    itself when nothing but stopwords would be left ("Caroline?" stays as it is)."""
    out = text
    for name in names:
        out = re.sub(rf"(?<!\w){re.escape(name)}(?:['’]s?)?(?!\w)", " ", out)
    out = " ".join(out.split())
    if not any(w.lower() not in STOPWORDS for w in _WORD.findall(out)):
        return text
    return out
