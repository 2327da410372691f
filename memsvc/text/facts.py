"""Offline fact extraction: the informative statements of a chat turn, as standalone sentences.

``extract_facts("Hi! By the way, I moved to Berlin last month. Any tips?")`` →
``["User moved to Berlin last month."]``

1. Split into sentences, and split those again at ";" and at a spaced dash (" - ", " — "),
   which in chat usually joins two independent statements.
2. Drop discourse lead-ins ("By the way,", "Actually,", "Speaking of X,").
3. Skip questions, requests to the assistant ("can you", "any tips", "I was wondering"),
   greetings, thanks and acknowledgements ("sounds good", "I'll check it out"), and for the
   assistant generic advice ("make sure", "it's important to", "here are").
4. Score what is left: first-person statements (user), preferences, plans and completed
   actions, numbers and amounts, dates and time words, proper nouns and quoted titles.
5. Keep the best ``max_facts`` with a score over a threshold, best first (ties keep text
   order), rewritten in the third person (``_person``): "I" → "User" / "Assistant".

English only; other text yields at most sentences scored on numbers and capitals.
"""

from __future__ import annotations

import re

from memsvc.text._person import to_third_person
from memsvc.text.tokenize import gate_words, may_match, sentences

__all__ = ["extract_facts"]

_SPLIT = re.compile(r"\s*;\s+|\s+[-–—]{1,2}\s+")
_SPLIT_CHARS = ";-–—"  # one of them is in every match of `_SPLIT`
_LEAD_IN = re.compile(
    r"^(?:(?:oh\s+)?(?:by\s+the\s+way|btw|oh|also|anyway|anyways|actually|so|well|plus|and|but"
    r"|okay|ok|yeah|yes|no|hmm|um|honestly|besides|additionally|incidentally|again|now\s+that\s+i"
    r"\s+think\s+about\s+it|on\s+(?:another|a\s+related|a\s+different)\s+note"
    r"|speaking\s+of\s+[^,]{1,50}|as\s+for\s+[^,]{1,40}|back\s+to\s+[^,]{1,40})\b[\s,!.:]*)+",
    re.I,
)
# `_REQUEST`'s alternatives, each with the words (lowercased \w+ runs) every one of its matches
# holds: all of the first, one of the second. `_score` runs an alternative only where the clause
# holds its words (the whole pattern was a tenth of `extract_facts`, mostly failing).
_REQUEST_PARTS: tuple[tuple[str, str, str], ...] = (
    (
        r"^(?:please|help|tell|show|give|suggest|recommend|remind|explain|let\s+me|imagine|list"
        r"|write|create|describe|compare)\b",
        "",
        "",  # anchored: one try, no gate needed
    ),
    (r"\b(?:can|could|would|will)\s+you\b", "you", "can could would will"),
    (r"\bplease\b", "please", ""),
    (r"\bhelp\s+me\b", "help me", ""),
    (r"\blet\s+me\s+know\b", "let me know", ""),
    (r"\bi\s+(?:was|am|'m)\s+wondering\b", "i wondering", ""),
    (r"\bi\s+wonder\b", "i wonder", ""),
    (
        r"\bany\s+(?:tips|suggestions|ideas|recommendations|advice|thoughts|insights)\b",
        "any",
        "tips suggestions ideas recommendations advice thoughts insights",
    ),
    (
        r"\bdo\s+you\s+(?:know|have|think|recommend|mind)\b",
        "do you",
        "know have think recommend mind",
    ),
    (r"\bwhat\s+do\s+you\s+think\b", "what do you think", ""),
    (
        r"\b(?:i'd|i\s+would)\s+(?:like|love|appreciate)\s+(?:it\s+if|your|some|you\s+to"
        r"|to\s+(?:know|get|hear|learn|see))\b",
        "i",
        "like love appreciate",
    ),
    (
        r"\bi\s+need\s+(?:some\s+|your\s+|more\s+)?(?:help|advice|ideas|suggestions|tips"
        r"|recommendations|guidance)\b",
        "i need",
        "help advice ideas suggestions tips recommendations guidance",
    ),
    (
        r"\bi'm\s+(?:looking\s+for|seeking)\s+(?:some\s+)?(?:tips|suggestions|ideas|advice|help"
        r"|recommendations|guidance)\b",
        "i m",
        "looking seeking",
    ),
)
_REQUEST = re.compile("|".join(p for p, _, _ in _REQUEST_PARTS), re.I)
_REQUEST_GATES = tuple(
    (re.compile(p, re.I), frozenset(need.split()), frozenset(one_of.split()))
    for p, need, one_of in _REQUEST_PARTS
)
_FILLER = re.compile(
    r"^(?:hi|hello|hey|thanks|thank\s+you|thx|great|awesome|cool|ok|okay|sure|got\s+it"
    r"|sounds\s+(?:good|great|like)|perfect|wow|nice|yes|no|yeah|you're\s+welcome|i\s+see"
    r"|that's\s+(?:great|helpful|amazing|awesome|interesting|a\s+great|really|very|so|good"
    r"|perfect|exactly|a\s+good)|that\s+(?:sounds|makes|helps|is\s+(?:great|helpful))"
    r"|good\s+to\s+know|i\s+appreciate|i\s+love\s+(?:that|this|it|the\s+idea|your|these|those)\b"
    r"|makes\s+sense|good\s+point|i\s+(?:will|'ll)\s+(?:definitely\s+|probably\s+)?(?:check"
    r"|keep|look|try|give|consider|think|take|start|go\s+with|make\s+sure)"
    r"|i\s+think\s+that's|i'm\s+glad|i'm\s+(?:so\s+)?excited\s+to\s+(?:try"
    r"|start|get)|you're\s+right|exactly|absolutely|of\s+course|certainly|great\s+question)\b",
    re.I,
)
_GENERIC_ADVICE = re.compile(
    r"^(?:here\s+(?:are|is)|here's|i\s+hope|i'm\s+(?:glad|happy|sorry)|i'd\s+be\s+happy"
    r"|feel\s+free|remember|don't\s+forget|it's\s+(?:important|essential|crucial|a\s+good\s+idea"
    r"|worth|also|always|best)|make\s+sure|consider|keep\s+in\s+mind|overall|in\s+summary"
    r"|good\s+luck|enjoy|additionally|however|in\s+addition|ultimately|by\s+following"
    r"|these\s+(?:are|tips|steps|ideas)|this\s+(?:will|can|helps?)|you\s+(?:can|could|might"
    r"|should|may|will)|try\s+to|be\s+sure|note\s+that|as\s+an\s+ai)\b",
    re.I,
)
_FIRST_PERSON = re.compile(r"^\W*(?:i|i'm|i've|i'd|i'll|my|we|we're|we've|our)\b", re.I)
_FIRST_PERSON_ANY = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|my|me|we|our)\b", re.I)
_RECOMMEND = re.compile(r"\b(?:recommend(?:ed)?|suggest(?:ed)?|advise[d]?)\b", re.I)
_PREFERENCE = re.compile(
    r"\b(?:love|loved|like|liked|prefer|preferred|enjoy|enjoyed|hate|hated|dislike|favou?rite"
    r"|can't\s+stand|obsessed|into|fan\s+of|allergic|passionate)\b",
    re.I,
)
_PLAN = re.compile(
    r"\b(?:going\s+to|gonna|planning|plan\s+to|will|'ll|thinking\s+of|thinking\s+about|intend"
    r"|scheduled|booked|signed\s+up|registered|upcoming|next\s+(?:week|month|year|weekend))\b",
    re.I,
)
_ACTION = re.compile(
    r"\b(?:went|visited|bought|got|started|finished|attended|moved|joined|met|tried|made"
    r"|completed|watched|read|ran|earned|spent|took|adopted|received|gave|won|lost|booked|paid"
    r"|sold|graduated|married|upgraded|switched|learned|learnt|launched|traveled|travelled"
    r"|volunteered|cooked|baked|planted|caught|hiked|picked\s+up|signed\s+up)\b",
    re.I,
)
_NUMBER = re.compile(
    r"[$£€]\s?\d|\b\d+(?:[.,:/]\d+)*(?:%|st|nd|rd|th|k|gb|mb|am|pm)?\b"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty|hundred"
    r"|thousand|dozen|half|twice|once)\b",
    re.I,
)
_TIME_WORD = re.compile(
    r"\b(?:yesterday|today|tonight|tomorrow|ago|last\s+(?:week|month|year|night|weekend)"
    r"|this\s+(?:week|month|year|weekend|morning)|since|monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday|january|february|march|april|may|june|july|august|september"
    r"|october|november|december|weekend|morning|evening|spring|summer|fall|autumn|winter"
    r"|birthday|anniversary|christmas|thanksgiving)\b",
    re.I,
)
# Capitalised words not opening a sentence, and acronyms: what
# (?<![.!?]\s)(?<!^)\b[A-Z][\w'&.-]*[A-Za-z0-9]|\b[A-Z]{2,}\b finds, with the capital first and
# each assertion after it, one character wider, so the scan skips to capitals (5x faster; the
# two agree: tests/text/test_gates.py).
_CAPITAL = re.compile(r"[A-Z](?:(?<![.!?]\s.)(?<!^.)(?<!\w.)[\w'&.-]*[A-Za-z0-9]|(?<!\w.)[A-Z]+\b)")
_QUOTED = re.compile(r"[\"“][^\"”]{2,80}[\"”]|(?<!\w)'[^']{2,60}'(?!\w)")
_HEDGE = re.compile(r"\b(?:i\s+think|i\s+guess|i'm\s+not\s+sure|i\s+don't\s+know|maybe)\b", re.I)
_CAPITAL_STOP = frozenset({"I", "I'm", "I've", "I'd", "I'll", "OK", "AI"})


