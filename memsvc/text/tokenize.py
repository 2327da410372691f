"""Tokenisation for lexical retrieval and the offline heuristics (English).

- ``words``: lowercased word tokens. Numbers are kept (``2,000`` → ``2000``, ``3.5`` stays);
  contractions stay whole (``don't``), possessives lose their ``'s`` (``Luna's`` → ``luna``);
  hyphenated compounds stay whole (``t-shirt``, ``covid-19``). CJK characters become one token
  each, so Chinese or Japanese text degrades to character unigrams instead of one giant token.
- ``stem``: Porter's stemmer (Snowball's ``porter``, the algorithm of SQLite FTS5's ``porter``
  tokenizer; see its docstring); both sides of a match go through it.
- ``terms``: what BM25 and keyword overlap use: words split at hyphens, minus stop words, stemmed.
- ``sentences``: a splitter that survives abbreviations, initials, decimals, URLs, bullet lists
  and markdown emphasis.

``words`` and ``sentences`` stay hand-written: their rules are this project's (numbers,
possessives and CJK unigrams; every line or list item a sentence, offsets into the original
text), which no tokenizer library implements as a whole (segtok splits neither at bullets nor
at line ends and gives no offsets; NLTK's punkt needs a trained model).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import lru_cache
from itertools import chain
from typing import Protocol, cast

import snowballstemmer  # type: ignore[import-untyped]

from memsvc.text.stopwords import STOPWORDS

__all__ = [
    "STOPWORDS",
    "gate_words",
    "lexical_parts",
    "lexical_pieces",
    "may_match",
    "sentence_spans",
    "sentences",
    "stem",
    "terms",
    "words",
]

_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_L = rf"[^\W_{_CJK}]"  # a word character that is not CJK
_TOKEN_PATTERN = (
    rf"(?P<grouped>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?)"  # 2,000 or 1,250.50
    rf"|(?P<decimal>\d+\.\d+)"
    rf"|(?P<word>{_L}+(?:['’]{_L}+)*(?:-{_L}+(?:['’]{_L}+)*)*)"
    rf"|(?P<cjk>[{_CJK}])"
)
_TOKEN = re.compile(_TOKEN_PATTERN)
# The same tokens as strings, for `findall` (no match object per token); groups change no match.
_TOKEN_TEXT = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _TOKEN_PATTERN))


def words(text: str) -> list[str]:
    """Lowercased word tokens of ``text`` (see the module docstring for the rules)."""
    return list(map(_word, _TOKEN_TEXT.findall(text)))


@lru_cache(maxsize=1 << 15)
def _word(tok: str) -> str:
    """The word of token ``tok``, a match of ``_TOKEN``: a pure function of the token, so
    each distinct one is worked out once. Its kind is what ``_TOKEN`` says of it alone: the
    alternatives it failed where it stood fail on any prefix of what followed (no lookahead)."""
    m = _TOKEN.match(tok)
    kind = m.lastgroup if m is not None else None
    if kind == "grouped":
        return tok.replace(",", "")
    if kind != "word":
        return tok
    tok = tok.lower().replace("’", "'")
    if tok.endswith("'s") and tok not in STOPWORDS:
        tok = tok[:-2]  # possessive: "luna's" → "luna"; "it's" stays (a stop word)
    return tok


# FTS5's porter tokenizer passes tokens shorter than 3 or longer than 64 bytes through unstemmed
# (FTS5_PORTER_MAX_TOKEN in SQLite's fts5_tokenize.c); ``stem`` does the same.
_MIN_STEM, _MAX_STEM = 3, 64
_local = threading.local()


class _Stemmer(Protocol):
    def stemWord(self, word: str) -> str: ...  # Snowball's method name


def _porter() -> _Stemmer:
    """This thread's Porter stemmer: a Snowball stemmer object keeps its state between calls
    (the pure-Python one in attributes, PyStemmer's in a C struct), so threads never share one."""
    st = getattr(_local, "porter", None)
    if st is None:
        st = _local.porter = snowballstemmer.stemmer("porter")
    return cast("_Stemmer", st)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Porter's stemmer (Porter 1980, Snowball's ``porter``), lowercased: the algorithm SQLite
    FTS5's ``porter`` tokenizer applies to the lexical index, so Python-side matches (tags,
    keyphrase dedup, note comparison, the BM25 baseline) merge the words FTS5 merges.

    Like FTS5 it leaves words shorter than 3 or longer than 64 characters alone; words with
    digits or non-ASCII letters are returned lowercased, unstemmed (Porter's rules are for
    English letters). Snowball's porter is the published algorithm, and FTS5 follows Porter's
    C reference implementation, which departs from it in three rules: ``-bli``→``-ble`` and
    ``-logi``→``-log`` in step 2 ("possibly", "technology") and the undoubling of any double
    consonant in step 1b (Snowball lists bb dd ff gg mm nn pp rr tt: "trekking"). About one
    word in 700 of real chat text hits them (tests/text/test_stem_agreement.py pins the
    agreement). On PostgreSQL the full-text index and its queries use the ``memsvc_porter``
    configuration (migration 0011: Snowball's ``porter`` dictionary, this exact stemmer,
    instead of ``english``, which is Porter2; tests/db/test_fulltext_porter.py). PostgreSQL
    also stems words of two letters ("us" → "u"), which only matters between PostgreSQL's
    own query and document sides, and those agree.
    """
    w = word.lower()
    if not _MIN_STEM <= len(w) <= _MAX_STEM or not w.isascii() or not w.isalpha():
        return w
    return _porter().stemWord(w)


_NOT_ASCII_ALNUM = re.compile(r"[^0-9a-z]+")
_ASCII_ALNUM = re.compile(r"[0-9a-z]+")
_DIGIT_MARK_DIGIT = re.compile(r"\d[.,]\d")


def lexical_pieces(text: str) -> list[str]:
    """Every word of ``text`` as its [0-9a-z] pieces ("e-mail's" → "e", "mail", "s"), in
    order, stop words and single characters included: what SQLite's full-text index holds of
    a note (`memsvc.db.fulltext_terms`, stemmed), so its length is the note's length in
    pieces; every `lexical_parts` piece of the same text is among them
    (`tests/db/test_fulltext_tenants.py` draws any text).

    A note's pieces are made in every write of it (before SQLite's write lock for a new note,
    under it for an edited one), and going through `words` took four times as long (1.2 ms
    for a note of 3,000 characters) as one regular expression over the lowercased text,
    which finds the same pieces (and the "s" of a possessive) unless a number with a comma
    or a point occurs ("2,000" is one number for `words`, "0.5kg" two tokens)."""
    low = text.lower()
    if _DIGIT_MARK_DIGIT.search(low) is None:
        return _ASCII_ALNUM.findall(low)
    return [part for w in words(text) for part in _NOT_ASCII_ALNUM.split(w) if part]


def lexical_parts(text: str) -> Iterator[str]:
    """The pieces of `lexical_pieces` a query searches for: stop words (whole or split) and
    single characters left out. Every one of them is a piece of the same text, so a note is
    found by each of its content words."""
    for w in words(text):
        if w in STOPWORDS:
            continue
        for part in _NOT_ASCII_ALNUM.split(w):
            if len(part) > 1 and part not in STOPWORDS:
                yield part


def terms(text: str) -> list[str]:
    """Index/query terms: words split at hyphens, stop words and lone letters removed, stemmed."""
    return list(chain.from_iterable(map(_token_terms, _TOKEN_TEXT.findall(text))))


@lru_cache(maxsize=1 << 15)
def _token_terms(tok: str) -> tuple[str, ...]:
    """The terms of one token (a match of ``_TOKEN``), worked out once per distinct token."""
    word = _word(tok)
    out: list[str] = []
    for part in word.split("-") if "-" in word else (word,):
        if part in STOPWORDS:
            continue
        if len(part) == 1 and part.isascii() and not part.isdigit():
            continue
        out.append(stem(part))
    return tuple(out)


_RUN = re.compile(r"\w+")
# What `re.IGNORECASE` matches to an ASCII letter but `str.lower` does not lower to it (İ, ı,
# ſ; İ also lowers to two characters). Checked over every code point: no other character
# changes length or word-ness when lowered, or matches an ASCII letter it does not lower to.
_CASE_ODD = ("\u0130", "\u0131", "\u017f")


def gate_words(text: str) -> frozenset[str] | None:
    """The lowercased ``\\w+`` runs of ``text``. A case-insensitive pattern every match of
    which holds one of a few words, each a run of its own ("i" of "I'm", "ll" of "we'll"),
    cannot match a text holding none of them: callers skip it there. None when ``text``
    holds İ, ı or ſ, which such a pattern reads as ASCII letters that lowering does not
    give: no gate then (tests/text/test_gates.py checks this over every code point)."""
    if any(c in text for c in _CASE_ODD):
        return None
    return frozenset(_RUN.findall(text.lower()))


def may_match(words: frozenset[str] | None, gate: frozenset[str]) -> bool:
    """Whether a pattern each match of which holds one of the words ``gate`` may match a text
    whose ``gate_words`` are ``words`` (None: it may)."""
    return words is None or not words.isdisjoint(gate)


# --- sentences ------------------------------------------------------------------------------

_ABBREV_WORDS = """
mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf approx dept est inc ltd co corp jan
feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
no nos vol fig p pp ca min max avg govt univ ave blvd rd a.m p.m u.s u.k
"""
_ABBREV = frozenset(_ABBREV_WORDS.split())
_BULLET = re.compile(r"\s*(?:[-*•·▪●◦‣>]+|#{1,6}|\d{1,3}[.)]|[a-zA-Z][)])\s+")
_EMPHASIS = re.compile(r"\*\*|__")
_LINE = re.compile(r"[^\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
_CJK_PIECE = re.compile(r"[^。！？]+[。！？]*|[。！？]+")
# A sentence end: terminal punctuation, optional closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_NON_SPACE = re.compile(r"\S")
_DOTTED = re.compile(r"(?:[a-z]\.)+[a-z]")


def _is_abbreviation(before: str) -> bool:
    """Whether the text right before a period ends in an abbreviation or an initial."""
    if not before or before[-1].isspace():
        return False  # no word right before it
    # Its last word (what `(\S+)$` finds, by a split instead of a scan: a block has no "\n").
    tok = before.rsplit(None, 1)[-1].lstrip("(\"'“‘[").lower()
    if tok in _ABBREV:
        return True
    if len(tok) == 1 and tok.isalpha():
        return True  # an initial: "J. K. Rowling"
    return _DOTTED.fullmatch(tok) is not None  # "u.s" of "U.S."


def _block_ends(block: str) -> list[int]:
    """Offsets in ``block`` where a sentence ends (the last one is ``len(block)``)."""
    ends: list[int] = []
    start = 0
    for m in _END.finditer(block):
        end = m.end()
        following = _NON_SPACE.search(block, end)  # the next word's first character
        if following is None:
            break
        nxt = following.group()
        punct = m.group(0).rstrip("\"'”’)]")
        if punct != m.group(0) and nxt.islower():
            continue  # '"Go!" she said': the quote ends, the sentence goes on
        if punct[0] in ".…":
            if punct == "." and _is_abbreviation(block[start : m.start()]):
                continue
            # A period or an ellipsis before a lowercase word rarely ends a sentence.
            if nxt.islower():
                continue
        ends.append(end)
        start = end
    ends.append(len(block))
    return ends


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the sentences of ``text``, bullets and indentation excluded;
    each list item or non-empty line is at least one sentence."""
    out: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        lo = line.start()
        bullet = _BULLET.match(text, lo, line.end())
        if bullet:
            lo = bullet.end()
        for piece in _CJK_PIECE.finditer(text, lo, line.end()):
            p0 = piece.start()
            prev = 0
            for end in _block_ends(piece.group(0)):
                a, b = p0 + prev, p0 + end
                prev = end
                while a < b and text[a].isspace():
                    a += 1
                while b > a and text[b - 1].isspace():
                    b -= 1
                if a < b:
                    out.append((a, b))
    return out


def sentences(text: str, *, spans: list[tuple[int, int]] | None = None) -> list[str]:
    """Split ``text`` into sentences (markdown emphasis removed); see ``sentence_spans``.
    ``spans``: ``sentence_spans(text)`` when the caller has them already."""
    out: list[str] = []
    for a, b in sentence_spans(text) if spans is None else spans:
        sent = _EMPHASIS.sub("", text[a:b]).strip()
        if sent:
            out.append(sent)
    return out
