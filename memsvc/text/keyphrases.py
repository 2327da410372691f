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
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
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


@dataclass(frozen=True, slots=True)
class _Tok:
    """A token and what the extractor asks of it, all fixed by its text and `initial`: one
    object per distinct (token, initial) is made and shared (`_tok_pair`), so a text's
    tokens cost a cache lookup each, not a dozen string operations."""

    text: str  # surface form, possessive removed
    low: str
    cap: bool  # capitalised (or an acronym / mixed case like "iPhone")
    initial: bool  # first word of its sentence
    word: bool  # a word or number (not punctuation)
    stem: str  # tokenize.stem(low): what phrases are counted and compared by
    stop: bool  # a stop word
    number: bool  # a plain number ("2023", "3.5")
    quote: bool  # a standalone quote character
    content: bool  # may be part of a candidate (not punctuation, "I", filler or a role word)
    proper: bool  # may be part of a proper-noun chain (if not initial, or seen mid-sentence)
    lone: bool  # a candidate alone (not a stop word, number, tiny word, adverb or participle)
    unit: bool  # a number with a unit or currency ("$420", "16GB"), as written
    unit_low: bool  # the same, lowercased


def _make_tok(t: str, initial: bool) -> _Tok:
    low = t.lower()
    is_word = t[0].isalnum() or t[0] in "$£€"
    cap = is_word and (t[0].isupper() or any(c.isupper() for c in t[1:]))
    if not is_word or t == "I" or low in ROLE_WORDS:
        content = False
    elif low not in FILLER:
        content = True
    else:
        # A capitalised filler word mid-sentence is part of a name ("New York", "Great Lakes").
        content = cap and not initial and low not in STOPWORDS
    return _Tok(
        text=t,
        low=low,
        cap=cap,
        initial=initial,
        word=is_word,
        stem=stem(low),
        stop=low in STOPWORDS,
        number=_PLAIN_NUMBER.match(low) is not None,
        quote=t in _QUOTE_CHARS,
        content=content,
        proper=cap and is_word and low not in STOPWORDS and low not in ROLE_WORDS,
        # Lone numbers, tiny words, adverbs and past participles are rarely topical.
        lone=low not in STOPWORDS
        and _PLAIN_NUMBER.match(low) is None
        and len(low) > 2
        and not low.endswith(("ly", "ed")),
        unit=_UNIT_NUMBER.match(t) is not None,
        unit_low=_UNIT_NUMBER.match(low) is not None,
    )


# 16,384 distinct tokens: 2.3 % of a chat corpus' tokens missed (2.0 % with no limit).
@lru_cache(maxsize=1 << 14)
def _tok_pair(raw: str) -> tuple[_Tok, _Tok] | None:
    """The token `raw` (a match of `_TOKEN`) mid-sentence and sentence-initial; None when
    nothing is left of it (a lone "." or "'s")."""
    t = raw.replace("’", "'")
    if t.endswith("'s") and len(t) > 2:
        t = t[:-2]
    t = t.rstrip(".")
    if not t:
        return None
    return _make_tok(t, False), _make_tok(t, True)


def _tokens(text: str, spans: list[tuple[int, int]]) -> list[list[_Tok]]:
    out: list[list[_Tok]] = []
    for a, b in spans:
        pairs = [p for p in map(_tok_pair, _TOKEN.findall(text, a, b)) if p is not None]
        sent = [p[0] for p in pairs]
        if sent:
            sent[0] = pairs[0][1]
        out.append(sent)
    return out


