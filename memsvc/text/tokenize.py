"""Tokenisation for lexical retrieval and the offline heuristics (English).

- ``words``: lowercased word tokens. Numbers are kept (``2,000`` → ``2000``, ``3.5`` stays);
  contractions stay whole (``don't``), possessives lose their ``'s`` (``Luna's`` → ``luna``);
  hyphenated compounds stay whole (``t-shirt``, ``covid-19``). CJK characters become one token
  each, so Chinese or Japanese text degrades to character unigrams instead of one giant token.
- ``stem``: a light suffix stemmer (see its docstring); both sides of a match go through it,
  so consistency matters more than producing dictionary words.
- ``terms``: what BM25 and keyword overlap use: words split at hyphens, minus stop words, stemmed.
- ``sentences``: a splitter that survives abbreviations, initials, decimals, URLs, bullet lists
  and markdown emphasis.
"""

from __future__ import annotations

import re

from memsvc.text.stopwords import STOPWORDS

__all__ = ["STOPWORDS", "sentence_spans", "sentences", "stem", "terms", "words"]

_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_L = rf"[^\W_{_CJK}]"  # a word character that is not CJK
_TOKEN = re.compile(
    rf"(?P<grouped>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?)"  # 2,000 or 1,250.50
    rf"|(?P<decimal>\d+\.\d+)"
    rf"|(?P<word>{_L}+(?:['’]{_L}+)*(?:-{_L}+(?:['’]{_L}+)*)*)"
    rf"|(?P<cjk>[{_CJK}])"
)


def words(text: str) -> list[str]:
    """Lowercased word tokens of ``text`` (see the module docstring for the rules)."""
    out: list[str] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        tok = m.group(0)
        if kind == "grouped":
            out.append(tok.replace(",", ""))
            continue
        if kind != "word":
            out.append(tok)
            continue
        tok = tok.lower().replace("’", "'")
        if tok.endswith("'s") and tok not in STOPWORDS:
            tok = tok[:-2]  # possessive: "luna's" → "luna"; "it's" stays (a stop word)
        out.append(tok)
    return out


# Irregular plurals a suffix rule cannot reach; the values are then stemmed like any word.
_IRREGULAR = {
    "children": "child",
    "men": "man",
    "women": "woman",
    "feet": "foot",
    "teeth": "tooth",
    "mice": "mouse",
    "geese": "goose",
    "people": "person",
}
# Words ending in "s" that are not plurals (a wrong strip would merge "news" with "new").
_NOT_PLURAL_WORDS = """
news series species lens gas bias canvas atlas alias christmas texas kansas arkansas
physics mathematics economics politics ethics athletics gymnastics diabetes measles
chess always perhaps various thus yes
"""
_NOT_PLURAL = frozenset(_NOT_PLURAL_WORDS.split())
_VOWELS = frozenset("aeiouy")
_NO_UNDOUBLE = frozenset("lsz")


def _has_vowel(s: str) -> bool:
    return any(c in _VOWELS for c in s)


def stem(word: str) -> str:
    """Light suffix stemmer, in the spirit of Porter's step 1 (plurals, -ed, -ing) only.

    Rules, applied in order to lowercase alphabetic words longer than three letters:
    1. plurals: ``sses``→``ss``, ``ies``→``i``, ``(s|x|z|ch|sh)es``→drop ``es``, final ``s``
       dropped unless ``ss``/``us``/``is``;
    2. ``ied``→``i``; ``ing``/``ed`` dropped when at least three letters with a vowel remain
       (``eed`` is kept: "need", "speed"); then a doubled final consonant other than l/s/z
       is undoubled ("running"→"run");
    3. a final consonant+``y`` becomes ``i`` ("city"/"cities" → "citi");
    4. a final ``e`` is dropped ("hike"/"hiking" → "hik", "movie"/"movies" → "movi").
    Words with digits, short words and non-Latin words are returned unchanged.
    """
    w = word.lower()
    if w in _IRREGULAR:
        w = _IRREGULAR[w]
    if len(w) <= 3 or not w.isalpha() or not w.isascii() or w in _NOT_PLURAL:
        return w
    # 1. plurals
    if w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ies"):
        w = w[:-2] if len(w) <= 4 else w[:-3] + "i"
    elif w.endswith(("ses", "xes", "zes", "ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    # 2. -ied, -ing, -ed
    if w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "i"
    elif w.endswith("ing") and len(w) - 3 >= 3 and _has_vowel(w[:-3]):
        w = _undouble(w[:-3])
    elif w.endswith("ed") and not w.endswith("eed") and len(w) - 2 >= 3 and _has_vowel(w[:-2]):
        w = _undouble(w[:-2])
    # 3. consonant + y → i
    if len(w) > 2 and w.endswith("y") and w[-2] not in _VOWELS:
        w = w[:-1] + "i"
    # 4. final e
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def _undouble(w: str) -> str:
    if len(w) >= 3 and w[-1] == w[-2] and w[-1] not in _VOWELS and w[-1] not in _NO_UNDOUBLE:
        return w[:-1]
    return w


def terms(text: str) -> list[str]:
    """Index/query terms: words split at hyphens, stop words and lone letters removed, stemmed."""
    out: list[str] = []
    for tok in words(text):
        parts = tok.split("-") if "-" in tok else (tok,)
        for part in parts:
            if part in STOPWORDS:
                continue
            if len(part) == 1 and part.isascii() and not part.isdigit():
                continue
            out.append(stem(part))
    return out


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
_PREV_TOKEN = re.compile(r"(\S+)$")
_DOTTED = re.compile(r"(?:[a-z]\.)+[a-z]")


def _is_abbreviation(before: str) -> bool:
    """Whether the text right before a period ends in an abbreviation or an initial."""
    m = _PREV_TOKEN.search(before)
    if not m:
        return False
    tok = m.group(1).lstrip("(\"'“‘[").lower()
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
        nxt = block[end:].lstrip()
        if not nxt:
            break
        punct = m.group(0).rstrip("\"'”’)]")
        if punct != m.group(0) and nxt[0].islower():
            continue  # '"Go!" she said': the quote ends, the sentence goes on
        if punct[0] in ".…":
            if punct == "." and _is_abbreviation(block[start : m.start()]):
                continue
            # A period or an ellipsis before a lowercase word rarely ends a sentence.
            if nxt[0].islower():
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


def sentences(text: str) -> list[str]:
    """Split ``text`` into sentences (markdown emphasis removed); see ``sentence_spans``."""
    out: list[str] = []
    for a, b in sentence_spans(text):
        sent = _EMPHASIS.sub("", text[a:b]).strip()
        if sent:
            out.append(sent)
    return out
