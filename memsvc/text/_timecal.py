"""Calendar time expressions for ``timeexpr``: numeric dates (ISO, US), month + day, month
(+ year), "early/mid/late May", years, decades, seasons and holidays.

Same contract as ``_timerel``. Regexes are case-insensitive; month names that are also English
words ("may", "march") are accepted only when capitalised, a check made in the resolvers.
Hand-written for the reason ``_timerel`` gives; month and season spans come from
``_timewords`` (python-dateutil's ``relativedelta``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from memsvc.text._timewords import (
    AMBIGUOUS_MONTHS,
    ANY_MONTH_RE,
    DAY,
    FULL_MONTH_RE,
    HOLIDAY_RE,
    MONTHS,
    Resolver,
    Span,
    holiday,
    latest_month,
    month_span,
    season_span,
    span,
)
from memsvc.text.stopwords import STOPWORDS

ISO_DATE = re.compile(r"(?<![\d/.-])(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?![\d/-])")
US_DATE = re.compile(
    r"(?<![\d/.,$-])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?(?![\d/%]|\.\d)"
    r"(?!\s*(?:cups?|tsp|tbsp|teaspoons?|tablespoons?|inch|inches|in\b|oz|lbs?|pounds?|miles?"
    r"|mi\b|km|of\b|scale|ratio|split))",
    re.I,
)
_FRACTION_CONTEXT = re.compile(r"\b(?:on|since|by|from|the)\s+$", re.I)


def _make_date(y: int, mo: int, d: int) -> date | None:
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def _recent_date(today: date, mo: int, d: int) -> date | None:
    """The most recent ``mo``/``d`` on or before ``today``."""
    for y in (today.year, today.year - 1, today.year - 2):
        cand = _make_date(y, mo, d)
        if cand is not None and cand <= today:
            return cand
    return None


def _one_day(d: date | None, kind: str = "absolute") -> Span | None:
    return None if d is None else span(d, d + DAY, kind)


def _iso(m: re.Match[str], now: datetime) -> Span | None:
    return _one_day(_make_date(int(m.group("y")), int(m.group("m")), int(m.group("d"))))


def _us(m: re.Match[str], now: datetime) -> Span | None:
    a, b = int(m.group("m")), int(m.group("d"))
    raw_y = m.group("y")
    if a > 12 and b <= 12 and raw_y is not None:
        a, b = b, a  # 20/5/2023: day first
    if raw_y is None and a > 12:
        return None  # "24/7", "20/5": a day-first date needs its year to be trusted
    # Looks like a fraction or a rating (1/2, 3/4, 8/10): a date only after "on", "since"...
    fraction_like = raw_y is None and b <= 10 and a <= b
    if fraction_like and not _FRACTION_CONTEXT.search(m.string[: m.start()]):
        return None
    today = now.date()
    if raw_y is None:
        return _one_day(_recent_date(today, a, b))
    y = int(raw_y)
    if len(raw_y) == 2:
        y += 2000 if 2000 + y <= today.year + 1 else 1900
    return _one_day(_make_date(y, a, b))


def _month_ok(m: re.Match[str]) -> int | None:
    """Month number, refusing lowercase "may"/"march" (a modal verb, a verb)."""
    raw = m.group("mon")
    if raw.lower() in AMBIGUOUS_MONTHS and not raw[0].isupper():
        return None
    return MONTHS[raw.lower().rstrip(".")]


_YEAR = r"(?P<y>(?:19|20)\d{2})"
_ORD = r"(?:st|nd|rd|th)?"
MONTH_DAY = re.compile(
    rf"\b(?P<mon>{ANY_MONTH_RE})\.?\s+(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}\b(?!\s*(?:%|:\d|[ap]\.?m\b))"
    rf"(?:,?\s+{_YEAR}\b)?",
    re.I,
)
DAY_MONTH = re.compile(
    rf"\b(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<mon>{ANY_MONTH_RE})\b(?:\.?,?\s+{_YEAR}\b)?",
    re.I,
)


def _month_day(m: re.Match[str], now: datetime) -> Span | None:
    mo = _month_ok(m)
    if mo is None:
        return None
    d = int(m.group("d"))
    if m.group("y"):
        return _one_day(_make_date(int(m.group("y")), mo, d))
    return _one_day(_recent_date(now.date(), mo, d))


MONTH_YEAR = re.compile(rf"\b(?P<mon>{FULL_MONTH_RE})(?:\s+of)?,?\s+{_YEAR}\b", re.I)


def _month_year(m: re.Match[str], now: datetime) -> Span | None:
    mo = _month_ok(m)
    return None if mo is None else span(*month_span(int(m.group("y")), mo), "absolute")


MONTH_ALONE = re.compile(
    r"\b(?P<prep>in|during|since|last|this|this\s+past|early|mid|late|throughout|the\s+month\s+of"
    r"|(?:the\s+)?(?:beginning|start|middle|end)\s+of)[\s-]+"
    rf"(?P<mon>{FULL_MONTH_RE})\b(?!\s+(?:\d|of\s+\d))",
    re.I,
)
# early/mid/late: the first, middle and last ten days or so of the month.
_PART_DAYS = {"early": (1, 11), "beginning": (1, 11), "start": (1, 11), "mid": (11, 21)}
_PART_DAYS |= {"middle": (11, 21), "late": (21, 32), "end": (21, 32)}


def _month_alone(m: re.Match[str], now: datetime) -> Span | None:
    mo = _month_ok(m)
    if mo is None:
        return None
    prep = re.sub(r"\s+", " ", m.group("prep").lower())
    today = now.date()
    if prep == "this":
        year = today.year
    else:
        year = latest_month(today, mo, strictly_before=prep in ("last", "this past"))
    start, end = month_span(year, mo)
    key = prep.replace("the ", "").split()[0]
    if key in _PART_DAYS:
        lo, hi = _PART_DAYS[key]
        start, end = start.replace(day=lo), min(end, start + timedelta(days=hi - 1))
    return span(start, end, "absolute")


YEAR = re.compile(rf"\b(?:in|during|since|throughout|of|back\s+in)\s+{_YEAR}\b(?!\s*[%$-])", re.I)
_NEXT_WORD = re.compile(r"\s+([A-Za-z]+)")


def _year(m: re.Match[str], now: datetime) -> Span | None:
    nxt = _NEXT_WORD.match(m.string, m.end())
    if nxt and nxt.group(1).islower() and nxt.group(1) not in STOPWORDS:
        return None  # "in 2000 steps": a count, not a year
    y = int(m.group("y"))
    return span(date(y, 1, 1), date(y + 1, 1, 1), "absolute")


DECADE = re.compile(
    r"\b(?:in|during)\s+the\s+(?:(?P<c>19|20)(?P<d1>\d)0|'(?P<d2>\d)0|(?P<d3>[5-9])0)'?s\b", re.I
)


def _decade(m: re.Match[str], now: datetime) -> Span | None:
    if m.group("c"):
        y = int(m.group("c")) * 100 + int(m.group("d1")) * 10
    else:
        dec = int(m.group("d2") or m.group("d3")) * 10
        # "the 90s" is the 1990s; "the '10s" the 2010s once that decade is over.
        y = 2000 + dec if 2000 + dec + 10 <= now.year else 1900 + dec
    return span(date(y, 1, 1), date(y + 10, 1, 1), "absolute")


SEASON = re.compile(
    r"\b(?P<mod>last|this\s+past|this|(?:in|during|over)(?:\s+the)?|early|late)\s+"
    r"(?P<season>spring|summer|fall|autumn|winter)\b(?:\s+(?:of\s+)?(?P<y>(?:19|20)\d{2})\b)?"
    r"(?!\s+of\b)",
    re.I,
)


def _season(m: re.Match[str], now: datetime) -> Span | None:
    season = m.group("season").lower()
    mod = re.sub(r"\s+", " ", m.group("mod").lower())
    today = now.date()
    if m.group("y"):
        return span(*season_span(season, int(m.group("y"))), "named_period")
    # Most recent first.
    spans = [season_span(season, y) for y in (today.year + 1, today.year, today.year - 1)]
    if mod in ("last", "this past"):
        done = [s for s in spans if s[1] <= today]
        return span(*done[0], "named_period")
    if mod == "this":
        current = [s for s in spans if s[0] <= today < s[1]]
        current = current or [s for s in spans if s[0].year == today.year]
        return span(*current[0], "named_period") if current else None
    started = [s for s in spans if s[0] <= today]
    return span(*started[0], "named_period")


HOLIDAY = re.compile(
    r"\b(?P<mod>on|at|over|during|around|since|last|this\s+past|this|for)\s+(?:the\s+)?"
    rf"(?P<hol>{HOLIDAY_RE})\b",
    re.I,
)


def _holiday(m: re.Match[str], now: datetime) -> Span | None:
    today = now.date()
    strict = m.group("mod").lower().startswith(("last", "this past"))
    for y in (today.year, today.year - 1):
        days = holiday(m.group("hol"), y)
        if days and (days[0] < today or (days[0] == today and not strict)):
            return span(*days, "absolute")
    return None


CALENDAR_RULES: list[tuple[re.Pattern[str], Resolver]] = [
    (ISO_DATE, _iso),
    (US_DATE, _us),
    (MONTH_DAY, _month_day),
    (DAY_MONTH, _month_day),
    (MONTH_YEAR, _month_year),
    (MONTH_ALONE, _month_alone),
    (YEAR, _year),
    (DECADE, _decade),
    (SEASON, _season),
    (HOLIDAY, _holiday),
]