def _candidates(sents: list[list[_Tok]]) -> list[tuple[list[_Tok], bool, bool]]:
    """(tokens, proper, quoted) candidates in text order."""
    proper_seen = {t.low for s in sents for t in s if t.cap and not t.initial and t.text != "I"}
    out: list[tuple[list[_Tok], bool, bool]] = []
    for sent in sents:
        i, n = 0, len(sent)
        # A sentence's first word is capitalised anyway: a name only if seen mid-sentence too.
        prop = [t.proper and (not t.initial or t.low in proper_seen) for t in sent]
        while i < n:
            tok = sent[i]
            if tok.quote:  # a quoted title
                j = i + 1
                while j < n and not sent[j].quote and j - i <= _MAX_PROPER_WORDS:
                    j += 1
                inner = [t for t in sent[i + 1 : j] if t.word]
                if j < n and 0 < len(inner) <= _MAX_PROPER_WORDS:
                    out.append((inner, True, True))
                    i = j + 1
                    continue
                i += 1
                continue
            if prop[i] or (tok.low == "the" and i + 1 < n and prop[i + 1]):
                j = i + 1
                while j < n:
                    if prop[j]:
                        j += 1
                    elif (
                        sent[j].low in _JOINERS
                        and j + 1 < n
                        and prop[j + 1]
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
            if not tok.content:
                i += 1
                continue
            j = i
            while j < n and sent[j].content and not prop[j]:
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
    if proper:
        return not all(t.stop for t in words)  # a quoted '"I" statements' or '"the"'
    if len(words) == 1:
        return words[0].lone
    return not all(t.stop for t in words) and not all(t.number for t in words)


def extract_keyphrases(
    text: str, k: int = 8, *, spans: list[tuple[int, int]] | None = None
) -> list[str]:
    """Up to ``k`` keyphrases of ``text``, best first (see the module docstring). ``spans``:
    ``sentence_spans(text)`` when the caller has them already."""
    if k <= 0 or not text or not text.strip():
        return []
    sents = _tokens(text, sentence_spans(text) if spans is None else spans)
    n_tokens = max(1, sum(len(s) for s in sents))
    cands = [c for c in _candidates(sents) if _keep(c[0], c[1])]
    if not cands:
        return []
    freq: dict[str, int] = {}
    degree: dict[str, int] = {}
    for words, _, _ in cands:
        n = len(words)
        for t in words:
            freq[t.stem] = freq.get(t.stem, 0) + 1
            degree[t.stem] = degree.get(t.stem, 0) + n
    ratio = {w: degree[w] / f for w, f in freq.items()}  # RAKE's word score
    # Aggregate repeated phrases: key = stems; keep the first occurrence (its surface form and
    # position) and count them.
    first: dict[tuple[str, ...], tuple[int, list[_Tok], bool, bool]] = {}
    count: dict[tuple[str, ...], int] = {}
    for position, (words, proper, quoted) in enumerate(cands, 1):
        key = tuple(t.stem for t in words)
        if key in count:
            count[key] += 1
        else:
            count[key] = 1
            first[key] = (position, words, proper, quoted)
    n_cands = float(len(cands))
    scored: list[tuple[float, int, tuple[str, ...]]] = []
    for idx, (key, c) in enumerate(count.items()):
        position, words, proper, quoted = first[key]
        # The factors and their order are the score's definition: floats, kept bit for bit
        # (a factor of 1.0, as log(1) gives, changes no bit and is left out).
        s = sum([ratio[w] for w in key]) / len(key) * (1.0 + 0.35 * (len(key) - 1))
        if c > 1:
            s *= 1.0 + 0.5 * math.log(float(c))
        if proper:
            s *= 1.8
        if quoted:
            s *= 1.3
        # A token holds no whitespace: the surface's words are its tokens' forms.
        if any(t.unit for t in words) if proper else any(t.unit_low for t in words):
            s *= 1.5
        s *= 1.0 + 0.3 * (1.0 - float(position) / n_cands)
        s *= 1.0 + 0.2 * min(1.0, sum([freq[w] for w in key]) / n_tokens * 10)
        scored.append((-s, idx, key))
    scored.sort()
    chosen: list[tuple[str, ...]] = []
    out: list[str] = []
    for _, _, key in scored:
        keyset = set(key)
        if any(keyset <= set(c) for c in chosen):
            continue  # a sub-phrase (or plural variant) of a better phrase
        chosen.append(key)
        _, words, proper, _ = first[key]
        out.append(" ".join(t.text for t in words) if proper else " ".join(t.low for t in words))
        if len(out) == k:
            break
    return out


def keyphrases(
    text: str,
    k: int = 8,
    method: KeyphraseMethod = "builtin",
    *,
    spans: list[tuple[int, int]] | None = None,
) -> list[str]:
    """Up to ``k`` keyphrases of ``text`` by ``method`` (the ``ingest.keyphrases`` setting);
    ``spans`` as in ``extract_keyphrases``."""
    if method == "yake":
        return extract_keyphrases_yake(text, k)
    if method == "builtin":
        return extract_keyphrases(text, k, spans=spans)
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