def _gate(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Gates: for each unanchored pattern above, words (lowercased \w+ runs: tokenize.gate_words)
# one of which every match holds, mostly the first word of each alternative ("'ll" is a run
# "ll", "can't stand" holds "stand", "favou?rite" both spellings). A clause with none of them
# cannot match, and the pattern is not run: most clauses pass few gates, and one split of the
# clause is cheaper than a dozen scans (`_score`'s patterns were three fifths of
# `extract_facts`). tests/text/test_gates.py checks gated == ungated scores.
_FIRST_PERSON_ANY_GATE = _gate("i my me we our")
_RECOMMEND_GATE = _gate("recommend recommended suggest suggested advise advised")
_PREFERENCE_GATE = _gate(
    """love loved like liked prefer preferred enjoy enjoyed hate hated dislike favorite
    favourite stand obsessed into fan allergic passionate"""
)
_PLAN_GATE = _gate(
    """going gonna planning plan will ll thinking intend scheduled booked signed registered
    upcoming next"""
)
_ACTION_GATE = _gate(
    """went visited bought got started finished attended moved joined met tried made
    completed watched read ran earned spent took adopted received gave won lost booked paid
    sold graduated married upgraded switched learned learnt launched traveled travelled
    volunteered cooked baked planted caught hiked picked signed"""
)
_NUMBER_GATE = _gate(
    """one two three four five six seven eight nine ten twelve twenty thirty hundred thousand
    dozen half twice once"""
)
_TIME_WORD_GATE = _gate(
    """yesterday today tonight tomorrow ago last this since monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september
    october november december weekend morning evening spring summer fall autumn winter
    birthday anniversary christmas thanksgiving"""
)
_HEDGE_GATE = _gate("think guess sure know maybe")  # "i think", "i'm not sure", ...
_DIGIT = re.compile(r"\d")


def _requests(s: str, runs: frozenset[str] | None) -> bool:
    """`_REQUEST.search(s)`: its alternatives one by one, each where the clause has its words."""
    if runs is None:
        return _REQUEST.search(s) is not None
    for p, need, one_of in _REQUEST_GATES:
        if need <= runs and (not one_of or not runs.isdisjoint(one_of)) and p.search(s):
            return True
    return False


def _clauses(text: str, spans: list[tuple[int, int]] | None = None) -> list[str]:
    out: list[str] = []
    for sent in sentences(text, spans=spans):
        if not any(c in sent for c in _SPLIT_CHARS):
            out.append(sent)  # what `_SPLIT` gives a sentence it cannot split
            continue
        out.extend(p.strip() for p in _SPLIT.split(sent) if p and p.strip())
    return out


# A speaker label the client left in the text ("User: I moved ..."): the fact is rewritten in
# the third person anyway, so the label would only double it ("User: User moved ...").
_ROLE_LABEL = re.compile(r"^\s*(?:user|assistant|system|human|ai|me)\s*:\s*", re.I)


def _clean(clause: str) -> str:
    clause = _ROLE_LABEL.sub("", clause.replace("’", "'"))
    s = _LEAD_IN.sub("", clause).strip(" ,;:-–—")
    return s[:1].upper() + s[1:] if s else s


def _score(s: str, role: str, *, gate: bool = True) -> float:
    n_words = len(s.split())
    if n_words < 3 or s.endswith("?"):
        return 0.0
    runs = gate_words(s) if gate else None
    if _requests(s, runs) or _FILLER.search(s):
        return 0.0
    if role != "user" and _GENERIC_ADVICE.search(s):
        return 0.0
    score = 0.0
    if role == "user":
        if _FIRST_PERSON.search(s):
            score += 2.0
        elif may_match(runs, _FIRST_PERSON_ANY_GATE) and _FIRST_PERSON_ANY.search(s):
            score += 1.0
    elif may_match(runs, _RECOMMEND_GATE) and _RECOMMEND.search(s):
        score += 1.0  # the assistant's own recommendations are what users ask back about
    score += 1.0 if may_match(runs, _PREFERENCE_GATE) and _PREFERENCE.search(s) else 0.0
    score += 0.8 if may_match(runs, _PLAN_GATE) and _PLAN.search(s) else 0.0
    score += 0.8 if may_match(runs, _ACTION_GATE) and _ACTION.search(s) else 0.0
    if may_match(runs, _NUMBER_GATE) or _DIGIT.search(s):
        score += 0.7 * min(3, len(_NUMBER.findall(s)))
    score += 0.8 if may_match(runs, _TIME_WORD_GATE) and _TIME_WORD.search(s) else 0.0
    capitals = [c for c in _CAPITAL.findall(s) if c not in _CAPITAL_STOP]
    score += 0.5 * min(4, len(capitals))
    # A quoted title needs two quotes ('"' or '“' then '"' or '”', or two "'").
    if s.count('"') + s.count("“") + s.count("”") > 1 or s.count("'") > 1:
        score += 0.7 * min(2, len(_QUOTED.findall(s)))
    score -= 1.0 if may_match(runs, _HEDGE_GATE) and _HEDGE.search(s) else 0.0
    score -= 0.5 if n_words > 45 else 0.0
    return score


_MIN_SCORE = {"user": 2.0}  # a first-person statement alone qualifies
_DEFAULT_MIN_SCORE = 1.5


def extract_facts(
    text: str,
    role: str = "user",
    max_facts: int = 5,
    *,
    spans: list[tuple[int, int]] | None = None,
) -> list[str]:
    """Up to ``max_facts`` informative statements of ``text`` in the third person, best first.
    ``spans``: ``sentence_spans(text)`` when the caller has them already."""
    if max_facts <= 0 or not text:
        return []
    role = role.lower()
    speaker = "User" if role == "user" else role.capitalize() or "Speaker"
    threshold = _MIN_SCORE.get(role, _DEFAULT_MIN_SCORE)
    scored: list[tuple[float, int, str]] = []
    seen: set[str] = set()
    for pos, clause in enumerate(_clauses(text, spans)):
        s = _clean(clause)
        score = _score(s, role)
        if score < threshold:
            continue
        fact = to_third_person(s, speaker)
        if fact and fact[-1] not in ".!":
            fact += "."
        key = fact.lower()
        if key in seen:
            continue
        seen.add(key)
        scored.append((-score, pos, fact))
    scored.sort()
    return [fact for _, _, fact in scored[:max_facts]]
