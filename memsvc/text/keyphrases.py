"""Statistical keyphrases (RAKE/YAKE-inspired) and an optional embedding-based MMR rerank.

``extract_keyphrases`` (no model):
1. Candidates are runs of content words between stop/filler words, punctuation and sentence
   ends (RAKE, Rose et al. 2010), at most four words (longer runs are cut into chunks of
   three). Proper-noun chains may span a few particles ("Ticket to Ride", "Bank of America")
   and quoted titles ('The Nightingale') are candidates as a whole, up to eight words.
2. Word score = degree / frequency over all candidates (RAKE); a phrase scores the mean of
   its word scores times a length bonus, times bonuses for proper nouns and quoted titles
   (YAKE's casing feature), numbers with a unit or currency ("$420", "16GB", "132 points"),
   repetition, and an early first occurrence (YAKE's position feature).
3. Best first; a phrase is dropped when its words are contained in a better one, and
   plural/singular variants collapse (compared through ``tokenize.stem``).
Output is lowercase unless the phrase is a proper noun or a title. English stop words; other
scripts pass through as plain candidates.

``keyphrases(text, k, method)`` picks the extractor by the ``ingest.keyphrases`` setting:
``"builtin"`` (above) or ``"yake"``, the maintained YAKE! package (Campos et al. 2020, the
optional ``yake`` dependency), filtered and deduplicated like the built-in one. The built-in
extractor stays the default until YAKE does as well on the dev suites: it knows what YAKE
does not (speaker role words, quoted titles, proper-noun chains across "of"/"to", amounts
with units).

``rerank_keyphrases``: KeyBERT-style Maximal Marginal Relevance (Carbonell & Goldstein 1998)
with an injected embedding function, to pick relevant and mutually different phrases.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from memsvc.text._timewords import MONTHS, WEEKDAYS
from memsvc.text.stopwords import FILLER, STOPWORDS
from memsvc.text.tags import ROLE_WORDS, make_tags
from memsvc.text.tokenize import sentence_spans, stem

__all__ = [
    "KeyphraseMethod",
    "extract_keyphrases",
    "extract_keyphrases_yake",
    "keyphrases",
    "make_tags",
    "rerank_keyphrases",
]

KeyphraseMethod = Literal["builtin", "yake"]

_TOKEN = re.compile(r"[$£€]?\w(?:[\w'’&.-]*\w)?%?|\S")
# Standalone quote tokens (an apostrophe inside a word stays part of the word).
_QUOTE_CHARS = frozenset("\"“”'‘’")
# Lowercase words allowed inside a proper-noun chain ("Bank of America", "Ticket to Ride").
_JOINERS = frozenset({"of", "the", "&", "de", "du", "da", "to", "for"})
_CALENDAR = frozenset(MONTHS) | frozenset(WEEKDAYS)  # never joined into a name
_UNIT_NUMBER = re.compile(r"^[$£€]\d|^\d[\d.,]*(?:%|[a-zA-Z]{1,3})$")
_PLAIN_NUMBER = re.compile(r"^\d[\d.,:/]*$")
_MAX_WORDS = 4
_MAX_PROPER_WORDS = 8


@dataclass
class _Tok:
    text: str  # surface form, possessive removed
    low: str
    cap: bool  # capitalised (or an acronym / mixed case like "iPhone")
    initial: bool  # first word of its sentence
    word: bool  # a word or number (not punctuation)


def _tokens(text: str) -> list[list[_Tok]]:
    out: list[list[_Tok]] = []
    for a, b in sentence_spans(text):
        sent: list[_Tok] = []
        for m in _TOKEN.finditer(text, a, b):
            t = m.group(0).replace("’", "'")
            if t.endswith("'s") and len(t) > 2:
                t = t[:-2]
            t = t.rstrip(".")
            if not t:
                continue
            is_word = t[0].isalnum() or t[0] in "$£€"
            cap = is_word and (t[0].isupper() or any(c.isupper() for c in t[1:]))
            sent.append(_Tok(t, t.lower(), cap, not sent, is_word))
        out.append(sent)
    return out


def _is_content(tok: _Tok, proper_seen: set[str]) -> bool:
    if not tok.word or tok.text == "I" or tok.low in ROLE_WORDS:
        return False
    if tok.low not in FILLER:
        return True
    # A capitalised filler word mid-sentence is part of a name ("New York", "Great Lakes").
    return tok.cap and not tok.initial and tok.low not in STOPWORDS


def _is_proper(tok: _Tok, proper_seen: set[str]) -> bool:
    if not tok.cap or not tok.word or tok.low in STOPWORDS or tok.low in ROLE_WORDS:
        return False
    return not tok.initial or tok.low in proper_seen


def _candidates(sents: list[list[_Tok]]) -> list[tuple[list[_Tok], bool, bool]]:
    """(tokens, proper, quoted) candidates in text order."""
    proper_seen = {t.low for s in sents for t in s if t.cap and not t.initial and t.text != "I"}
    out: list[tuple[list[_Tok], bool, bool]] = []
    for sent in sents:
        i, n = 0, len(sent)
        while i < n:
            tok = sent[i]
            if tok.text in _QUOTE_CHARS:  # a quoted title
                j = i + 1
                while j < n and sent[j].text not in _QUOTE_CHARS and j - i <= _MAX_PROPER_WORDS:
                    j += 1
                inner = [t for t in sent[i + 1 : j] if t.word]
                if j < n and 0 < len(inner) <= _MAX_PROPER_WORDS:
                    out.append((inner, True, True))
                    i = j + 1
                    continue
                i += 1
                continue
            if _is_proper(tok, proper_seen) or (
                tok.low == "the" and i + 1 < n and _is_proper(sent[i + 1], proper_seen)
            ):
                j = i + 1
                while j < n:
                    if _is_proper(sent[j], proper_seen):
                        j += 1
                    elif (
                        sent[j].low in _JOINERS
                        and j + 1 < n
                        and _is_proper(sent[j + 1], proper_seen)
                        and sent[j + 1].low not in _CALENDAR
                    ):
                        j += 2
                    else:
                        break
                chain = sent[i:j]
                if chain[0].low == "the":
                    chain = chain[1:]
                if chain and len(chain) <= _MAX_PROPER_WORDS:
                    out.append((chain, True, False))
                    i = j
                    continue
            if not _is_content(tok, proper_seen):
                i += 1
                continue
            j = i
            while (
                j < n and _is_content(sent[j], proper_seen) and not _is_proper(sent[j], proper_seen)
            ):
                j += 1
            run = sent[i:j] or [tok]
            i = max(j, i + 1)
            while len(run) > 1 and run[0].low.endswith("ed"):
                run = run[1:]  # "earned $420" → "$420": a leading past-tense verb
            chunks = (
                [run] if len(run) <= _MAX_WORDS else [run[k : k + 3] for k in range(0, len(run), 3)]
            )
            out.extend((c, False, False) for c in chunks)
    return out


def _keep(words: list[_Tok], proper: bool) -> bool:
    if all(t.low in STOPWORDS for t in words):
        return False  # a quoted '"I" statements' or '"the"'
    if proper:
        return True
    if len(words) == 1:
        w = words[0].low
        # Lone numbers, tiny words, adverbs and past participles are rarely topical.
        if _PLAIN_NUMBER.match(w) or len(w) <= 2 or w.endswith(("ly", "ed")):
            return False
    return not all(_PLAIN_NUMBER.match(t.low) for t in words)


def extract_keyphrases(text: str, k: int = 8) -> list[str]:
    """Up to ``k`` keyphrases of ``text``, best first (see the module docstring)."""
    if k <= 0 or not text or not text.strip():
        return []
    sents = _tokens(text)
    n_tokens = max(1, sum(len(s) for s in sents))
    cands = [c for c in _candidates(sents) if _keep(c[0], c[1])]
    if not cands:
        return []
    freq: Counter[str] = Counter()
    degree: Counter[str] = Counter()
    for words, _, _ in cands:
        for t in words:
            freq[stem(t.low)] += 1
            degree[stem(t.low)] += len(words)
    # Aggregate repeated phrases: key = stems; keep the first surface form and position.
    phrases: dict[tuple[str, ...], dict[str, float | str | bool]] = {}
    position = 0
    for words, proper, quoted in cands:
        key = tuple(stem(t.low) for t in words)
        position += 1
        entry = phrases.get(key)
        if entry is None:
            surface = " ".join(t.text for t in words) if proper else " ".join(t.low for t in words)
            phrases[key] = {
                "surface": surface,
                "count": 1.0,
                "first": float(position),
                "proper": proper,
                "quoted": quoted,
            }
        else:
            entry["count"] = float(entry["count"]) + 1.0
    n_cands = float(position)
    scored: list[tuple[float, int, tuple[str, ...], str]] = []
    for idx, (key, e) in enumerate(phrases.items()):
        word_scores = [degree[w] / freq[w] for w in key]
        s = sum(word_scores) / len(key) * (1.0 + 0.35 * (len(key) - 1))
        s *= 1.0 + 0.5 * math.log(float(e["count"]))
        if e["proper"]:
            s *= 1.8
        if e["quoted"]:
            s *= 1.3
        surface = str(e["surface"])
        if any(_UNIT_NUMBER.match(t) for t in surface.split()):
            s *= 1.5
        s *= 1.0 + 0.3 * (1.0 - float(e["first"]) / n_cands)
        s *= 1.0 + 0.2 * min(1.0, sum(freq[w] for w in key) / n_tokens * 10)
        scored.append((-s, idx, key, surface))
    scored.sort()
    chosen: list[tuple[str, ...]] = []
    out: list[str] = []
    for _, _, key, surface in scored:
        keyset = set(key)
        if any(keyset <= set(c) for c in chosen):
            continue  # a sub-phrase (or plural variant) of a better phrase
        chosen.append(key)
        out.append(surface)
        if len(out) == k:
            break
    return out


def keyphrases(text: str, k: int = 8, method: KeyphraseMethod = "builtin") -> list[str]:
    """Up to ``k`` keyphrases of ``text`` by ``method`` (the ``ingest.keyphrases`` setting)."""
    if method == "yake":
        return extract_keyphrases_yake(text, k)
    if method == "builtin":
        return extract_keyphrases(text, k)
    raise ValueError(f"unknown keyphrase method {method!r}")


_YAKE_MAX_WORDS = 3
_yake_local = threading.local()


def _yake_extractor() -> Any:
    """This thread's YAKE extractor (constructed once per thread: it is cheap, but its
    ``extract_keywords`` is not documented as thread-safe)."""
    kx = getattr(_yake_local, "extractor", None)
    if kx is None:
        try:
            import yake  # type: ignore[import-untyped]
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "ingest.keyphrases = 'yake' needs the yake package: pip install 'memsvc[yake]'"
            ) from exc
        kx = _yake_local.extractor = yake.KeywordExtractor(
            lan="en", n=_YAKE_MAX_WORDS, dedup_lim=0.9, top=40
        )
    return kx


def extract_keyphrases_yake(text: str, k: int = 8) -> list[str]:
    """Up to ``k`` keyphrases of ``text`` by YAKE (lower score first), then the built-in
    extractor's output rules: no speaker role words, no phrase of stop/filler words or of
    numbers alone, lowercase unless every word is capitalised, and a phrase whose stems are
    contained in a better one's dropped."""
    if k <= 0 or not text or not text.strip():
        return []
    ranked = sorted(_yake_extractor().extract_keywords(text), key=lambda kv: float(kv[1]))
    chosen: list[set[str]] = []
    out: list[str] = []
    for phrase, _ in ranked:
        ws = [w.strip("\"'“”‘’.,!?:;()") for w in str(phrase).split()]
        ws = [w for w in ws if w]
        lows = [w.lower() for w in ws]
        if not ws or any(w in ROLE_WORDS for w in lows):
            continue
        if all(w in STOPWORDS or w in FILLER or _PLAIN_NUMBER.match(w) for w in lows):
            continue
        if len(ws) == 1 and (len(lows[0]) <= 2 or lows[0].endswith("ly")):
            continue  # as the built-in extractor: tiny words and adverbs are rarely topical
        key = {stem(w) for w in lows}
        if any(key <= c for c in chosen):
            continue
        chosen.append(key)
        proper = all(w[:1].isupper() or not w[:1].isalpha() for w in ws)
        out.append(" ".join(ws) if proper else " ".join(lows))
        if len(out) == k:
            break
    return out


