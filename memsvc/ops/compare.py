"""How a new message relates to an existing note, from their words (no LLM, no slot list).

* SAME     - the new message adds nothing: every content word, number, code, name and its
             polarity are already in the note (a restatement; merging loses nothing);
* UPDATE   - the same subject with a newer value: one number or code replaced ("my son is 7"
             → "8"), the polarity flipped ("I don't like coffee" → "I've started to like
             coffee"), or, with a word of change ("now", "switched", "sold", "no longer"), a
             value, name or object of a shared subject replaced;
* DISTINCT - anything else: a different thing, or one that adds detail.

The rules read only what the texts say, so they stay conservative: an UPDATE must share its
subject, and a number that *names* the subject ("Note 12:", "Order #A1934", "Patient 14")
or two replaced numbers mean two different things, not a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from memsvc.text._timewords import NUMBER_WORDS as TIME_NUMBER_WORDS
from memsvc.text.stopwords import STOPWORDS
from memsvc.text.tokenize import sentences, stem, words

SAME, UPDATE, DISTINCT = "SAME", "UPDATE", "DISTINCT"
# Most content words (names included) either side may have that the other lacks in an UPDATE.
MAX_CHANGED = 3

# The time parser's number words, less the articles and "one" (a pronoun as often as a number:
# "the blue one"), plus counts of times.
_NUMBER_WORDS = {w: str(n) for w, n in TIME_NUMBER_WORDS.items() if w not in {"a", "an", "one"}} | {
    "zero": "0",
    "once": "1",
    "twice": "2",
}
_NEGATIONS = frozenset({"not", "no", "never", "nor", "none", "nothing", "cannot", "without"})
# Words that say a value changed or holds from now on. Generic change verbs and time
# adverbs, not attribute names: they mark an update of whatever the sentence is about.
_CHANGE = re.compile(
    r"\b(?:now|anymore|any more|no longer|these days|nowadays|currently|so far|already|"
    r"(?:my|our|the) new|switched|switch|changed|change|moved|move|sold|quit|stopped|"
    r"started|start|became|become|upgraded|replaced|left|finished|wrapped up|went up|"
    r"went down|raised|lowered|increased|decreased|got rid of|gave up|since|instead|just|"
    r"finally)\b",
    re.IGNORECASE,
)
# Words that carry no subject or value of their own here (beyond the shared stop words).
_FILLER = frozenset(
    [
        "something",
        "really",
        "also",
        "right",
        "thing",
        "things",
        "much",
        "many",
        "lot",
        "bit",
        "well",
        "very",
        "quite",
        "actually",
        "still",
        "even",
        "yet",
        "one",
        "ones",
        "again",
        "currently",
        "anymore",
        "nowadays",
        "these",
        "days",
        "way",
        "just",
        "recently",
        "already",
        "far",
        "last",
        "latest",
        "recent",
    ]
)
_MONTHS_DAYS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)
_CODE = re.compile(r"[a-z]*\d[\w.:/-]*", re.IGNORECASE)
# Numbers and codes as written ("9:30", "$1,350", "3-2", "lf0113k", "INV-2023-0415").
_VALUE = re.compile(r"(?<![\w.])[A-Za-z-]*\d(?:[\w:/-]|[.,]\d)*")
_TITLES = frozenset({"mr", "mrs", "ms", "dr", "st", "prof"})
_GREETINGS = frozenset(
    [
        "hey",
        "hi",
        "hello",
        "thanks",
        "thank",
        "bye",
        "dear",
        "yo",
        "congrats",
        "congratulations",
        "sorry",
        "ok",
        "okay",
        "wow",
        "oh",
        "yes",
        "yeah",
        "no",
        "morning",
        "night",
        "love",
        "cheers",
    ]
)
_SPEAKER = re.compile(r"^\s*([A-Z][\w'.-]*(?: [A-Z][\w'.-]*){0,2}):\s+")
_CAPITAL = re.compile(r"[A-Z][\w'’-]*")
# A sentence that opens with a label and a number or code ("Note 12:", "Order #A1934",
# "Patient 14 had ...") uses the number to name its subject.
_LABELLED = re.compile(r"^\W*(?:[A-Z][a-z]+\s+#?[A-Za-z-]*\d[\w.-]*|#\w*\d\w*)")


@dataclass(frozen=True)
class Profile:
    words: frozenset[str]  # stemmed content words, without values, names or negations
    values: frozenset[str]  # numbers (words as digits) and codes
    names: frozenset[str]  # capitalised words not opening a sentence, weekdays, months
    negated: bool
    change: bool
    labelled: frozenset[str]  # values that name the subject ("Note 12:")
    statements: int = 1  # sentences, 0 for a question


def _is_value(tok: str) -> bool:
    # `map` over the C method: the generator form was a fifth of `profile`'s time, which an
    # add into a large scope calls for every close candidate (bench/README.md, 2026-12-07 third).
    return any(map(str.isdigit, tok))


@lru_cache(maxsize=4096)
def profile(text: str) -> Profile:
    content: set[str] = set()
    values: set[str] = set()
    names: set[str] = set()
    negated = False
    norm = text.replace("’", "'")
    negated = bool(re.search(r"n't\b|\bno longer\b", norm, re.IGNORECASE))
    values = {m.group(0).lower().replace(",", "").strip("-") for m in _VALUE.finditer(norm)}
    for tok in words(_CHANGE.sub(" ", norm.replace("n't", " not"))):
        if tok in _NEGATIONS:
            negated = True
        elif _is_value(tok):
            continue
        elif tok in _NUMBER_WORDS:
            values.add(_NUMBER_WORDS[tok])
        elif tok in _MONTHS_DAYS or tok.rstrip("s") in _MONTHS_DAYS:
            names.add(tok.rstrip("s"))
        elif tok not in STOPWORDS and tok not in _FILLER and len(tok) > 1:
            for part in tok.split("-"):
                if part and part not in STOPWORDS:
                    content.add(stem(part))
    # Names: capitalised words that do not open a sentence ("I" and its forms excepted).
    vocatives: set[str] = set()
    for m in _CAPITAL.finditer(norm):
        before = norm[: m.start()].rstrip()
        word = m.group(0).lower().removesuffix("'s")
        title = before.rsplit(None, 1)[-1].rstrip(".").lower() if before else ""
        opening = not before or (before[-1] in ".!?:" and title not in _TITLES)
        after = norm[m.end() : m.end() + 1]
        prev = before.rsplit(None, 1)[-1].lower() if before else ""
        if (after in {",", "!", "?", ""} and (opening or prev.strip(",") in _GREETINGS)) or (
            after in {"!", "?", ""} and before.endswith(",")
        ):
            vocatives.add(stem(word))  # "Thanks, Gina!": who is spoken to, not what about
            continue
        if opening or word in {"i", "i'm", "i've", "i'll", "i'd"}:
            continue
        if not _is_value(word):
            names.add(stem(word))
    content -= names | vocatives
    labelled = _LABELLED.match(norm)
    lab = frozenset(
        v.strip(".:-#").lower()
        for v in (_CODE.findall(labelled.group(0)) if labelled else [])
        if _is_value(v)
    )
    return Profile(
        words=frozenset(content),
        values=frozenset(values),
        names=frozenset(names),
        negated=negated,
        change=bool(_CHANGE.search(norm)),
        labelled=lab,
        statements=0 if norm.rstrip().endswith("?") else len(sentences(norm)),
    )


def speaker(text: str) -> tuple[str | None, str]:
    """A named speaker's note reads "Name: ..." (ingest keeps names): (name, the words)."""
    m = _SPEAKER.match(text)
    return (m.group(1).lower(), text[m.end() :]) if m else (None, text)


