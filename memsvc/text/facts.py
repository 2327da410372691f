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
from memsvc.text.tokenize import sentences

__all__ = ["extract_facts"]

_SPLIT = re.compile(r"\s*;\s+|\s+[-–—]{1,2}\s+")
_LEAD_IN = re.compile(
    r"^(?:(?:oh\s+)?(?:by\s+the\s+way|btw|oh|also|anyway|anyways|actually|so|well|plus|and|but"
    r"|okay|ok|yeah|yes|no|hmm|um|honestly|besides|additionally|incidentally|again|now\s+that\s+i"
    r"\s+think\s+about\s+it|on\s+(?:another|a\s+related|a\s+different)\s+note"
    r"|speaking\s+of\s+[^,]{1,50}|as\s+for\s+[^,]{1,40}|back\s+to\s+[^,]{1,40})\b[\s,!.:]*)+",
    re.I,
)
_REQUEST = re.compile(
    r"^(?:please|help|tell|show|give|suggest|recommend|remind|explain|let\s+me|imagine|list"
    r"|write|create|describe|compare)\b"
    r"|\b(?:can|could|would|will)\s+you\b|\bplease\b|\bhelp\s+me\b|\blet\s+me\s+know\b"
    r"|\bi\s+(?:was|am|'m)\s+wondering\b|\bi\s+wonder\b"
    r"|\bany\s+(?:tips|suggestions|ideas|recommendations|advice|thoughts|insights)\b"
    r"|\bdo\s+you\s+(?:know|have|think|recommend|mind)\b|\bwhat\s+do\s+you\s+think\b"
    r"|\b(?:i'd|i\s+would)\s+(?:like|love|appreciate)\s+(?:it\s+if|your|some|you\s+to"
    r"|to\s+(?:know|get|hear|learn|see))\b"
    r"|\bi\s+need\s+(?:some\s+|your\s+|more\s+)?(?:help|advice|ideas|suggestions|tips"
    r"|recommendations|guidance)\b"
    r"|\bi'm\s+(?:looking\s+for|seeking)\s+(?:some\s+)?(?:tips|suggestions|ideas|advice|help"
    r"|recommendations|guidance)\b",
    re.I,
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
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'&.-]*[A-Za-z0-9]|\b[A-Z]{2,}\b")
_QUOTED = re.compile(r"[\"“][^\"”]{2,80}[\"”]|(?<!\w)'[^']{2,60}'(?!\w)")
_HEDGE = re.compile(r"\b(?:i\s+think|i\s+guess|i'm\s+not\s+sure|i\s+don't\s+know|maybe)\b", re.I)
_CAPITAL_STOP = frozenset({"I", "I'm", "I've", "I'd", "I'll", "OK", "AI"})


def _clauses(text: str) -> list[str]:
    out: list[str] = []
    for sent in sentences(text):
        out.extend(p.strip() for p in _SPLIT.split(sent) if p and p.strip())
    return out


# A speaker label the client left in the text ("User: I moved ..."): the fact is rewritten in
# the third person anyway, so the label would only double it ("User: User moved ...").
_ROLE_LABEL = re.compile(r"^\s*(?:user|assistant|system|human|ai|me)\s*:\s*", re.I)


def _clean(clause: str) -> str:
    clause = _ROLE_LABEL.sub("", clause.replace("’", "'"))
    s = _LEAD_IN.sub("", clause).strip(" ,;:-–—")
    return s[:1].upper() + s[1:] if s else s


def _score(s: str, role: str) -> float:
    n_words = len(s.split())
    if n_words < 3 or s.endswith("?"):
        return 0.0
    if _REQUEST.search(s) or _FILLER.search(s):
        return 0.0
    if role != "user" and _GENERIC_ADVICE.search(s):
        return 0.0
    score = 0.0
    if role == "user":
        if _FIRST_PERSON.search(s):
            score += 2.0
        elif _FIRST_PERSON_ANY.search(s):
            score += 1.0
    elif _RECOMMEND.search(s):
        score += 1.0  # the assistant's own recommendations are what users ask back about
    score += 1.0 if _PREFERENCE.search(s) else 0.0
    score += 0.8 if _PLAN.search(s) else 0.0
    score += 0.8 if _ACTION.search(s) else 0.0
    score += 0.7 * min(3, len(_NUMBER.findall(s)))
    score += 0.8 if _TIME_WORD.search(s) else 0.0
    capitals = [c for c in _CAPITAL.findall(s) if c not in _CAPITAL_STOP]
    score += 0.5 * min(4, len(capitals))
    score += 0.7 * min(2, len(_QUOTED.findall(s)))
    score -= 1.0 if _HEDGE.search(s) else 0.0
    score -= 0.5 if n_words > 45 else 0.0
    return score


_MIN_SCORE = {"user": 2.0}  # a first-person statement alone qualifies
_DEFAULT_MIN_SCORE = 1.5


def extract_facts(text: str, role: str = "user", max_facts: int = 5) -> list[str]:
    """Up to ``max_facts`` informative statements of ``text`` in the third person, best first."""
    if max_facts <= 0 or not text:
        return []
    role = role.lower()
    speaker = "User" if role == "user" else role.capitalize() or "Speaker"
    threshold = _MIN_SCORE.get(role, _DEFAULT_MIN_SCORE)
    scored: list[tuple[float, int, str]] = []
    seen: set[str] = set()
    for pos, clause in enumerate(_clauses(text)):
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
