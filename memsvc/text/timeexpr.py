"""Time expressions in a query, resolved against the query's reference time (``as_of``).

``parse_time_range`` finds every expression it knows (the rule families are in ``_timerel``
and ``_timecal``), resolves each into a half-open range ``[start, end)``, and returns the most
specific one (the narrowest; the earliest in the text on a tie). Precision over coverage: with
no time expression, or only unusable ones, it returns None rather than guess.

Conventions (English; weeks start on Monday; seasons are northern meteorological ones):

- Only the past and the present are returned, because recall looks for memories that already
  exist: every ``end`` is clipped to the start of the day after ``as_of``, and an expression
  wholly in the future ("next week", "tomorrow", "this weekend" said on a Wednesday) gives None.
- "N units ago" gets slack (±1 day for days, ±3 days for weeks, ±15 days for months, ±182 days
  for years); vague counts are ranges ("a few" = 2–5, "a couple" = 2–3, "several" = 3–7).
- "last week/month/year/weekend" are the previous *calendar* periods; "the last/past N units"
  and "past week" are rolling windows ending today; "this week/month/year" run from the start
  of the period to today.
- Weekdays: "last Monday" is the most recent Monday strictly before today; "on Monday" the most
  recent Monday on or before today; a bare "Monday" with no "on/last/this/since" or part of day
  is ignored ("Sunday brunch"), as are plurals and "every/next Monday".
- A month, day or holiday without a year is its most recent occurrence on or before today.
- "since X" runs from the start of X to today. "before X" / "after X" / "until X" give no range
  from X: an open-ended range is not specific enough to boost or filter by.
- "recently", "lately", "a while ago", "before/after I moved": None. They name no date, and
  recency is handled by ``wants_latest`` instead of a made-up window.

``kind`` is "relative" (yesterday, N days ago, the past N weeks, on Monday), "named_period"
(this/last week, month, year, weekend, season) or "absolute" (explicit dates, months, years,
holidays).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from memsvc.text._timecal import CALENDAR_RULES
from memsvc.text._timerel import RELATIVE_RULES

__all__ = ["TimeRange", "is_temporal_question", "parse_time_range", "wants_latest"]


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open range ``[start, end)``; aware iff the ``as_of`` it came from was aware."""

    start: datetime
    end: datetime
    text: str
    kind: str

    def contains(self, t: datetime) -> bool:
        return self.start <= t < self.end

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def expand(
        self, before: timedelta = timedelta(0), after: timedelta = timedelta(0)
    ) -> TimeRange:
        """The range widened on each side. Useful when matching *session* timestamps: people
        mention an event days after it happened ("last weekend" told on a Wednesday)."""
        return TimeRange(self.start - before, self.end + after, self.text, self.kind)


_RULES = RELATIVE_RULES + CALENDAR_RULES
_OPEN_ENDED = re.compile(r"\b(?:before|after|prior\s+to|until|till|by)\s+(?:the\s+)?$", re.I)
_SINCE = re.compile(r"\bsince\s+(?:the\s+)?$", re.I)


def parse_time_range(query: str, as_of: datetime) -> TimeRange | None:
    """The most specific past/present time range named in ``query``, or None."""
    if not query:
        return None
    text = query.replace("’", "'")  # same length, so match offsets stay valid for ``query``
    now = as_of.replace(tzinfo=None)
    try:
        tomorrow = datetime(now.year, now.month, now.day) + timedelta(days=1)
    except OverflowError:
        return None
    best: tuple[timedelta, int, datetime, datetime, str, str] | None = None
    for pattern, resolve in _RULES:
        for m in pattern.finditer(text):
            try:
                got = resolve(m, now)
            except (OverflowError, ValueError):
                continue  # a date outside datetime's range
            if got is None:
                continue
            start, end, kind = got
            before = text[max(0, m.start() - 16) : m.start()]
            matched = m.group(0).lower()
            if _OPEN_ENDED.search(before) or matched.startswith(("before ", "after ", "until ")):
                continue
            if _SINCE.search(before) or matched.startswith("since "):
                end = tomorrow
            end = min(end, tomorrow)
            if start >= end:
                continue  # wholly in the future
            cand = (end - start, m.start(), start, end, query[m.start() : m.end()].strip(), kind)
            if best is None or cand[:2] < best[:2]:
                best = cand
    if best is None:
        return None
    _, _, start, end, span, kind = best
    tz = as_of.tzinfo
    return TimeRange(start.replace(tzinfo=tz), end.replace(tzinfo=tz), span, kind)


# --- question classifiers -------------------------------------------------------------------

_TEMPORAL = re.compile(
    r"^\W*when\b|\bwhen\s+(?:did|was|were|had|have|has)\b"
    r"|\bhow\s+long\s+(?:ago|before|after|since|did|had|has|have|was|were|has|it)\b"
    r"|\bhow\s+many\s+(?:days|weeks|months|years|hours|minutes)\b[^?.!]*?"
    r"\b(?:ago|between|before|after|since|passed|pass|elapsed|take|took|later|earlier|apart"
    r"|until|till|when)\b"
    r"|\b(?:which|who)\b[^?.!]*\b(?:first|earlier|earliest|later|most\s+recently)\b"
    r"|\b(?:happened|came|started|finished|occurred)\s+first\b|\bfirst\s*,?\s+or\b"
    r"|\bthe\s+first\s+\w+(?:\s+\w+)?\s+(?:i|we)\b"
    r"|\bin\s+what\s+order\b|\bthe\s+order\s+(?:of|in)\b|\bchronolog"
    r"|\b(?:what|which|on\s+what)\s+(?:date|day|month|year)\b|\bwhat\s+time\s+of\s+(?:day|year)\b"
    r"|\bhow\s+old\s+was\b|\bbefore\s+or\s+after\b|\bago\b",
    re.I,
)
# Any fixed reference works here: only whether an expression resolves matters.
_REF = datetime(2000, 6, 15, 12, 0)


def is_temporal_question(query: str) -> bool:
    """Whether answering ``query`` needs time reasoning: "when", "how long ago", "how many days
    between", "which came first", "in what order", "what date", or any time expression that
    ``parse_time_range`` resolves."""
    return bool(_TEMPORAL.search(query)) or parse_time_range(query, _REF) is not None


_LATEST = re.compile(
    r"\b(?:now|right\s+now|currently|current|these\s+days|nowadays|at\s+the\s+moment"
    r"|at\s+present|presently|as\s+of\s+(?:now|today)|most\s+recent(?:ly)?|latest|newest"
    r"|so\s+far|to\s+date|up\s+to\s+now|still|anymore|any\s+more|lately|recently)\b",
    re.I,
)
# Present-tense questions about the user ("where do I ...", "how many ... have I", "is my
# mom ..."): their answer is the user's state today, so a later statement overrides an older.
_PRESENT_QUESTION = re.compile(r"\b(?:do|does|am|is|are|have|has)\s+(?:i|we|my)\b", re.I)
_QUESTION_START = re.compile(
    r"^\W*(?:what|which|who|whom|whose|where|how|do|does|am|is|are|have|has)\b", re.I
)


def wants_latest(query: str) -> bool:
    """Whether the answer is the *current* value of something: explicit cues ("now",
    "currently", "most recent", "so far", "these days", "still") or a present-tense question
    about the user ("where do I take yoga classes?", "how long have I had my cat?")."""
    if _LATEST.search(query):
        return True
    is_question = "?" in query or _QUESTION_START.search(query) is not None
    return is_question and _PRESENT_QUESTION.search(query) is not None