def relation(new_text: str, old_text: str) -> str:
    """SAME, UPDATE or DISTINCT (see the module docstring); the caller checks similarity."""
    (new_by, new_words), (old_by, old_words) = speaker(new_text), speaker(old_text)
    if new_by and old_by:  # both named ("Peanuts: I'm allergic to them" is no speaker)
        if new_by != old_by:
            return DISTINCT  # two people: one's news is no update of the other's
        new_text, old_text = new_words, old_words
    new, old = profile(new_text), profile(old_text)
    # A name opening one sentence is a plain word to the parser: compare words and names as one.
    if (
        (new.words | new.names) <= (old.words | old.names)
        and new.values <= old.values
        and new.negated == old.negated
    ):
        return SAME
    # Updates are told apart in short statements only: two texts that differ in more than
    # a few words say more than "the value changed" (the LLM path judges those).
    if old.statements != 1 or new.statements != 1:
        return DISTINCT  # one statement each: more is for the LLM and recall's freshness
    old_all, new_all = old.words | old.names, new.words | new.names
    if len(old_all - new_all) > MAX_CHANGED or len(new_all - old_all) > MAX_CHANGED:
        return DISTINCT
    shared = old.words & new.words
    lost_values, new_values = old.values - new.values, new.values - old.values
    lost_names, new_names = old.names - new.names, new.names - old.names
    # A number that names the subject changed: another note, not a newer value.
    if (old.labelled or new.labelled) and (old.labelled != new.labelled):
        return DISTINCT
    if _one_value_replaced(new, old, lost_values, new_values, lost_names, shared, new_text):
        return UPDATE
    # The same statement with its polarity flipped (possibly with a word of change added).
    flipped = new.negated != old.negated and bool(shared)
    if (
        flipped
        and (old.words <= new.words or new.words <= old.words)
        and not lost_values
        and not new_names
    ):
        return UPDATE
    # With a word of change: a shared subject whose value, name or object was replaced.
    subject = len(shared) + len(old.names & new.names)
    replaced = lost_values or lost_names or (old.words - new.words) or new_names
    added = new_values or new_names or (new.words - old.words)
    about_it = subject >= 2 or len(shared) >= len(old.words | new.words) / 2
    # A value and the named thing both gone ("Luna, 6 months" / "my bike, 9 months"): another
    # thing, not a newer value of the same one.
    other_thing = bool(lost_values and lost_names and not old.names & new.names)
    if new.change and subject and replaced and added and len(lost_values) <= 1 and not other_thing:
        return UPDATE if about_it or old.names & new.names else DISTINCT
    return DISTINCT


def _one_value_replaced(
    new: Profile,
    old: Profile,
    lost_values: frozenset[str],
    new_values: frozenset[str],
    lost_names: frozenset[str],
    shared: frozenset[str],
    new_text: str,
) -> bool:
    """One number or code replaced by another about the same subject ("my son is 7" → "8"):
    without a word of change only when nothing else differs and no date is involved."""
    return (
        len(lost_values) == 1
        and len(new_values) == 1
        and not lost_names
        and new.negated == old.negated
        and bool(shared)
        and (new.change or (old.words == new.words and not _dated(new_text)))
    )


def _dated(text: str) -> bool:
    """A day or month next to a number: the number dates an event, it is not a value."""
    return bool(
        re.search(
            r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
            r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\s+\d{1,2}\b",
            text,
            re.IGNORECASE,
        )
    )


def new_details(new_text: str, old_text: str) -> bool:
    """Whether the new text carries a number, code, name or polarity the old one lacks: the
    details that make it another fact however the rest is worded (a merge would hide them)."""
    new, old = profile(new_text), profile(old_text)
    return bool(
        new.values - old.values or new.names - (old.names | old.words) or new.negated != old.negated
    )