def rerank_keyphrases(
    text: str,
    candidates: list[str],
    embed: Callable[[list[str]], np.ndarray],
    k: int = 5,
    diversity: float = 0.5,
) -> list[str]:
    """Pick ``k`` of ``candidates`` by MMR: relevance to ``text`` minus ``diversity`` times the
    similarity to phrases already picked. ``embed`` maps strings to unit row vectors (rows are
    re-normalised here, so any embedder works). Deterministic: ties go to the earlier candidate.
    """
    if not 0.0 <= diversity <= 1.0:
        raise ValueError("diversity must be in [0, 1]")
    cands = list(dict.fromkeys(c for c in candidates if c))
    if k <= 0 or not cands:
        return []
    vecs = np.asarray(embed([text, *cands]), dtype=np.float64)
    if vecs.ndim != 2 or vecs.shape[0] != len(cands) + 1:
        raise ValueError(f"embed returned shape {vecs.shape}, expected ({len(cands) + 1}, dim)")
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs = vecs / np.where(norms > 0, norms, 1.0)
    relevance = vecs[1:] @ vecs[0]
    pairwise = vecs[1:] @ vecs[1:].T
    picked = [int(np.argmax(relevance))]
    while len(picked) < min(k, len(cands)):
        redundancy = pairwise[:, picked].max(axis=1)
        mmr = (1.0 - diversity) * relevance - diversity * redundancy
        mmr[picked] = -np.inf
        picked.append(int(np.argmax(mmr)))
    return [cands[i] for i in picked]
